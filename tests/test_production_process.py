"""The real `trede serve` process as production runs it (TREDE_ENV=production): its output is JSON log lines
only, each request has exactly one access line with its request id and region."""

from __future__ import annotations

import http.cookiejar
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from apps.accounts.ratelimit import LIMITS
from tests.accounts.support import provider_settings, start_dev_op
from tests.conftest import ON_POSTGRES, new_database_url
from tests.support import ROOT, free_port
from tests.test_serve import wait_ready


@dataclass
class Served:
    base: str
    process: subprocess.Popen
    log_path: Path
    database_url: str

    def output(self) -> str:
        return self.log_path.read_text()


@contextmanager
def served(
    tmp_path: Path, *, port: int | None = None, extra_env: dict[str, str] | None = None, oidc_issuer: str = ""
) -> Iterator[Served]:
    """`trede serve --embedded` with TREDE_ENV=production on a fresh database; stopped (SIGINT) on exit."""
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    var_dir = tmp_path / "var"
    database = new_database_url() if ON_POSTGRES else f"sqlite:///{var_dir / 'trede.sqlite3'}"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BROKER_URL", "STORAGE_URL",
                                                              "FORWARDED_ALLOW_IPS", "METRICS_TOKEN")}  # fmt: skip
    env.update({"TREDE_VAR_DIR": str(var_dir), "TREDE_ENV": "production", "BASE_URL": base, "DATABASE_URL": database,
                "OIDC_PROVIDERS": json.dumps([provider_settings(oidc_issuer)] if oidc_issuer else []),
                **(extra_env or {})})  # fmt: skip
    var_dir.mkdir(parents=True, exist_ok=True)
    log_path = tmp_path / "serve.log"
    with open(log_path, "w") as log:  # a file, not a pipe: a full pipe would block the server
        process = subprocess.Popen(
            [str(shutil.which("trede", path=os.path.dirname(sys.executable))), "serve", "--embedded",
             "--port", str(port)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            try:
                wait_ready(process, base)
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{log_path.read_text()[-3000:]}") from None
            yield Served(base, process, log_path, database)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def plain_http_sends_secure_cookies(monkeypatch) -> None:
    """Production cookies are Secure; the test talks plain HTTP to 127.0.0.1, where a TLS proxy would."""
    monkeypatch.setattr(http.cookiejar.DefaultCookiePolicy, "return_ok_secure", lambda self, cookie, request: True)


def test_production_output_is_json_lines_with_one_access_line_per_request(tmp_path, monkeypatch):
    plain_http_sends_secure_cookies(monkeypatch)
    # the OP needs the redirect URI before Trede starts, so Trede's port is chosen first
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    op = start_dev_op([f"{base}/auth/callback/dev"], [f"{base}/"])
    try:
        with served(tmp_path, port=port, oidc_issuer=op.issuer) as server, httpx.Client(timeout=20) as http_client:
            assert http_client.get(f"{base}/health/live", headers={"X-Request-ID": "live-1"}).status_code == 200
            assert http_client.get(f"{base}/", headers={"X-Request-ID": "home-1"}).status_code == 200
            login = http_client.get(
                f"{base}/inloggen/dev",
                params={"login_hint": "zl-inkoop", "next": "/regio/zuid-limburg/instroomstops"},
                follow_redirects=True,
            )
            assert login.status_code == 200 and str(login.url).endswith("/regio/zuid-limburg/instroomstops")
            page = http_client.get(f"{base}/regio/zuid-limburg/instroomstops", headers={"X-Request-ID": "regio-1"})
            assert page.status_code == 200
        output = server.output()
    finally:
        op.stop()

    lines = [line for line in output.splitlines() if line.strip()]
    assert lines, "the process wrote nothing"
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            raise AssertionError(f"not a JSON log line: {line!r}") from None
    assert all({"time", "level", "logger", "message", "request_id", "region"} <= set(r) for r in records)
    assert not [r for r in records if r["logger"] == "uvicorn.access"]
    access = [r for r in records if r["logger"] == "trede.access"]
    expected = [("live-1", "/health/live"), ("home-1", "/"), ("regio-1", "/regio/zuid-limburg/instroomstops")]
    for request_id, path in expected:
        [line] = [r for r in access if r["request_id"] == request_id]
        assert line["path"] == path and line["status"] == 200
    [regio] = [r for r in access if r["request_id"] == "regio-1"]
    assert regio["region"] == "zuid-limburg"
    # the start-up report and uvicorn's own lines are log lines as well
    assert any(r["logger"] == "trede" and r["message"].startswith("Trede serves at") for r in records)
    assert any(r["logger"].startswith("uvicorn") and "startup complete" in r["message"] for r in records)
    # one access line per request, also for the login's redirects: no request logged twice
    ids = [r["request_id"] for r in access]
    assert len(ids) == len(set(ids))


def login_attempts(base: str, forwarded_for: str, count: int) -> list[int]:
    """Start a login (an unknown provider: the rate limit counts before the provider is looked up)."""
    with httpx.Client(timeout=20) as client:
        return [
            client.get(f"{base}/inloggen/onbekend", headers={"X-Forwarded-For": forwarded_for}).status_code
            for _ in range(count)
        ]


def test_behind_a_trusted_proxy_the_login_limit_counts_each_forwarded_client(tmp_path):
    limit, _ = LIMITS["login"]
    with served(tmp_path, extra_env={"FORWARDED_ALLOW_IPS": "127.0.0.1"}) as server:
        first = login_attempts(server.base, "203.0.113.10", limit + 1)
        other = login_attempts(server.base, "198.51.100.7", 1)
        output = server.output()
    assert 429 not in first[:limit] and first[limit] == 429
    assert other == [404]  # another person behind the same proxy still has her own bucket
    access = [json.loads(line) for line in output.splitlines() if '"trede.access"' in line]
    assert {line["client"] for line in access if line["path"] == "/inloggen/onbekend"} == {
        "203.0.113.10", "198.51.100.7"
    }  # fmt: skip


def test_without_a_trusted_proxy_a_forwarded_header_gives_no_fresh_bucket(tmp_path):
    limit, _ = LIMITS["login"]
    with served(tmp_path) as server:  # FORWARDED_ALLOW_IPS unset: no proxy is believed, not even 127.0.0.1
        first = login_attempts(server.base, "203.0.113.10", limit)
        changed = login_attempts(server.base, "198.51.100.7", 1)
        output = server.output()
    assert 429 not in first
    assert changed == [429]
    access = [json.loads(line) for line in output.splitlines() if '"trede.access"' in line]
    assert {line["client"] for line in access if line["path"] == "/inloggen/onbekend"} == {"127.0.0.1"}
