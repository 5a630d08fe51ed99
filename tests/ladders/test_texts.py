"""Ladder texts come from the region's data (issue 14 point 8): placeholders, and templates that name no region."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from apps.admin.services import templates
from apps.ladders.schema import LadderSpec
from apps.ladders.texts import fill, for_region, municipalities_phrase, texts_of
from tests.support import ROOT

OTHER_REGIONS = ("Zuid-Limburg", "Maastricht", "Lekstroom", "West-Brabant")


def minimal(message: str) -> dict:
    return {
        "key": "proef", "name": "Proefladder {regio}",
        "categories": [{"key": "a", "title": "A", "start_step": "begin"}],
        "steps": [
            {"key": "begin", "title": "Begin", "next": ["einde"]},
            {"key": "einde", "title": "Einde", "final": True,
             "on_enter": [{"action": "notify", "roles": ["inkoop"], "message": message}]},
        ],
    }  # fmt: skip


def test_a_ladder_with_an_unknown_placeholder_is_refused_with_the_known_ones():
    with pytest.raises(ValidationError) as refused:
        LadderSpec.model_validate(minimal("De {aantal} gemeenten informeren."))
    assert "unknown placeholder {aantal} (known: {regio}, {gemeenten})" in str(refused.value)
    LadderSpec.model_validate(minimal("De {gemeenten} van {regio} informeren."))


def test_a_region_takes_a_template_with_its_own_name_and_the_count_stays_for_the_day():
    spec = for_region(LadderSpec.model_validate(minimal("De {gemeenten} van {regio} informeren.")), "Holland Rijnland")
    assert spec.name == "Proefladder Holland Rijnland"
    message = spec.step("einde").on_enter[0].message
    assert message == "De {gemeenten} van Holland Rijnland informeren."
    assert fill(message, {"gemeenten": municipalities_phrase(7)}) == "De 7 gemeenten van Holland Rijnland informeren."
    assert municipalities_phrase(1) == "1 gemeente"


@pytest.mark.parametrize("name", sorted(templates(ROOT / "tenants")))
def test_a_template_taken_by_another_region_names_no_other_region(name):
    """What a region onboarded from a template reads (names, steps, messages) never names the region the
    template was written for; only ``source`` says where it comes from."""
    spec = for_region(templates(ROOT / "tenants")[name], "Holland Rijnland")
    data = spec.model_dump(mode="json")
    data.pop("source")
    leaks = [text for text in texts_of(data) if any(other in text for other in OTHER_REGIONS)]
    assert leaks == []
    assert not [text for text in texts_of(data) if "{regio}" in text]
