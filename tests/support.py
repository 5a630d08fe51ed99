"""Helpers for tests (imported by test modules; conftest settles the database first)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_settings_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {
        "TREDE_ENV": "development",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "BROKER_URL": "stub://",
        "STORAGE_URL": f"file://{tmp_path / 'objects'}",
        "SMTP_URL": "smtp://127.0.0.1:2525",
        "MAIL_FROM": "Trede test <trede@example.org>",
        "SECRET_KEY": "x" * 40,
        "BASE_URL": "http://testserver",
        "TENANTS_DIR": str(ROOT / "tenants"),
    }
    env.update(overrides)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def trede(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the installed ``trede`` command as an operator would."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "trede"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )
