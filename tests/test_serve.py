"""`trede serve --embedded` (what `make run` starts): migrates, loads tenants/ and demo data, serves the regions
with their municipality counts, runs the in-process scheduler and worker, and keeps its data across restarts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import ON_POSTGRES, new_database_url
from tests.support import ROOT, free_port


def start(var_dir: Path, port: int, extra_env: dict[str, str]) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BROKER_URL", "STORAGE_URL")}
    env.update({"TREDE_VAR_DIR": str(var_dir), **extra_env})
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "trede"), "serve", "--embedded", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def wait_ready(process: subprocess.Popen, base: str, timeout: float = 90) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"trede serve exited early:\n{process.stdout.read()}")
        try:
            response = httpx.get(f"{base}/health/ready", timeout=2)
            if response.status_code == 200:
                return response
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.kill()
    raise AssertionError(f"not ready within {timeout} s:\n{process.stdout.read()}")


def stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGINT)
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise AssertionError(f"trede serve did not stop on SIGINT:\n{output}") from None
    return output


def test_embedded_platform_serves_regions_and_keeps_data_across_restarts(tmp_path):
    var_dir = tmp_path / "var"
    extra = {"DATABASE_URL": new_database_url()} if ON_POSTGRES else {}
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    process = start(var_dir, port, extra)
    try:
        ready = wait_ready(process, base)
        assert ready.json()["status"] == "ok"
        page = httpx.get(f"{base}/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        html = page.text
        assert '<html lang="nl"' in html
        for slug, name, count in [
            ("zuid-limburg", "Jeugdhulp Zuid-Limburg", 16),
            ("west-brabant-west", "Jeugdhulp West-Brabant West", 9),
            ("lekstroom", "Jeugdhulp Lekstroom", 5),
        ]:
            row = html.split(f'data-region="{slug}"', 1)[1].split("</tr>", 1)[0]
            assert name in row
            assert (
                f'<td class="utrecht-table__cell utrecht-table__cell--numeric" data-municipalities>{count}</td>' in row
            )
        api = httpx.get(f"{base}/api/v1/regions").json()
        assert {r["slug"]: r["municipalities"] for r in api} == {
            "zuid-limburg": 16, "west-brabant-west": 9, "lekstroom": 5,
        }  # fmt: skip
        css = httpx.get(f"{base}/static/utrecht/index.css")
        assert css.status_code == 200 and ".utrecht-table" in css.text
        assert httpx.get(f"{base}/static/htmx/htmx.min.js").status_code == 200
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    finally:
        first_output = stop(process)
    demo = "Demo data: added 5 providers, 6 escalations and 3 signals to triage, 2 documents and evidence."
    assert demo in first_output
    if not ON_POSTGRES:
        assert (var_dir / "trede.sqlite3").exists()
        assert (var_dir / "secret_key").exists()

    process = start(var_dir, port, extra)
    try:
        wait_ready(process, base)
        assert len(httpx.get(f"{base}/api/v1/regions").json()) == 3
    finally:
        second_output = stop(process)
    assert "Demo data: skipped" in second_output
    assert "tenants: zuid-limburg: unchanged" in second_output


def test_make_run_serves_on_the_port_it_is_given(tmp_path):
    """`make run PORT=…`: Trede, its links and the local OpenID provider's redirect all follow the chosen port."""
    port, op_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BROKER_URL", "STORAGE_URL", "BASE_URL")}
    env["TREDE_VAR_DIR"] = str(tmp_path / "var")
    if ON_POSTGRES:
        env["DATABASE_URL"] = new_database_url()
    process = subprocess.Popen(
        ["make", "--no-print-directory", "-o", "install", "run", f"PORT={port}", f"DEV_OP_PORT={op_port}",
         f"BIN={Path(sys.executable).parent}"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip  # -o install: the packages are installed already (this test is about the run recipe)
    try:
        wait_ready(process, base)
        login = httpx.get(f"{base}/inloggen/dev", follow_redirects=False)
        assert login.status_code in (302, 303)
        target = httpx.URL(login.headers["location"])
        assert (target.host, target.port) == ("127.0.0.1", op_port)
        assert target.params["redirect_uri"] == f"{base}/auth/callback/dev"
        assert httpx.get(str(target), follow_redirects=False).status_code in (302, 303)  # the OP knows that address
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            raise AssertionError(f"make run did not stop on SIGINT:\n{output}") from None
