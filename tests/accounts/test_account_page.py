"""Mijn gegevens: a signed-in person turns the daily digest on and off (CSRF-protected form, audited)."""

from __future__ import annotations

from apps.accounts.tables import User
from apps.audit.tables import AuditEntry
from tests.accounts.support import app_client, csrf_headers, login


async def test_turning_the_daily_digest_on_and_off(world, oidc_settings):
    async with app_client(oidc_settings) as http:
        assert (await http.get("/account")).status_code in (303, 302)  # not signed in: to the login page
        await login(http, "zl-inkoop", next_path="/account")
        page = await http.get("/account")
        assert page.status_code == 200 and "Dagoverzicht per e-mail" in page.text and "checked" not in page.text
        refused = await http.post("/account", data={"dagoverzicht": "ja"})
        assert refused.status_code == 403  # no CSRF token
        saved = await http.post("/account", data={"dagoverzicht": "ja"}, headers=csrf_headers(http))
        assert saved.status_code == 303 and saved.headers["location"] == "/account?saved=true"
        user = await User.objects().where(User.email == "i.inkoop@zuid-limburg.localhost").first()
        assert user.digest_opt_in is True
        assert "Uw keuze is opgeslagen" in (await http.get("/account?saved=true")).text
        await http.post("/account", data={}, headers=csrf_headers(http))
        assert (await User.objects().where(User.id == user.id).first()).digest_opt_in is False
    actions = await AuditEntry.select(AuditEntry.action).where(AuditEntry.action == "account.digest")
    assert len(actions) == 2
