"""``trede``: the one entry point for operators. Every command has ``--help``.

The engine is chosen from DATABASE_URL at the first query (``core.piccolo_conf``), so ``--embedded`` settles the
environment first. Modules that pull in every app (a second or more) are imported by the commands that need
them, so that ``trede --help`` and the quick commands start at once.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sys
from datetime import date
from pathlib import Path

import click

from apps.ladders.deadlines import calendar_for_region_file, due_date_for
from apps.tenancy.tables import Region
from core.logs import configure_logging
from core.settings import ROOT, ConfigError, Settings, _database_url, embedded_defaults, load_settings
from core.storage import storage_from_url
from core.workers import run_worker_forever

DEFAULT_TENANTS = ROOT / "tenants"

embedded_option = click.option(
    "--embedded",
    is_flag=True,
    help="Use the embedded default for settings that are not set: SQLite and objects under var/, "
    "in-process broker (what `make run` uses).",
)


def _apply_embedded() -> None:
    for name, value in embedded_defaults().items():
        os.environ.setdefault(name, value)


def _settings(embedded: bool) -> Settings:
    if embedded:
        _apply_embedded()
    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _database_only(embedded: bool) -> None:
    """Commands that only need the database ask for DATABASE_URL alone."""
    if embedded:
        _apply_embedded()
    try:
        _database_url(os.environ.get("DATABASE_URL", "").strip() or _missing("DATABASE_URL"))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


async def _database_ready(embedded: bool) -> None:
    """The embedded database is migrated first (as `trede serve --embedded` does), so every command works on a
    fresh folder; elsewhere a database without tables gets one plain line instead of a traceback."""
    from core.bootstrap import migrate_database  # why: CLI start-up (imports every app)

    if embedded:
        try:
            await migrate_database()
        except RuntimeError as exc:
            raise click.ClickException(str(exc)) from None
    elif not await Region.table_exists():
        raise click.ClickException(
            "the database has no tables yet: run `trede migrate` first (or add --embedded for the embedded default)"
        )


def _missing(name: str) -> str:
    raise ConfigError(name, "is not set")


def run_async(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return asyncio.run(fn(*args, **kwargs))

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Trede: escalation ladders for youth-care purchasing regions.

    Configuration comes from environment variables (see README.md); `--embedded` fills in the
    embedded default for what is not set.
    """


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-bootstrap", is_flag=True, help="Do not migrate, sync tenants/ or add demo data first.")
@embedded_option
def serve(host: str, port: int, no_bootstrap: bool, embedded: bool) -> None:
    """Serve the web application (and, with the in-process broker, the worker and scheduler too).

    With --embedded it first migrates the database, syncs tenants/ and adds demo data to an empty
    database, so one command is enough. In production run `trede migrate` as a separate step first.
    """
    import uvicorn

    settings = _settings(embedded)
    configure_logging(json_logs=settings.is_production)
    # In production every line is a JSON log line; in development the start-up report is plain text.
    say = logging.getLogger("trede").info if settings.is_production else click.echo
    if embedded and not no_bootstrap:
        from core.bootstrap import bootstrap_embedded  # why: CLI start-up (imports every app)

        for line in asyncio.run(bootstrap_embedded(settings)):
            say(line)
    from core.app import create_app  # why: CLI start-up (imports every app)

    say(f"Trede serves at http://{host}:{port} ({'embedded' if settings.embedded_broker else 'production'} mode)")
    proxies = ", ".join(settings.forwarded_allow_ips)
    say(f"X-Forwarded-For is believed from: {proxies}" if proxies else "X-Forwarded-For is believed from no proxy")
    uvicorn.run(
        create_app(settings), host=host, port=port, log_level="info",
        # X-Forwarded-For/-Proto only from the configured proxies (FORWARDED_ALLOW_IPS); none by default
        proxy_headers=bool(settings.forwarded_allow_ips), forwarded_allow_ips=list(settings.forwarded_allow_ips),
        log_config=None,  # core.logs' handler on the root logger formats uvicorn's lines too
        access_log=False,  # one access line per request: ours (trede.access), with request id and region
    )  # fmt: skip


@main.command()
@click.option("--threads", default=4, show_default=True, type=int, help="Worker threads in this process.")
@embedded_option
def worker(threads: int, embedded: bool) -> None:
    """Run Dramatiq workers that deliver notifications and act on deadlines (stop with Ctrl-C/SIGTERM)."""
    settings = _settings(embedded)
    if settings.embedded_broker:
        raise click.ClickException(
            "BROKER_URL is stub:// (in-process): the worker runs inside `trede serve`. "
            "Set BROKER_URL to redis:// or amqp:// to run workers separately."
        )
    run_worker_forever(settings, threads=threads)


@main.command()
@embedded_option
def scheduler(embedded: bool) -> None:
    """Enqueue the periodic sweep every minute (and once at start-up, to catch up after downtime).

    Several schedulers may run: each time slot is claimed once in the database.
    """
    settings = _settings(embedded)
    if settings.embedded_broker:
        raise click.ClickException("BROKER_URL is stub:// (in-process): the scheduler runs inside `trede serve`.")
    from core.scheduler import run_scheduler_forever  # why: CLI start-up (Piccolo tables)

    asyncio.run(run_scheduler_forever(settings))


@main.command()
@embedded_option
@run_async
async def migrate(embedded: bool) -> None:
    """Apply all database migrations (run before starting new web processes)."""
    _database_only(embedded)
    from core.bootstrap import migrate_database  # why: CLI start-up (imports every app)

    try:
        await migrate_database()
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("Database is up to date.")


@main.group()
def tenants() -> None:
    """Regions as code: validate, apply and list the region files in tenants/."""


@tenants.command("validate")
@click.argument("folder", required=False, type=click.Path(path_type=Path), default=DEFAULT_TENANTS)
def tenants_validate(folder: Path) -> None:
    """Check every region file and ladder template in FOLDER (default tenants/). Exit 1 on any problem."""
    from apps.tenancy.loader import load_tenants  # why: CLI start-up (the schema and ladder checks)

    result = load_tenants(folder)
    for problem in result.problems:
        click.echo(str(problem), err=True)
    if result.problems:
        click.echo(f"{len(result.problems)} problem(s) found.", err=True)
        sys.exit(1)
    for loaded in result.regions:
        click.echo(f"{loaded.file}: ok ({loaded.region.name}, {len(loaded.ladders)} ladders)")


@tenants.command("sync")
@click.argument("folder", required=False, type=click.Path(path_type=Path), default=DEFAULT_TENANTS)
@embedded_option
@run_async
async def tenants_sync(folder: Path, embedded: bool) -> None:
    """Apply FOLDER (default tenants/) to the database in one transaction, or nothing at all.

    Idempotent: an unchanged file changes nothing; a changed ladder publishes a new version, and running
    escalations keep the version they were opened under.
    """
    _database_only(embedded)
    await _database_ready(embedded)
    from apps.tenancy.services import SyncRefused, sync_tenants  # why: CLI start-up (imports most apps)

    try:
        changes = await sync_tenants(folder)
    except SyncRefused as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo("Nothing was applied.", err=True)
        sys.exit(1)
    for change in changes:
        click.echo(change.describe())


@tenants.command("export")
@click.argument("slug")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False), help="Write to this file.")
@click.option("--templates", type=click.Path(path_type=Path, file_okay=False), default=DEFAULT_TENANTS,
              show_default=True, help="Folder whose templates/ a ladder may be written as a reference to.")  # fmt: skip
@embedded_option
@run_async
async def tenants_export(slug: str, output: Path | None, templates: Path, embedded: bool) -> None:
    """Write region SLUG from the database as a tenants/ file (TOML), e.g. one set up on /beheer/regios.

    Ladders edited in Trede are written inline; a ladder equal to a shared template as ``template = "NAME"``.
    """
    _database_only(embedded)
    await _database_ready(embedded)
    from apps.tenancy.export import export_region  # why: CLI start-up (imports most apps)

    content = await export_region(slug, templates)
    if content is None:
        raise click.ClickException(f"no region with slug {slug!r}")
    if output:
        await asyncio.to_thread(output.write_text, content, encoding="utf-8")
        click.echo(f"{slug}: written to {output}")
    else:
        click.echo(content, nl=False)


@tenants.command("list")
@embedded_option
@run_async
async def tenants_list(embedded: bool) -> None:
    """One line per region: slug, name, number of municipalities (today), ladders with their version."""
    _database_only(embedded)
    await _database_ready(embedded)
    from apps.tenancy.services import list_regions  # why: CLI start-up (imports most apps)

    for region in await list_regions():
        ladders = ", ".join(f"{ladder['key']} v{ladder['version']}" for ladder in region.ladders) or "-"
        click.echo(f"{region.slug}\t{region.name}\t{region.municipalities} gemeenten\t{ladders}")


@main.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@embedded_option
@run_async
async def backup(file: Path, embedded: bool) -> None:
    """Write the database and all stored objects to FILE (a .tar.gz), e.g. var/backups/trede-2026-11-24.tar.gz."""
    settings = _settings(embedded)
    await _database_ready(embedded)
    from core.backup import backup as make_backup  # why: CLI start-up (every app's tables)

    file.parent.mkdir(parents=True, exist_ok=True)
    summary = await make_backup(file, storage_from_url(settings.storage_url))
    click.echo(f"Backup written to {file}: {summary.describe()}.")


@main.command()
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@embedded_option
@run_async
async def restore(file: Path, embedded: bool) -> None:
    """Restore FILE (made by `trede backup`) into an empty database and the object store.

    Run `trede migrate` on a new, empty database first; restore refuses a database that holds data.
    """
    settings = _settings(embedded)
    await _database_ready(embedded)
    from core import backup as backups  # why: CLI start-up (every app's tables)

    try:
        summary = await backups.restore(file, storage_from_url(settings.storage_url))
    except backups.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Restored from {file}: {summary.describe()}.")


@main.group()
def calendar() -> None:
    """The working-day calendar (Algemene termijnenwet plus a region's closed days)."""


@calendar.command("add")
@click.argument("start", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("term")
@click.option(
    "--region", "region_slug", default=None, help="Also skip this region's extra closed days (from tenants/)."
)
@click.option("--tenants-folder", type=click.Path(path_type=Path), default=DEFAULT_TENANTS, show_default=True)
def calendar_add(start, term: str, region_slug: str | None, tenants_folder: Path) -> None:
    """Print when TERM (e.g. "10 werkdagen", "2 weken", "3 maanden", "1 april") from START ends, and why it moved."""
    try:
        cal = (
            calendar_for_region_file(tenants_folder, region_slug)
            if region_slug
            else calendar_for_region_file(None, None)
        )
        due = due_date_for(date.fromisoformat(start.date().isoformat()), term, cal)
    except (ValueError, LookupError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(due.due_date.isoformat())
    for reason in due.reasons:
        click.echo(reason)


if __name__ == "__main__":
    main()
