"""Every letter a ladder sends has a legal kind, and every kind's letter, rendered with the fields a decider fills
in, reads as a provider and an archive need it (issue 16 points 1, 4 and the Done-when): the fields' text, the
right article and term, no placeholder, no internal note (the summary typed at opening), plain Dutch, and a PDF/A-3a
record with title, author, language, creation date and the sRGB output intent."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from pypdf import PdfReader

from apps.escalations.context import load_context
from apps.escalations.letter_fields import checked_letter_fields, letter_texts
from apps.escalations.letters import DEFAULT_TEMPLATES, LETTER_TITLES, html_to_pdf, render_letter
from apps.escalations.tables import Escalation
from apps.ladders.letter_kinds import KINDS, TEMPLATE_KINDS, YES_NO, kind_of
from apps.ladders.schema import RECEIPT_TERM_KINDS, SendLetter, StepSpec, TermSpec
from apps.ladders.vocabulary import LETTER_KIND_NAMES
from apps.tenancy.loader import load_tenants
from core.clock import AMSTERDAM, FrozenClock
from core.settings import ROOT
from tests.letter_fields import LETTER_FIELDS
from tests.plain_dutch import leaks
from tests.records import pdfa_facts
from tests.workspace.support import escalation_of, zl_scope

ON_8_DECEMBER = datetime(2026, 12, 8, 10, 0, tzinfo=AMSTERDAM)
INTERNAL = "Intern: directeur klonk geïrriteerd aan de telefoon"  # the summary typed at opening: never in a letter

# What a provider must read in each letter besides its fields: the article it rests on, the term it sets.
ARTICLES = {
    "ingebrekestelling": ["artikel 6:82 van het Burgerlijk Wetboek"],
    "schriftelijke_waarschuwing": ["artikel 6:82 BW"],
    "verzuim": ["in verzuim bent (artikel 6:81 BW)"],
    "ontbinding": ["artikel 6:265 en 6:267 BW"],
    "terugvordering": ["artikel 6:119 BW"],
    "verrekening": ["artikel 6:127 BW"],  # the test sets off without interest (6:119 only with it)
    "boete": ["artikel 20.2 van de Resultaatovereenkomst"],
}
TERMS = {  # a letter that sets a term prints it: "uiterlijk <date> (<term>)"
    "ingebrekestelling": "4 weken",
    "schriftelijke_waarschuwing": "4 weken",
    "verzoek_plan_van_aanpak": "2 weken",
    "officiele_herinnering": "2 weken",
}


def flat(text: str) -> str:
    return " ".join(text.split())


def test_every_letter_the_ladders_send_has_a_kind_and_every_kind_a_letter():
    loaded = load_tenants(Path(ROOT) / "tenants")
    assert loaded.problems == []
    without = sorted({
        f"{region.region.slug}/{ladder.key}/{step.key}: {action.letter}"
        for region in loaded.regions for ladder in region.ladders.values() for step in ladder.steps
        for action in step.on_enter if isinstance(action, SendLetter) and kind_of(action.letter, action.kind) is None
    })  # fmt: skip
    assert without == [], "a ladder sends a letter without a legal kind (letter_kinds.TEMPLATE_KINDS or kind = …)"
    assert set(TEMPLATE_KINDS.values()) == set(KINDS)  # every kind has a default letter
    for letter in TEMPLATE_KINDS:
        assert (Path(DEFAULT_TEMPLATES) / f"{letter}.html").is_file(), letter
        assert letter in LETTER_TITLES, f"{letter} has no Dutch title"
    assert set(LETTER_FIELDS) == set(KINDS)  # the tests fill in every kind
    assert set(LETTER_KIND_NAMES) == set(KINDS)  # the ladder editor names every kind in Dutch


async def test_each_kind_renders_its_fields_term_and_article_as_a_pdfa_record(world):
    scope = await zl_scope()
    opened = await escalation_of("90000002")  # demo: a request for a plan of action, with a postal address
    await scope.update(Escalation, {Escalation.summary: INTERNAL}).where(Escalation.id == opened.id)
    ctx = await load_context(scope, opened.id, FrozenClock(ON_8_DECEMBER))
    today = ON_8_DECEMBER.date()
    for letter, kind in sorted(TEMPLATE_KINDS.items()):
        term = TERMS.get(kind)
        step = StepSpec(key=f"stap_{kind}", title="Stap", on_enter=[SendLetter(action="send_letter", letter=letter)],
                        terms=[TermSpec(key="herstel", term=term, title="Herstel")] if term else [])  # fmt: skip
        fields = checked_letter_fields(step, {**LETTER_FIELDS[kind], "uw_kenmerk": "SZ-2026-77"}, today)
        rendered = await render_letter(ctx, key=letter, step=step, motivation="Besluit van het team.", preview=True,
                                       with_logo=False, fields=letter_texts(fields))  # fmt: skip
        pdf = html_to_pdf(rendered.html)
        text = flat(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))
        assert leaks(text) == [], (letter, text)
        assert "[in te vullen" not in text and INTERNAL not in text, letter
        assert "Uw kenmerk SZ-2026-77" in text and f"Ons kenmerk {opened.reference}" in text, letter
        printed = [f.key for f in KINDS[kind] if f.type != YES_NO]  # a yes/no choice reads as a sentence
        for key in printed:
            assert flat(fields[key]["tekst"]) in text, (letter, key)
        for article in ARTICLES.get(kind, []):
            assert article in text, (letter, article)
        if term:
            # a notice's term runs from its receipt (BW 3:37 lid 3): "4 weken na ontvangst van deze brief"
            receipt = f"{term} na ontvangst van deze brief, dus uiterlijk"
            wording = receipt if kind in RECEIPT_TERM_KINDS else f"({term})"
            assert wording in text and "uiterlijk" in text, (letter, term)
        facts = pdfa_facts(pdf)
        assert (facts["part"], facts["conformance"]) == ("3", "A") and facts["tagged"], letter
        assert facts["title"] == f"{rendered.title}: {opened.reference}", letter
        assert facts["creator"] == ["Jeugdhulp Zuid-Limburg"] and facts["language"] == ["nl"], letter
        assert facts["created"] is not None, letter
        [(subtype, has_profile, condition)] = facts["intents"]
        assert subtype == "/GTS_PDFA1" and has_profile and "sRGB" in condition, letter

