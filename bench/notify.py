"""Benchmark: from the intake-stop decision to the last access team's mail accepted by a real SMTP server, against
a bare smtplib send of the same number of mails to the same server, in the same run.

    .venv/bin/python bench/notify.py [--repeat 3] [--server postgres://postgres@127.0.0.1:5432/postgres]

Makes a scratch SQLite database (with ``--server``: a scratch PostgreSQL database, dropped afterwards), loads the
regions, starts a real SMTP server in this process (aiosmtpd) and the embedded worker path: the in-process broker
(``stub://``) with its Dramatiq worker threads, and the notices' transports built from the settings (SMTP_URL points
at the sink). Then, for each run, on a fresh escalation of a benchmark provider in Zuid-Limburg:
- notify: the team lead's intake stop through ``services.transition`` (what the escalation page's "Ja, instroomstop
  opleggen" calls), timed up to the SMTP acceptance (the 250 to DATA) of the mail to the access team of the last
  of the region's municipalities; the notices are handed to the worker when the transaction commits;
- baseline: smtplib sending as many mails (one connection each, as the transport does) to the same sink.
Prints the medians and the ratio. Goal: notify under 5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import smtplib
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL = 5.0  # seconds, issue 17 point 3


class Sink:
    """An aiosmtpd handler that notes when each recipient's message was accepted."""

    def __init__(self) -> None:
        self.accepted: dict[str, float] = {}
        self.count = 0
        self.changed = threading.Condition()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        now = time.perf_counter()
        with self.changed:
            for address in envelope.rcpt_tos:
                self.accepted[address.lower()] = now
            self.count += 1
            self.changed.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, addresses: set[str], timeout: float) -> float:
        """The acceptance time of the last of ``addresses``; fails after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not addresses <= self.accepted.keys():
                left = deadline - time.monotonic()
                if left <= 0:
                    missing = sorted(addresses - self.accepted.keys())
                    raise SystemExit(f"no mail accepted after {timeout:.0f} s for: {', '.join(missing)}")
                self.changed.wait(left)
            return max(self.accepted[a] for a in addresses)

    def reset(self) -> None:
        with self.changed:
            self.accepted.clear()
            self.count = 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bare_send(port: int, addresses: list[str]) -> float:
    """smtplib, one connection per mail, the same recipients: the floor of what any sender can do here."""
    started = time.perf_counter()
    for address in addresses:
        message = EmailMessage()
        message["From"] = "Trede <noreply@trede.localhost>"
        message["To"] = address
        message["Subject"] = "Instroomstop (basislijn)"
        message.set_content("Verwijs geen nieuwe cliënten meer naar deze aanbieder.")
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.send_message(message)
    return time.perf_counter() - started


async def main(repeat: int) -> None:
    from core.settings import embedded_defaults

    scratch = Path(tempfile.mkdtemp(prefix="trede-bench-"))
    port = free_port()
    # the embedded default's settings (as `make run`), with the mail going to the SMTP sink instead of var/mail
    database = os.environ.get("DATABASE_URL") or f"sqlite:///{scratch / 'bench.sqlite3'}"
    os.environ.update(embedded_defaults(scratch / "var"))
    os.environ.update({"TREDE_VAR_DIR": str(scratch / "var"), "DATABASE_URL": database,
                       "SMTP_URL": f"smtp://127.0.0.1:{port}", "TENANTS_DIR": str(ROOT / "tenants")})  # fmt: skip

    from aiosmtpd.controller import Controller

    from apps.accounts.roles import Role
    from apps.escalations import services
    from apps.notifications.tables import Notification
    from apps.providers.tables import Provider
    from apps.tenancy.services import municipalities_on, sync_tenants
    from apps.tenancy.tables import Region
    from core.actor import Actor
    from core.bootstrap import migrate_database
    from core.broker import configure_broker
    from core.clock import system_clock
    from core.settings import load_settings
    from core.tenancy import RegionScope
    from core.workers import start_worker

    settings = load_settings()
    assert settings.dev_mailbox is None, "SMTP_URL must reach the sink, not the development mailbox"
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    broker = configure_broker("stub://")
    await migrate_database()
    await sync_tenants(ROOT / "tenants")
    is_postgres = os.environ["DATABASE_URL"].startswith("postgres")
    # as `trede serve --embedded` runs it: the worker in this process, on its own event loop, hence no
    # PostgreSQL pool (core.db.prepare_engine: a pool belongs to the loop that made it)
    worker = start_worker(broker, threads=2)
    try:
        region = await Region.objects().where(Region.slug == "zuid-limburg").first()
        scope = RegionScope(region.id)
        municipalities = await municipalities_on(scope, system_clock.today())
        access_teams = {m.access_team_email.lower() for m in municipalities if m.access_team_email}
        lead = Actor(label="Luuk Leider", roles=frozenset({Role.INKOOP_LEAD}))
        notify_times, bare_times, mails = [], [], 0
        for run in range(repeat):
            provider = Provider(kvk_number=f"9999{run:04d}", name=f"Benchmark Jeugdzorg {run + 1} B.V.")
            await provider.save()
            escalation = await services.open_escalation(
                scope, provider=provider, ladder_key="kwaliteit", category="veiligheid", subcategory="vog_werknemers",
                summary="VOG's ontbreken", motivation="Signaal", actor=lead,
            )  # fmt: skip
            await services.transition(scope, escalation.id, "afspraken_per_brief", actor=lead, motivation="Model.")
            await _drained(scope)
            sink.reset()
            before = await scope.count(Notification)
            started = time.perf_counter()
            await services.transition(scope, escalation.id, "instroomstop", actor=lead,
                                      motivation="VOG's ontbreken: nieuwe cliënten niet meer verwijzen.")  # fmt: skip
            last = await asyncio.to_thread(sink.wait_for, access_teams, 60)
            notify_times.append(last - started)
            await _drained(scope)
            mails = sink.count  # every mail of the decision: access teams, GI's, purchasing team
            written = await scope.count(Notification) - before
            sink.reset()
            extra = [f"extra{i}@bench.localhost" for i in range(max(mails - len(access_teams), 0))]
            addresses = sorted(access_teams) + extra
            bare_times.append(await asyncio.to_thread(bare_send, port, addresses))
            print(f"run {run + 1}: intake stop -> last of {len(access_teams)} access teams accepted in "
                  f"{notify_times[-1]:.3f} s ({mails} mails accepted, {written} notices written); "
                  f"bare smtplib {len(addresses)} mails: {bare_times[-1]:.3f} s")  # fmt: skip
    finally:
        worker.stop(timeout=10_000)
        controller.stop()
    notify, bare = statistics.median(notify_times), statistics.median(bare_times)
    database = "PostgreSQL" if is_postgres else "SQLite (embedded)"
    print(f"database  {database}; worker: in-process broker, 2 threads; SMTP sink: aiosmtpd on port {port}")
    print(f"baseline  bare smtplib, {mails} mails, one connection each:       {bare:7.3f} s")
    print(f"notify    intake-stop decision -> last access team's 250:  {notify:7.3f} s  ratio {notify / bare:5.1f}x "
          f"(goal under {GOAL:.0f} s: {'met' if notify < GOAL else 'NOT met'})")  # fmt: skip


async def _drained(scope, seconds: float = 60) -> None:
    """Wait until the worker has handled every notice (none pending or being sent)."""
    from apps.notifications.tables import Notification
    from core.clock import system_clock

    deadline = time.monotonic() + seconds
    due = (
        (Notification.channel == "email")
        & Notification.status.is_in(["pending", "sending"])
        & (Notification.next_attempt_at.is_null() | (Notification.next_attempt_at <= system_clock.now()))
    )  # a notice that failed and waits for its retry (the provider without people here) is not waited for
    while await scope.exists(Notification).where(due):
        if time.monotonic() > deadline:
            raise SystemExit("the worker did not deliver every notice in time")
        await asyncio.sleep(0.05)


async def on_postgres(server: str, repeat: int) -> None:
    """The same run on a scratch PostgreSQL database of ``server``, dropped afterwards."""
    import asyncpg

    name = f"trede_bench_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(server)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = f"{server.rpartition('/')[0]}/{name}"
        await main(repeat)
    finally:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--server", default="", help="a PostgreSQL server URL: run on a scratch database there")
    args = parser.parse_args()
    asyncio.run(on_postgres(args.server, args.repeat) if args.server else main(args.repeat))
