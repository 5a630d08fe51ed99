"""National reference lists: every Dutch municipality (CBS gemeentecode) and the 42 youth-care regions.

The data is ``data/gemeenten.csv``, one row per municipality with the jeugdregio it belongs to; where it
comes from, its reference date and how to refresh it are in ``data/README.md``. Read-only, no database:
an admin screen can offer the list, or a whole youth region, when a region (tenant) is set up.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "gemeenten.csv"
# "Gemeentelijke indeling op 1 januari 2025" (CBS/PDOK gebiedsindelingen 2025); see data/README.md.
REFERENCE_DATE = date(2025, 1, 1)


@dataclass(frozen=True)
class NationalMunicipality:
    cbs_code: str  # GM + 4 digits
    name: str
    youth_region_code: str  # JZ + 2 digits


@dataclass(frozen=True)
class YouthRegion:
    code: str
    name: str
    municipalities: tuple[NationalMunicipality, ...]  # sorted by CBS code


@cache
def _rows() -> tuple[tuple[NationalMunicipality, ...], tuple[tuple[str, str], ...]]:
    """The municipalities in file order, and every (jeugdregio code, name) in order of first appearance."""
    found: list[NationalMunicipality] = []
    region_names: dict[str, str] = {}
    with DATA_FILE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            code, name = row["jeugdregio_code"].strip(), row["jeugdregio_name"].strip()
            if region_names.setdefault(code, name) != name:
                raise ValueError(f"{DATA_FILE.name}: {code} has two names: {region_names[code]!r}, {name!r}")
            found.append(NationalMunicipality(row["cbs_code"].strip(), row["name"].strip(), code))
    return tuple(found), tuple(region_names.items())


def municipalities() -> list[NationalMunicipality]:
    """All municipalities on the reference date, sorted by CBS code."""
    return sorted(_rows()[0], key=lambda m: m.cbs_code)


def youth_regions() -> dict[str, YouthRegion]:
    """The youth-care regions by code (JZxx), each with its municipalities."""
    members: dict[str, list[NationalMunicipality]] = {}
    for municipality in municipalities():
        members.setdefault(municipality.youth_region_code, []).append(municipality)
    return {code: YouthRegion(code, name, tuple(members.get(code, ()))) for code, name in sorted(_rows()[1])}
