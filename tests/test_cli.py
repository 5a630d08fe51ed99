"""The operator's `trede` command: tenants sync/list against a real database, and calendar add."""

from __future__ import annotations

import os

from tests.conftest import new_database_url
from tests.support import trede


def test_sync_then_list_on_a_fresh_database(tenants_copy):
    env = {**os.environ, "DATABASE_URL": new_database_url()}
    assert trede("migrate", env=env).returncode == 0

    synced = trede("tenants", "sync", str(tenants_copy), env=env)
    assert synced.returncode == 0, synced.stderr
    assert "zuid-limburg: created" in synced.stdout

    again = trede("tenants", "sync", str(tenants_copy), env=env)
    assert sorted(again.stdout.split("\n")) == sorted(
        ["", "lekstroom: unchanged", "west-brabant-west: unchanged", "zuid-limburg: unchanged"]
    )

    listed = trede("tenants", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    lines = {line.split("\t")[0]: line.split("\t") for line in listed.stdout.strip().split("\n")}
    assert lines["zuid-limburg"][1:3] == ["Jeugdhulp Zuid-Limburg", "16 gemeenten"]
    assert lines["west-brabant-west"][2] == "9 gemeenten"
    assert lines["lekstroom"][2] == "5 gemeenten"
    assert lines["zuid-limburg"][3] == "continuiteit v1, contract v1, kwaliteit v1"


def test_sync_of_a_broken_folder_applies_nothing_and_says_so(tenants_copy):
    env = {**os.environ, "DATABASE_URL": new_database_url()}
    assert trede("migrate", env=env).returncode == 0
    path = tenants_copy / "zuid-limburg.toml"
    path.write_text("onbekend_veld = 1\n" + path.read_text())
    result = trede("tenants", "sync", str(tenants_copy), env=env)
    assert result.returncode == 1
    assert "tenants/zuid-limburg.toml: onbekend_veld: unknown field (check the spelling)" in result.stderr
    assert "Nothing was applied." in result.stderr
    assert trede("tenants", "list", env=env).stdout == ""


def test_database_commands_need_database_url():
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    result = trede("tenants", "list", env=env)
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: Configuration error: DATABASE_URL is not set"


def test_calendar_add_prints_due_date_and_reasons():
    # 2 March 2026 + 10 working days (no holidays in between) = 16 March 2026.
    plain = trede("calendar", "add", "2026-03-02", "10 werkdagen")
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout == "2026-03-16\n"
    # 2 weeks from Friday 20 March 2026 would end on Friday 3 April: Good Friday (Atw art. 3 lid 2), then the
    # Easter weekend and Easter Monday, so the term runs to Tuesday 7 April.
    moved = trede("calendar", "add", "2026-03-20", "2 weken")
    assert moved.stdout.split("\n")[0] == "2026-04-07"
    assert "verschoven: Tweede Paasdag (6 april 2026)" in moved.stdout
    # Zuid-Limburg closes its offices on carnival Tuesday.
    carnival = trede("calendar", "add", "2027-02-02", "1 week", "--region", "zuid-limburg")
    assert carnival.stdout.split("\n")[0] == "2027-02-10"
    assert "Carnavalsdinsdag" in carnival.stdout
    # Seed 000's October check entered on Saturday 3 October 2026 is this October's: Monday 5 October 2026.
    october = trede("calendar", "add", "2026-10-03", "oktober")
    assert october.stdout.split("\n")[0] == "2026-10-05"
    bad = trede("calendar", "add", "2026-03-02", "2 wekn")
    assert bad.returncode == 1
    assert "'2 wekn' is not a term" in bad.stderr


def test_every_database_command_works_on_a_fresh_embedded_folder(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "BROKER_URL", "STORAGE_URL")}
    env["TREDE_VAR_DIR"] = str(tmp_path / "var")
    listed = trede("tenants", "list", "--embedded", env=env)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout == "" and "Traceback" not in listed.stderr  # migrated, and no region yet
    synced = trede("tenants", "sync", "--embedded", env={**env, "TREDE_VAR_DIR": str(tmp_path / "other")})
    assert synced.returncode == 0 and "zuid-limburg: created" in synced.stdout, synced.stderr
    exported = trede("tenants", "export", "lekstroom", "--embedded", env={**env, "TREDE_VAR_DIR": str(tmp_path / "x")})
    assert exported.returncode == 1 and "no region with slug 'lekstroom'" in exported.stderr
    assert "Traceback" not in exported.stderr


def test_a_database_without_tables_gets_one_plain_line(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}
    listed = trede("tenants", "list", env=env)
    assert listed.returncode == 1 and "Traceback" not in listed.stderr
    assert "run `trede migrate` first" in listed.stderr
