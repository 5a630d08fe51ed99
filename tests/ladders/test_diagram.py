"""The ladder drawn on the server: an SVG named and described by a text alternative that lists every step and
transition; the current step of an escalation marked in words and by a thick border, not by colour alone; the
Zuid-Limburg diagram laid out like the flowchart of seed 000."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from apps.ladders.diagram import ladder_diagram
from apps.tenancy.loader import load_tenants

TENANTS = Path(__file__).resolve().parents[2] / "tenants"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def ladders():
    return {(r.region.slug, key): spec for r in load_tenants(TENANTS).regions for key, spec in r.ladders.items()}


def boxes(svg: str) -> dict[str, tuple[float, float]]:
    """Step key → (x, y) of its box, read from the SVG as a browser would draw it."""
    root = ET.fromstring(svg)
    found = {}
    for text in root.iter(f"{SVG}text"):
        if "data-step" in text.attrib:
            found[text.attrib["data-step"]] = (float(text.attrib["x"]), float(text.attrib["y"]))
    return found


def test_every_ladder_draws_as_valid_svg_with_a_text_alternative(ladders):
    for (slug, key), spec in ladders.items():
        diagram = ladder_diagram(spec, diagram_id=f"d-{slug}-{key}")
        root = ET.fromstring(str(diagram.svg))  # well-formed XML
        assert root.attrib["role"] == "img"
        assert root.attrib["aria-labelledby"] == f"d-{slug}-{key}-titel"
        assert root.attrib["aria-describedby"] == f"d-{slug}-{key}-tekst"
        assert set(boxes(str(diagram.svg))) == {s.key for s in spec.steps}  # every step is drawn
        assert [s.title for s in diagram.steps] == [s.title for s in spec.steps]  # and listed in text
        for step, text in zip(spec.steps, diagram.steps, strict=True):
            titles = {s.key: s.title for s in spec.steps}
            assert [titles[k] for k in step.next] == text.next_titles[: len(step.next)]
        assert not re.search(r"\sstyle=", str(diagram.svg))  # the CSP forbids inline styles


def test_zuid_limburg_looks_like_the_flowchart_of_seed_000(ladders):
    spec = ladders[("zuid-limburg", "kwaliteit")]
    svg = str(ladder_diagram(spec).svg)
    assert "Stel categorie vast" in svg  # seed 000: "Stel categorie vast in kader van DVO", the split at the top
    at = boxes(svg)
    # Two branches side by side: safety (direct talk, letter, intake stop, ...) and non-safety (plan van aanpak).
    safety = ["gesprek_direct", "afspraken_per_brief", "instroomstop", "zittende_clienten", "inspectie"]
    plan = ["verzoek_plan_van_aanpak", "officiele_brief", "monitoren_plan"]
    assert len({at[k][0] for k in safety}) == 1 and len({at[k][0] for k in plan}) == 1
    assert at[safety[0]][0] != at[plan[0]][0]
    for branch in (safety, plan):  # each branch runs down the page in the order of the flowchart
        assert [at[k][1] for k in branch] == sorted(at[k][1] for k in branch)
    # "Ontbinding" is reached from both branches and sits below them, as the last box of the flowchart.
    assert at["ontbinding"][1] >= max(at[k][1] for k in safety + plan)
    assert "termijn: 2 weken" in svg and "eindstap: ontbonden" in svg


def test_the_current_step_is_marked_in_words_and_by_its_border(ladders):
    spec = ladders[("zuid-limburg", "kwaliteit")]
    diagram = ladder_diagram(spec, current="instroomstop", diagram_id="escalatie-diagram")
    svg = str(diagram.svg)
    assert svg.count("▶ huidige stap") == 1
    current_rect = re.findall(r'<rect [^>]*stroke-width="4"', svg)
    assert len(current_rect) == 1  # one thick border, next to the words
    assert diagram.current_title == spec.step("instroomstop").title
    assert [s.title for s in diagram.steps if s.current] == [spec.step("instroomstop").title]


def test_the_macro_renders_the_text_alternative(ladders):
    from jinja2 import Environment, FileSystemLoader

    root = Path(__file__).resolve().parents[2] / "frontend" / "templates"
    env = Environment(loader=FileSystemLoader(root), autoescape=True)
    env.globals["ladder_diagram"] = ladder_diagram
    template = env.from_string(
        '{% from "ladders/_diagram.html" import escalation_diagram %}{{ escalation_diagram(spec, "inspectie") }}'
    )
    html = template.render(spec=ladders[("zuid-limburg", "kwaliteit")])
    assert 'id="escalatie-diagram-tekst"' in html and 'aria-describedby="escalatie-diagram-tekst"' in html
    assert "(huidige stap)" in html and "Startstap voor:" in html and "Daarna:" in html


def test_a_published_versions_diagram_is_drawn_once_per_process_and_a_draft_every_time(ladders):
    """Versions never change once published: the escalation page's diagram is kept by version id and sha256, the
    current step and the diagram's id (issue 20); another current step or version is drawn anew, and a spec that is
    no kept version (the editor's draft) is never taken from the cache."""
    from apps.ladders.services import cached_diagram, cached_spec

    definition = ladders[("zuid-limburg", "kwaliteit")].model_dump(mode="json")
    spec = cached_spec("11111111-1111-1111-1111-111111111111", "sha-1", definition)
    first, second = (spec.steps[0].key, spec.steps[1].key)
    once = cached_diagram(spec, current=first, diagram_id="escalatie-diagram")
    assert cached_diagram(spec, current=first, diagram_id="escalatie-diagram") is once
    assert "huidige stap" in str(once.svg) and once.current_title == spec.steps[0].title
    other_step = cached_diagram(spec, current=second, diagram_id="escalatie-diagram")
    assert other_step is not once and other_step.current_title == spec.steps[1].title
    other_version = cached_spec("22222222-2222-2222-2222-222222222222", "sha-2", definition)
    assert cached_diagram(other_version, current=first, diagram_id="escalatie-diagram") is not once
    draft = type(spec).model_validate(definition)
    assert cached_diagram(draft, current=first, diagram_id="escalatie-diagram") is not cached_diagram(
        draft, current=first, diagram_id="escalatie-diagram"
    )
    assert str(cached_diagram(draft, current=first, diagram_id="escalatie-diagram").svg) == str(once.svg)
