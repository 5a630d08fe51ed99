"""Benchmark: a 1 GB upload through Trede's portal, against a raw minio ``put_object`` of the same file to the same
S3 endpoint, in the same run.

    .venv/bin/python bench/upload.py [--size-mb 1024] [--runs 2] [--keep]

What runs (all on this machine, nothing in Docker):
- an S3 endpoint: moto's server (``moto_server``) in its own process;
- the local OpenID provider (infra/oidc-dev, node) and a real ``trede serve`` web process (uvicorn) on a scratch
  SQLite database with the demo data, storing objects in that S3 endpoint;
- a 1 GB file written in a temporary folder (streamed, never in memory; a PDF header so the type check accepts it).

Then one untimed raw put (a fresh moto server is slow at its first large object), and per run (the order
alternates between runs; the summary gives medians):
- raw: ``Minio.put_object`` of the file, length known, with Trede's part size and one upload at a time (what
  ``core.storage.S3Storage`` uses), i.e. the floor for the same bytes to the same endpoint;
- trede: Vera Vlinder (logged in through the OpenID provider) posts the file as a multipart form to
  ``/portaal/escalaties/<id>/documenten``: the real route with its CSRF check, type sniffing, size limit, SHA-256
  while streaming, and the document row and timeline event it writes.

Prints both durations, MB/s, the ratio trede/raw (time; 1.0 = as fast as the raw put) and the web process's peak
resident memory (VmHWM from /proc/<pid>/status) before and after the upload. Both objects are checked (size) and
deleted after each run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MB = 1024 * 1024
BUCKET = "trede-bench"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_file(path: Path, size: int) -> None:
    """A PDF-looking file of ``size`` bytes, written in 8 MiB chunks of random bytes (nothing compresses it)."""
    head, tail = b"%PDF-1.7\n%bench\n", b"\n%%EOF\n"
    chunk = os.urandom(8 * MB)
    with open(path, "wb") as out:
        out.write(head)
        left = size - len(head) - len(tail)
        while left > 0:
            piece = chunk[: min(left, len(chunk))]
            out.write(piece)
            left -= len(piece)
        out.write(tail)


def peak_rss_mb(pid: int) -> tuple[float, float]:
    """(VmHWM, VmRSS) of a process in MiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmHWM:", "VmRSS:")):
            name, amount, _unit = line.split()
            values[name.rstrip(":")] = int(amount) / 1024
    return values["VmHWM"], values["VmRSS"]


def wait_http(url: str, process: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args[0]} exited:\n{log.read_text()[-3000:]}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer:\n{log.read_text()[-3000:]}")


def run(args: list[str], env: dict) -> None:
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="file size in MiB (default 1024 = 1 GB)")
    parser.add_argument("--runs", type=int, default=2, help="raw + trede pairs to time (default 2, order alternates)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs) afterwards")
    options = parser.parse_args()

    import httpx
    from minio import Minio

    from core.storage import PART_SIZE
    from tests.accounts.support import provider_settings, start_dev_op

    size = options.size_mb * MB
    work = Path(tempfile.mkdtemp(prefix="trede-bench-upload-"))
    trede = str(Path(sys.executable).parent / "trede")
    processes: list[subprocess.Popen] = []
    op = None
    try:
        s3_port, web_port = free_port(), free_port()
        s3_log = work / "moto.log"
        processes.append(subprocess.Popen(
            [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(s3_port)],
            stdout=s3_log.open("w"), stderr=subprocess.STDOUT,
        ))  # fmt: skip
        wait_http(f"http://127.0.0.1:{s3_port}/", processes[-1], s3_log)
        client = Minio(f"127.0.0.1:{s3_port}", access_key="bench", secret_key="bench", secure=False,
                       region="us-east-1")  # fmt: skip
        client.make_bucket(BUCKET)

        base = f"http://127.0.0.1:{web_port}"
        op = start_dev_op([f"{base}/auth/callback/dev"], [f"{base}/"])
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "STORAGE_URL", "BROKER_URL")},
            "TREDE_ENV": "development",
            "DATABASE_URL": f"sqlite:///{work / 'trede.sqlite3'}",
            "BROKER_URL": "stub://",
            "STORAGE_URL": f"s3+http://bench:bench@127.0.0.1:{s3_port}/{BUCKET}?region=us-east-1",
            "SMTP_URL": "smtp://127.0.0.1:2525",
            "MAIL_FROM": "Trede bench <bench@example.org>",
            "SECRET_KEY": "b" * 48,
            "BASE_URL": base,
            "TENANTS_DIR": str(ROOT / "tenants"),
            "TREDE_VAR_DIR": str(work / "var"),
            "UPLOAD_MAX_BYTES": str(size + 16 * MB),
            "OIDC_PROVIDERS": json.dumps([provider_settings(op.issuer)]),
        }
        run([trede, "migrate"], env)
        run([trede, "tenants", "sync"], env)
        run([sys.executable, "-c", textwrap.dedent(f"""
            import asyncio
            from core.demo import ensure_demo_accounts, load_demo_data
            from core.storage import storage_from_url
            async def main():
                await load_demo_data(storage_from_url({env["STORAGE_URL"]!r}))
                await ensure_demo_accounts({op.issuer!r})
            asyncio.run(main())
        """)], env)  # fmt: skip
        web_log = work / "serve.log"
        web = subprocess.Popen([trede, "serve", "--port", str(web_port)], cwd=ROOT, env=env,
                               stdout=web_log.open("w"), stderr=subprocess.STDOUT)  # fmt: skip
        processes.append(web)
        wait_http(f"{base}/health/ready", web, web_log)

        path = work / "upload-1gb.pdf"
        started = time.perf_counter()
        write_file(path, size)
        print(f"file: {size / MB:.0f} MiB written in {time.perf_counter() - started:.1f} s ({path})", flush=True)

        vera = httpx.Client(timeout=None, follow_redirects=True)
        vera.get(f"{base}/inloggen/dev", params={"login_hint": "vlinder-medewerker", "next": "/portaal"})
        portal = vera.get(f"{base}/portaal/")
        found = re.search(r"/portaal/escalaties/([0-9a-f-]{36})", portal.text)
        if portal.status_code != 200 or not found:
            raise SystemExit(f"login or portal failed: {portal.status_code} {portal.text[:500]}")
        escalation_id = found.group(1)

        raw_times, trede_times, peaks = [], [], []

        def raw_put(number: int) -> None:
            with open(path, "rb") as handle:
                started = time.perf_counter()
                client.put_object(BUCKET, f"raw/run-{number}", handle, length=size, part_size=PART_SIZE,
                                  content_type="application/pdf", num_parallel_uploads=1)  # fmt: skip
                raw_times.append(time.perf_counter() - started)
            assert client.stat_object(BUCKET, f"raw/run-{number}").size == size
            client.remove_object(BUCKET, f"raw/run-{number}")

        def trede_upload(number: int) -> None:
            before = set(o.object_name for o in client.list_objects(BUCKET, recursive=True))
            hwm_before, _ = peak_rss_mb(web.pid)
            with open(path, "rb") as handle:
                started = time.perf_counter()
                response = vera.post(
                    f"{base}/portaal/escalaties/{escalation_id}/documenten",
                    data={"_csrf_token": vera.cookies.get("csrftoken"), "soort": "reactie"},
                    files={"bestand": (f"bench-{number}.pdf", handle, "application/pdf")},
                    headers={"accept": "text/html"}, follow_redirects=False,
                )  # fmt: skip
                trede_times.append(time.perf_counter() - started)
            if response.status_code != 303:
                raise SystemExit(f"upload through Trede failed: {response.status_code} {response.text[-1500:]}")
            hwm_after, rss_after = peak_rss_mb(web.pid)
            peaks.append((hwm_before, hwm_after, rss_after))
            new = [o for o in client.list_objects(BUCKET, recursive=True) if o.object_name not in before]
            assert len(new) == 1 and client.stat_object(BUCKET, new[0].object_name).size == size, new
            client.remove_object(BUCKET, new[0].object_name)

        # A fresh moto server is much slower at its first large object (it grows its memory): one untimed put first.
        with open(path, "rb") as handle:
            client.put_object(BUCKET, "warmup", handle, length=size, part_size=PART_SIZE, num_parallel_uploads=1)
        client.remove_object(BUCKET, "warmup")

        for number in range(1, options.runs + 1):
            # Alternate which goes first, so a slow start (or a busy neighbour) does not always hit the same one.
            for step in (raw_put, trede_upload) if number % 2 else (trede_upload, raw_put):
                step(number)
            hwm_before, hwm_after, rss_after = peaks[-1]
            print(f"run {number}: raw put {raw_times[-1]:.2f} s ({size / MB / raw_times[-1]:.0f} MiB/s), "
                  f"trede {trede_times[-1]:.2f} s ({size / MB / trede_times[-1]:.0f} MiB/s), "
                  f"ratio trede/raw {trede_times[-1] / raw_times[-1]:.2f}; web process VmHWM "
                  f"{hwm_before:.0f} → {hwm_after:.0f} MiB (VmRSS after {rss_after:.0f} MiB)", flush=True)  # fmt: skip
        vera.close()

        raw, through = statistics.median(raw_times), statistics.median(trede_times)
        print(json.dumps({
            "size_mib": size // MB, "runs": options.runs, "part_size_mib": PART_SIZE // MB,
            "raw_put_s": round(raw, 2), "raw_put_mib_s": round(size / MB / raw, 1),
            "trede_upload_s": round(through, 2), "trede_upload_mib_s": round(size / MB / through, 1),
            "ratio_time_trede_over_raw": round(through / raw, 2),
            "throughput_trede_vs_raw": round(raw / through, 2),
            "web_vmhwm_before_mib": round(peaks[0][0]), "web_vmhwm_peak_mib": round(max(p[1] for p in peaks)),
        }))  # fmt: skip
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        if op is not None:
            op.stop()
        if options.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
