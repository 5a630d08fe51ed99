"""In a real browser (Debian's chromium via Playwright), against a real `trede serve --embedded` and the local
OpenID provider: a purchasing team member of Zuid-Limburg, a provider user and a municipality member each log in
and see only their own world; the pages added for login pass axe-core (WCAG 2.1 A/AA); logout ends both sessions.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.accounts.support import provider_settings, start_dev_op
from tests.conftest import ON_POSTGRES, new_database_url
from tests.support import ROOT, free_port
from tests.test_serve import stop, wait_ready

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """The dev OP and `trede serve --embedded` configured for it, as `make run` does."""
    assert os.path.exists(CHROMIUM), "Debian's chromium is missing: `make browser` installs it"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    op = start_dev_op([f"{base}/auth/callback/dev"], [f"{base}/"])
    var_dir = tmp_path_factory.mktemp("var")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BROKER_URL", "STORAGE_URL")}
    env.update({
        "TREDE_VAR_DIR": str(var_dir), "BASE_URL": base,
        "OIDC_PROVIDERS": json.dumps([provider_settings(op.issuer)]),
    })  # fmt: skip
    if ON_POSTGRES:
        env["DATABASE_URL"] = new_database_url()
    server = subprocess.Popen(
        [str(shutil.which("trede", path=os.path.dirname(sys.executable))), "serve", "--embedded", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_ready(server, base)
        yield base, op
    finally:
        output = stop(server)
        op.stop()
        assert "Demo accounts: 8 added" in output, output[-3000:]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def assert_accessible(page) -> None:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: "tag",
               values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})"""
    )
    problems = [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in result["violations"]]
    assert problems == [], f"{page.url}: {problems}"


def log_in(page, base: str, person: str) -> None:
    page.goto(f"{base}/werkruimte")
    assert page.url == f"{base}/inloggen?next=/werkruimte"  # no session: to the login page
    assert_accessible(page)
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
        assert_accessible(page)
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
        assert_accessible(page)
        response = page.goto(f"{base}/bestaat-niet")
        assert response.status == 404 and "Niet gevonden" in page.locator("h1").inner_text()
        assert_accessible(page)
    finally:
        context.close()
