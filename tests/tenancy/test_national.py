"""The national list: 342 municipalities on 1 January 2025, 42 youth regions, and the shipped regions agree."""

from __future__ import annotations

import csv
import re
from collections import Counter

import pytest

from apps.tenancy.loader import load_tenants
from apps.tenancy.national import DATA_FILE, REFERENCE_DATE, municipalities, youth_regions

# CBS: 342 municipalities in the gemeentelijke indeling op 1 januari 2025 (no mergers on that date).
OFFICIAL_COUNT = 342
YOUTH_REGION_COUNT = 42


def test_file_has_the_agreed_columns_and_is_sorted_by_code():
    with DATA_FILE.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        codes = [row[0] for row in reader]
    assert header == ["cbs_code", "name", "jeugdregio_code", "jeugdregio_name"]
    assert codes == sorted(codes)


def test_row_count_is_the_official_count_for_the_reference_date():
    assert REFERENCE_DATE.isoformat() == "2025-01-01"
    assert len(municipalities()) == OFFICIAL_COUNT


def test_codes_are_cbs_gemeentecodes_and_nothing_is_duplicated():
    found = municipalities()
    assert all(re.fullmatch(r"GM\d{4}", m.cbs_code) for m in found)
    assert all(m.name and m.name == m.name.strip() for m in found)
    assert [c for c, n in Counter(m.cbs_code for m in found).items() if n > 1] == []
    assert [c for c, n in Counter(m.name for m in found).items() if n > 1] == []


def test_42_youth_regions_cover_every_municipality_exactly_once():
    regions = youth_regions()
    assert len(regions) == YOUTH_REGION_COUNT
    assert all(re.fullmatch(r"JZ\d{2}", code) and region.code == code for code, region in regions.items())
    assert len({region.name for region in regions.values()}) == YOUTH_REGION_COUNT
    assert all(region.municipalities for region in regions.values())
    members = [m.cbs_code for region in regions.values() for m in region.municipalities]
    assert sorted(members) == [m.cbs_code for m in municipalities()]
    assert {m.youth_region_code for m in municipalities()} == set(regions)


@pytest.mark.parametrize(
    ("slug", "youth_region", "size"),
    [
        ("zuid-limburg", ("JZ41", "Zuid-Limburg"), 16),
        ("west-brabant-west", ("JZ36", "West Brabant West"), 9),
        ("lekstroom", ("JZ26", "Lekstroom"), 5),
    ],
)
def test_shipped_region_matches_one_youth_region(tenants_dir, slug, youth_region, size):
    result = load_tenants(tenants_dir)
    assert result.problems == []
    region = next(loaded.region for loaded in result.regions if loaded.region.slug == slug)
    current = {m.cbs_code: m.name for m in region.municipalities_on(REFERENCE_DATE)}
    assert len(current) == size

    national = {m.cbs_code: m.name for m in municipalities()}
    assert {code: national.get(code) for code in current} == current  # same code, same name

    matching = [r for r in youth_regions().values() if {m.cbs_code for m in r.municipalities} == set(current)]
    assert [(r.code, r.name) for r in matching] == [youth_region]
