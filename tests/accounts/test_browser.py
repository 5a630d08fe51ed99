"""In a real browser (Debian's chromium via Playwright), against a real `trede serve --embedded` and the local
OpenID provider: a purchasing team member of Zuid-Limburg, a provider user and a municipality member each log in
and see only their own world; the pages added for login pass axe-core (WCAG 2.1 A/AA); logout ends both sessions.
"""

from __future__ import annotations

import re

import pytest

from core.demo import dev_accounts
from tests.browser_support import check_page, running_platform


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    with running_platform(tmp_path_factory) as running:
        yield running.base, running.op
    with_roles = sum(1 for account in dev_accounts() if account.get("trede"))  # the others get theirs by KvK or invite
    assert f"Demo accounts: {with_roles} added" in running.log(), running.log()[-3000:]


def log_in(page, base: str, person: str) -> None:
    page.goto(f"{base}/werkruimte")
    assert page.url == f"{base}/inloggen?next=/werkruimte"  # no session: to the login page
    check_page(page)
    page.get_by_role("link", name="Inloggen met de lokale OpenID-provider").click()
    page.get_by_role("button", name=person).click()  # the dev OP's account list
    page.wait_for_url(f"{base}/werkruimte")


@pytest.mark.parametrize(
    ("person", "sees", "does_not_see"),
    [
        ("Ilse Inkoop", ["Jeugdhulp Zuid-Limburg", "Drie medewerkers werken zonder geldige VOG",
                         "Kwartaalrapportages Q2 en Q3 ontbreken"], ["Klachtenregeling", "Jeugdhulp Lekstroom"]),
        ("Vera Vlinder", ["Jeugdzorg De Vlinder B.V.", "Drie medewerkers werken zonder geldige VOG"],
         ["Kwartaalrapportages", "Klachtenregeling", "Stichting Samen Sterk"]),
        ("Tessa Toegang", ["Medewerker gemeente / toegang", "Drie medewerkers werken zonder geldige VOG"],
         ["Klachtenregeling", "Jeugdhulp Lekstroom"]),
    ],
)  # fmt: skip
def test_each_person_logs_in_through_the_provider_and_sees_only_their_world(platform, browser, person, sees,
                                                                            does_not_see):
    base, op = platform
    context = browser.new_context(bypass_csp=True)  # only so that axe-core can be injected
    page = context.new_page()
    try:
        log_in(page, base, person)
        text = page.locator("main").inner_text()
        assert f"Werkruimte van {person}" in text
        for expected in sees:
            assert expected in text
        for hidden in does_not_see:
            assert hidden not in text
        check_page(page)
        cookie = next(c for c in context.cookies() if c["name"] == "trede_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

        page.get_by_role("button", name="Uitloggen").click()  # POST with the CSRF token
        assert page.url.startswith(f"{op.issuer}/session/end")
        page.get_by_role("button", name="Ja, uitloggen").click()
        page.wait_for_url(re.compile(rf"^{re.escape(base)}/(\?state=[\w-]+)?$"))  # home, with the logout state
        page.goto(f"{base}/werkruimte")
        assert page.url.startswith(f"{base}/inloggen")
    finally:
        context.close()


def test_error_pages_are_dutch_and_accessible(platform, browser):
    base, _ = platform
    context = browser.new_context(bypass_csp=True)  # only so that axe-core can be injected
    page = context.new_page()
    try:
        response = page.goto(f"{base}/auth/callback/dev?state=vervalst&code=x")
        assert response.status == 400
        assert "Inloggen is niet gelukt" in page.locator("h1").inner_text()
        check_page(page)
        response = page.goto(f"{base}/bestaat-niet")
        assert response.status == 404 and "Niet gevonden" in page.locator("h1").inner_text()
        check_page(page)
    finally:
        context.close()
