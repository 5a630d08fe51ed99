"""Stateless web processes: two `trede serve` processes against one database, one broker (Redis) and one S3
endpoint behave as one. A session made on the first works on the second, a file uploaded through the first
downloads through the second, and the notice the upload causes shows under the bell on the second."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
from moto.server import ThreadedMotoServer

from tests.accounts.support import provider_settings, start_dev_op
from tests.conftest import new_database_url
from tests.support import ROOT, free_port, make_settings_env

TREDE = str(Path(sys.executable).parent / "trede")
PDF = b"%PDF-1.7\n" + b"plan van aanpak " * 2000


def run(args: list[str], env: dict) -> None:
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def wait_ready(base: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(log.read_text()[-3000:])


def test_two_web_processes_share_sessions_uploads_and_notices(tmp_path):
    s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    s3.start()
    host, s3_port = s3.get_host_and_port()
    ports = [free_port(), free_port()]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    op = start_dev_op([f"{base}/auth/callback/dev" for base in bases], [f"{base}/" for base in bases])
    processes: list[subprocess.Popen] = []
    try:
        env = {**os.environ, **make_settings_env(
            tmp_path, DATABASE_URL=new_database_url(), BROKER_URL="redis://127.0.0.1:6379/5",
            STORAGE_URL=f"s3+http://test:test@{host}:{s3_port}/trede-twee?region=us-east-1",
            OIDC_PROVIDERS=json.dumps([provider_settings(op.issuer)]),
        )}  # fmt: skip
        from core.storage import storage_from_url

        storage_from_url(env["STORAGE_URL"]).ensure_bucket()
        run([TREDE, "migrate"], env)
        run([TREDE, "tenants", "sync"], env)
        setup = textwrap.dedent(f"""
            import asyncio
            from core.demo import ensure_demo_accounts, load_demo_data
            from core.storage import storage_from_url
            async def main():
                await load_demo_data(storage_from_url({env["STORAGE_URL"]!r}))
                await ensure_demo_accounts({op.issuer!r})
            asyncio.run(main())
        """)  # fmt: skip
        run([sys.executable, "-c", setup], env)
        for port, base in zip(ports, bases, strict=True):
            log = tmp_path / f"web-{port}.log"
            processes.append(subprocess.Popen(
                [TREDE, "serve", "--port", str(port)], cwd=ROOT, env={**env, "BASE_URL": base},
                stdout=log.open("w"), stderr=subprocess.STDOUT,
            ))  # fmt: skip
            wait_ready(base, processes[-1], log)
        first, second = bases

        with httpx.Client(follow_redirects=True, timeout=20) as vera:
            # The session is made by the first process ...
            vera.get(f"{first}/inloggen/dev", params={"login_hint": "vlinder-medewerker", "next": "/portaal"})
            # ... and read by the second from the shared database.
            portal = vera.get(f"{second}/portaal")
            assert portal.status_code == 200 and "Vera Vlinder" in portal.text
            escalation_id = re.search(r"/portaal/escalaties/([0-9a-f-]{36})", portal.text).group(1)

            uploaded = vera.post(
                f"{first}/portaal/escalaties/{escalation_id}/documenten",
                data={"_csrf_token": vera.cookies.get("csrftoken"), "soort": "reactie"},
                files={"bestand": ("reactie-twee-processen.pdf", PDF, "application/pdf")},
                headers={"accept": "text/html"}, follow_redirects=False,
            )  # fmt: skip
            assert uploaded.status_code == 303, uploaded.text[-2000:]
            page = vera.get(f"{second}/portaal/escalaties/{escalation_id}")
            link = r'href="(/portaal/documenten/[0-9a-f-]{36})"[^>]*>\s*reactie-twee-processen\.pdf'
            match = re.search(link, page.text)
            assert match, page.text[-3000:]
            download = vera.get(f"{second}{match.group(1)}")
            assert download.status_code == 200 and download.content == PDF

        with httpx.Client(follow_redirects=True, timeout=20) as ilse:
            ilse.get(f"{second}/inloggen/dev", params={"login_hint": "zl-inkoop", "next": "/meldingen"})
            notices = ilse.get(f"{second}/meldingen")
            assert "Document ontvangen bij" in notices.text and "Jeugdzorg De Vlinder" in notices.text
            assert "ongelezen" in ilse.get(f"{first}/werkruimte").text  # the bell, on the other process
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        op.stop()
        s3.stop()
