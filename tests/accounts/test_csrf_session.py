"""Issue 21 points 4 and 5: the CSRF token belongs to one server-side session; no session id chosen by the client;
private pages and API answers are not cached."""

from __future__ import annotations

import re

import httpx

from apps.accounts.tables import User, WebSession
from tests.accounts.support import TEST_BASE, app_client, csrf_headers, login

FORM_TOKEN = re.compile(r'name="_csrf_token" value="([0-9a-f]+)"')


async def digest_of(subject: str) -> bool:
    return (await User.select(User.digest_opt_in).where(User.subject == subject).first())["digest_opt_in"]


async def test_an_anonymous_visitors_token_does_not_pass_with_a_victims_session(world, oidc_settings):
    async with app_client(oidc_settings) as victim, app_client(oidc_settings) as attacker:
        await attacker.get("/")
        anonymous_token = attacker.cookies.get("csrftoken")
        assert anonymous_token
        await login(victim, "zl-inkoop")
        session = victim.cookies.get("trede_session")
        before = await digest_of("zl-inkoop")
        transplant = f"trede_session={session}; csrftoken={anonymous_token}"
        async with httpx.AsyncClient(
            base_url=TEST_BASE, transport=httpx.ASGITransport(app=victim.app), timeout=20
        ) as forger:  # no cookie jar: sends exactly the victim's session with the attacker's pair
            by_header = await forger.post("/account", data={"dagoverzicht": "ja" if not before else ""},
                                          headers={"cookie": transplant, "x-csrftoken": anonymous_token})  # fmt: skip
            by_field = await forger.post("/account", headers={"cookie": transplant},
                                         data={"_csrf_token": anonymous_token, "dagoverzicht": "ja"})  # fmt: skip
            by_htmx = await forger.post("/meldingen/gelezen", headers={"cookie": transplant, "hx-request": "true",
                                                                       "x-csrftoken": anonymous_token})  # fmt: skip
        assert (by_header.status_code, by_field.status_code, by_htmx.status_code) == (403, 403, 403)
        assert await digest_of("zl-inkoop") == before  # nothing changed

        # Another signed-in person's own token does not pass with the victim's session either.
        async with app_client(oidc_settings) as other:
            await login(other, "zl-inkoop")
            own = other.cookies.get("csrftoken")
            async with httpx.AsyncClient(base_url=TEST_BASE, transport=httpx.ASGITransport(app=victim.app)) as forger:
                crossed = await forger.post("/account", data={"dagoverzicht": "ja"},
                                            headers={"cookie": f"trede_session={session}", "x-csrftoken": own})
            assert crossed.status_code == 403


async def test_the_forms_and_htmx_posts_of_the_session_pass(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop")
        page = await http.get("/account")
        form_token = FORM_TOKEN.search(page.text).group(1)
        assert f'"x-csrftoken": "{form_token}"' in page.text  # htmx sends the same token as the forms
        saved = await http.post("/account", data={"_csrf_token": form_token, "dagoverzicht": "ja"})
        assert saved.status_code == 303 and await digest_of("zl-inkoop") is True
        swapped = await http.post("/meldingen/gelezen", headers={**csrf_headers(http), "hx-request": "true"})
        assert swapped.status_code < 400
        # The cookie is not needed: the token in the form is checked against the session.
        http.cookies.delete("csrftoken")
        again = await http.post("/account", data={"_csrf_token": form_token})
        assert again.status_code == 303 and await digest_of("zl-inkoop") is False


async def test_login_and_logout_rotate_the_token(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        await http.get("/")
        anonymous = http.cookies.get("csrftoken")
        await login(http, "zl-inkoop")
        first = http.cookies.get("csrftoken")
        assert first and first != anonymous
        assert (await http.post("/account", headers={"x-csrftoken": anonymous})).status_code == 403
        assert (await http.post("/uitloggen", headers={"x-csrftoken": first})).status_code == 303
        await login(http, "zl-inkoop")
        second = http.cookies.get("csrftoken")
        assert second != first
        stale = await http.post("/account", data={"dagoverzicht": "ja"}, headers={"x-csrftoken": first})
        fresh = await http.post("/account", data={"dagoverzicht": "ja"}, headers={"x-csrftoken": second})
        assert (stale.status_code, fresh.status_code) == (403, 303)


async def test_a_session_id_chosen_by_the_client_is_never_stored(world, oidc_settings):
    planted = "attacker-chosen-session-id"
    async with app_client(oidc_settings) as http:
        # the login keeps state in the session
        started = await http.get("/inloggen/dev", headers={"cookie": f"trede_session={planted}"})
        assert started.status_code == 302
        assert http.cookies.get("trede_session") not in (None, planted)
        assert await WebSession.count().where(WebSession.key == planted) == 0
        pending = http.cookies.get("trede_session")
        await login(http, "zl-inkoop")
        signed_in = http.cookies.get("trede_session")
        assert signed_in not in (planted, pending)  # a new id at login
        assert await WebSession.count().where(WebSession.key.is_in([planted, pending])) == 0


async def test_private_pages_and_api_answers_are_not_cached_public_ones_may_be(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop")
        for path in ("/werkruimte", "/account", "/regio/zuid-limburg", "/api/v1/regions/zuid-limburg/escalations"):
            response = await http.get(path)
            assert response.status_code == 200 and response.headers.get("cache-control") == "no-store", path
        for path in ("/", "/static/trede/trede.css", "/api/v1/regions"):
            response = await http.get(path)
            assert response.status_code == 200, path
            assert "no-store" not in response.headers.get("cache-control", ""), path
