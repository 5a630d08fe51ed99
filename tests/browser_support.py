"""What the browser tests share: a running platform as `make run` starts it (the local OpenID provider and
`trede serve --embedded`), Debian's chromium driven by Playwright, the checks of every page visited (axe-core, the
W3C Nu HTML Checker, plain Dutch), logging in, screenshots.

Every page a browser test checks with ``assert_accessible`` or ``check_page`` is also kept for the Nu HTML Checker
(npm ``vnu-jar`` with the machine's Java): the HTML as the server sent it (the newest document of the page) and the
page as it is now (after htmx swaps). Starting Java takes seconds, so the pages are collected and checked once per
test module, in one run of the checker (``NU``, asserted by the autouse fixture in ``tests/conftest.py``).
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.accounts.support import DevOP, provider_settings, start_dev_op
from tests.conftest import ON_POSTGRES, new_database_url
from tests.plain_dutch import leaks, visible_text
from tests.support import ROOT, free_port
from tests.test_serve import wait_ready

CHROMIUM = "/usr/bin/chromium"  # Debian's chromium; never a downloaded browser build
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
# The checker's schemas recurse deeply (a larger thread stack); one short run needs no optimising compiler: with
# C1 only and the serial collector a module's pages take ~3 s instead of ~10 s on two cores.
NU_JAVA_OPTIONS = ("-Xss16m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
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
        new_context = browser.new_context

        def remembering_context(*args, **kwargs):
            context = new_context(*args, **kwargs)
            context.on("response", _remember_document)  # the HTML as sent, for the Nu HTML Checker
            return context

        browser.new_context = remembering_context
        try:
            yield browser
        finally:
            browser.close()


_DOCUMENTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # page -> the response of its current document


def _remember_document(response) -> None:
    frame = response.frame
    if (
        response.request.resource_type == "document" and frame.parent_frame is None
        and not 300 <= response.status < 400 and "text/html" in response.headers.get("content-type", "")
    ):  # fmt: skip
        _DOCUMENTS[frame.page] = response


class NuChecker:
    """Pages kept as files, checked by the W3C Nu HTML Checker in one Java start (``errors``)."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.files: dict[str, str] = {}  # file name -> what it is ("<url> (as sent)", "<url> (now)")
        self.checked_responses: set[int] = set()

    def add(self, html: str, what: str) -> None:
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="nu-"))
        name = f"{hashlib.sha256(html.encode()).hexdigest()[:16]}.html"
        if name not in self.files:
            (self.folder / name).write_text(html)
            self.files[name] = what

    def add_page(self, page) -> None:
        """The page's document as the server sent it (once) and the page as it is now."""
        response = _DOCUMENTS.get(page)
        if response is not None and id(response) not in self.checked_responses:
            self.checked_responses.add(id(response))
            self.add(response.text(), f"{response.url} (zoals verstuurd, {response.request.method})")
        self.add(page.content(), f"{page.url} (zoals nu getoond)")

    def errors(self) -> list[str]:
        """The checker's errors over every page kept since the last call ("<page>:<line>: <message>")."""
        if not self.files:
            return []
        assert VNU.exists(), "the Nu HTML Checker is missing: `make install` installs npm's vnu-jar"
        folder, files = self.folder, self.files
        self.folder, self.files, self.checked_responses = None, {}, set()
        try:
            run = subprocess.run(
                ["java", *NU_JAVA_OPTIONS, "-jar", str(VNU), "--format", "json", "--errors-only", "--exit-zero-always",
                 *(str(folder / name) for name in files)],
                capture_output=True, text=True, timeout=600,
            )  # fmt: skip
            messages = json.loads(run.stderr or run.stdout)["messages"]
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return [
            f"{files.get(Path(m.get('url', '')).name, m.get('url', ''))}:{m.get('lastLine', '?')}: {m['message']}"
            f" [{m.get('extract', '').strip()[:120]}]"
            for m in messages
            if m.get("type") in ("error", "non-document-error")
        ]


NU = NuChecker()  # the pages the current test module visited; tests/conftest.py checks them at the module's end


def assert_accessible(page) -> None:
    """axe-core finds no WCAG 2.1 A/AA violation on the page as it is now; the page is kept for the Nu HTML
    Checker (its errors fail the test module)."""
    NU.add_page(page)
    script = page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: "tag",
               values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})"""
    )
    script.evaluate("element => element.remove()")  # not part of the page the next check keeps
    problems = [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in result["violations"]]
    assert problems == [], f"{page.url}: {problems}"


def assert_plain_dutch(page, known_keys: Iterable[str] = ()) -> None:
    """The page's visible text holds no code keys, English states, Python values, raw ids, paths or source
    references (``tests.plain_dutch``)."""
    found = leaks(visible_text(page.content()), frozenset(known_keys))
    assert found == [], f"{page.url}: {sorted(set(found))}"


def check_page(page, known_keys: Iterable[str] = ()) -> None:
    """All three checks of a page people read: axe-core, the Nu HTML Checker (at the module's end), plain Dutch."""
    assert_plain_dutch(page, known_keys)
    assert_accessible(page)


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
