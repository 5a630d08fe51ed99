"""What the browser tests share: a running platform as `make run` starts it (the local OpenID provider and
`trede serve --embedded`), Debian's chromium driven by Playwright, axe-core, logging in, screenshots."""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.accounts.support import DevOP, provider_settings, start_dev_op
from tests.conftest import ON_POSTGRES, new_database_url
from tests.support import ROOT, free_port
from tests.test_serve import wait_ready

CHROMIUM = "/usr/bin/chromium"  # Debian's chromium; never a downloaded browser build
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"  # screenshots for review (git-ignored)


@dataclass
class RunningPlatform:
    base: str
    op: DevOP
    env: dict[str, str]  # the server's environment (a seeding script run with it reaches the same database)
    var_dir: Path
    database_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text()


@contextmanager
def running_platform(tmp_path_factory) -> Iterator[RunningPlatform]:
    """The dev OP and `trede serve --embedded` configured for it, on a fresh database of the suite's kind."""
    assert os.path.exists(CHROMIUM), "Debian's chromium is missing: `make browser` installs it"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    op = start_dev_op([f"{base}/auth/callback/dev"], [f"{base}/"])
    var_dir = tmp_path_factory.mktemp("var")
    database = new_database_url() if ON_POSTGRES else f"sqlite:///{var_dir / 'trede.sqlite3'}"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BROKER_URL", "STORAGE_URL")}
    env.update({"TREDE_VAR_DIR": str(var_dir), "BASE_URL": base, "DATABASE_URL": database,
                "OIDC_PROVIDERS": json.dumps([provider_settings(op.issuer)])})  # fmt: skip
    log_path = var_dir / "serve.log"
    log = open(log_path, "w")  # noqa: SIM115 - a file, not a pipe: a full pipe would block the server
    server = subprocess.Popen(
        [str(shutil.which("trede", path=os.path.dirname(sys.executable))), "serve", "--embedded", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_ready(server, base)
        yield RunningPlatform(base, op, env, var_dir, database, log_path)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
            raise AssertionError(f"trede serve did not stop on SIGINT:\n{log_path.read_text()[-3000:]}") from None
        finally:
            log.close()
            op.stop()


@contextmanager
def chromium() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def assert_accessible(page) -> None:
    """axe-core finds no WCAG 2.1 A/AA violation on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: "tag",
               values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})"""
    )
    problems = [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in result["violations"]]
    assert problems == [], f"{page.url}: {problems}"


def log_in(page, base: str, person: str, path: str) -> None:
    """Open ``path``, log in as ``person`` through the dev OP's account list, and land on ``path`` again."""
    page.goto(f"{base}{path}")
    page.get_by_role("link", name="Inloggen met de lokale OpenID-provider").click()
    page.get_by_role("button", name=person).click()
    page.wait_for_url(f"{base}{path}")


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def mailed_link(var_dir: Path, to: str, path: str = "/uitnodiging/", seconds: float = 30) -> str:
    """The link the person ``to`` finds in the newest e-mail sent to them, read from the development mailbox of the
    embedded platform (var/mail): the outbox drops a secret link once its mail has gone."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for mail in sorted((var_dir / "mail").glob("**/*.eml"), key=lambda p: p.stat().st_mtime, reverse=True):
            message = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
            if to.lower() not in str(message.get("To", "")).lower():
                continue
            text = " ".join(part.get_content() for part in message.walk() if part.get_content_maintype() == "text")
            found = re.search(rf"https?://[^\s\"<>]+{re.escape(path)}[^\s\"<>]+", text)
            if found:
                return found.group(0)
        time.sleep(0.2)
    raise AssertionError(f"no e-mail to {to} with a link to {path}")
