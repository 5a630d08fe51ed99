"""Plain Dutch everywhere people read (issue 18, point 3): every page a team member, team lead, observer and
provider reach from their start pages in the demo regions, the e-mails and the audit log's descriptions show no
code keys, English states, Python values, raw ids, file paths or source references (``tests.plain_dutch``)."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest

from apps.ladders.tables import Ladder, LadderVersion
from apps.providers.tables import Provider
from apps.tenancy.tables import Region
from core.actor import Actor
from core.tenancy import RegionScope
from tests.accounts.support import app_client, login
from tests.letter_fields import opening
from tests.plain_dutch import leaks, visible_text

# Not pages to read: files, exports, feeds, and leaving; nor a ladder as TOML (/toml), which shows the ladder's keys to
# the experts who import and export it. The ladder editor's form (/bewerken) is read like every other page.
SKIP = re.compile(
    r"/toml$|\.(csv|pdf|json|toml|ics|css|js|png|svg|ico)$|/bestand$|/logo$|/documenten/|/uitloggen|/export|/agenda/"
)
PAGES_PER_PERSON = 90


async def _known_keys() -> set[str]:
    """The ladders' step, term, category and subcategory keys that are not also ordinary Dutch words (an
    underscore or a digit): "veiligheid" or "hersteld" may stand in a sentence, "gesprek_direct" may not."""
    keys: set[str] = set()
    for version in await LadderVersion.objects():
        spec = json.loads(version.definition) if isinstance(version.definition, str) else version.definition
        keys |= {s["key"] for s in spec["steps"]}
        keys |= {t["key"] for s in spec["steps"] for t in s.get("terms", [])}
        keys |= {c["key"] for c in spec["categories"]}
        keys |= {k for c in spec["categories"] for k in c.get("subcategories", {})}
    return {k for k in keys if "_" in k or any(ch.isdigit() for ch in k)}


async def _one_escalation_per_ladder() -> None:
    """The demo opens escalations on the quality ladder; open one on each other ladder of each region too, and
    close the first of each region (so the archive and a closed escalation's page are read too)."""
    from apps.escalations import services

    provider = await Provider.objects().where(Provider.kvk_number == "90000001").first()
    for region in await Region.objects():
        scope = RegionScope(region.id)
        opened = []
        for ladder in await scope.objects(Ladder):
            if ladder.key == "kwaliteit":
                continue
            version = await scope.objects(LadderVersion).where(LadderVersion.ladder == ladder.id).order_by(
                LadderVersion.version, ascending=False).first()  # fmt: skip
            if version.definition.get("case"):
                continue  # a case ladder needs a municipality and a case reference: opened in its own tests
            category = version.definition["categories"][0]
            opened.append(await services.open_escalation(
                scope, provider=provider, ladder_key=ladder.key, category=category["key"],
                subcategory=next(iter(category.get("subcategories") or {}), ""), summary="Proef in gewone taal.",
                motivation="Geopend om de pagina's te lezen.", actor=Actor(label="Test", is_system=True),
                letter_fields=opening(category["key"]),
            ))  # fmt: skip
        if opened:
            await services.close_escalation(scope, opened[0].id, actor=Actor(label="Test", is_system=True),
                                            outcome="ingetrokken", motivation="Om het archief te lezen.")  # fmt: skip


async def _crawl(http, starts: list[str], prefixes: tuple[str, ...], keys: set[str]) -> dict[str, list[str]]:
    seen: set[str] = set()
    todo = list(starts)
    found: dict[str, list[str]] = {}
    while todo and len(seen) < PAGES_PER_PERSON:
        path = todo.pop(0)
        if path in seen:
            continue
        seen.add(path)
        page = await http.get(path)
        assert page.status_code == 200, f"{path}: {page.status_code}"
        bad = leaks(visible_text(page.text), keys)
        if bad:
            found[path] = sorted(set(bad))
        for href in re.findall(r'href="([^"#]+)', page.text):
            link = urlsplit(href.replace("&amp;", "&")).path
            if link.startswith(prefixes) and not SKIP.search(link) and link not in seen:
                todo.append(link)
    return found


PEOPLE = [
    ("zl-inkoop", ["/werkruimte", "/regio/zuid-limburg", "/meldingen"], ("/regio/zuid-limburg", "/meldingen")),
    ("zl-lead", ["/regio/zuid-limburg", "/regio/zuid-limburg/audit"], ("/regio/zuid-limburg",)),
    ("zl-waarnemer", ["/regio/zuid-limburg/escalaties"], ("/regio/zuid-limburg",)),
    ("lek-inkoop", ["/regio/lekstroom", "/meldingen"], ("/regio/lekstroom", "/meldingen")),
    ("vlinder-beheerder", ["/portaal", "/portaal/archief", "/meldingen"], ("/portaal", "/meldingen")),
    ("beheer", ["/beheer/regios", "/beheer/aanbieders", "/beheer/audit"], ("/beheer",)),
]


@pytest.mark.parametrize(("account", "starts", "prefixes"), PEOPLE, ids=[p[0] for p in PEOPLE])
async def test_every_page_a_person_reaches_reads_as_plain_dutch(world, oidc_settings, account, starts, prefixes):
    await _one_escalation_per_ladder()
    keys = await _known_keys()
    async with app_client(oidc_settings) as http:
        await login(http, account, starts[0])
        found = await _crawl(http, starts, prefixes, keys)
    assert found == {}, "\n".join(f"{path}: {words}" for path, words in found.items())


def _mail_leaks(template: str, payload: dict, keys: set[str]) -> list[str]:
    from apps.notifications.messages import render

    # as delivery renders it (notifications.services): the region's name beside the payload
    mail = render(
        template, {"region_name": "Jeugdhulp Zuid-Limburg", **payload}, "zuid-limburg", "https://trede.example"
    )
    return leaks(f"{mail.subject}\n{mail.text}\n{visible_text(mail.html)}", keys)


@pytest.mark.parametrize("template", sorted(__import__("tests.notifications.test_hardening", fromlist=["x"]).PAYLOADS))
def test_every_kind_of_mail_reads_as_plain_dutch(template):
    from tests.notifications.test_hardening import PAYLOADS

    assert _mail_leaks(template, PAYLOADS[template], set()) == []


async def test_the_mails_the_demo_sends_read_as_plain_dutch(world):
    """The payloads as the app writes them: the demo's notices, and closing with a ladder outcome key."""
    from apps.escalations import services
    from apps.notifications.tables import Notification
    from tests.workspace.support import escalation_of, zl_scope

    lead = Actor(label="Luuk Leider", roles=frozenset({"inkoop_lead"}))
    escalation = await escalation_of("90000002")
    await services.close_escalation(await zl_scope(), escalation.id, actor=lead, outcome="niet_verlengd",
                                    motivation="De DVO wordt niet verlengd.")  # fmt: skip
    keys = await _known_keys()
    rows = await Notification.select(Notification.template, Notification.payload).where(
        Notification.channel == "email").output(load_json=True)  # fmt: skip
    assert "escalatie_gesloten" in {row["template"] for row in rows}
    found = {row["template"]: _mail_leaks(row["template"], row["payload"], keys) for row in rows}
    assert {template: words for template, words in found.items() if words} == {}


def test_every_audit_action_the_code_records_has_a_dutch_description():
    """Each action key written by audit()/ctx.audit()/audit_many in apps/ and core/ reads as a Dutch sentence."""
    from apps.audit.descriptions import ACTIONS_NL, action_nl, details_nl
    from tests.support import ROOT

    source = "\n".join(p.read_text() for d in ("apps", "core") for p in (ROOT / d).rglob("*.py"))
    recorded = set(re.findall(r'(?:audit\(\s*|"action": |action = )"([a-z_]+\.[a-z_.]+)"', source))
    recorded |= {f"admin.region.{s}" for s in re.findall(r'section == "([a-z_]+)"', source)}
    assert recorded and recorded - set(ACTIONS_NL) == set()
    for action in recorded:
        assert leaks(action_nl(action)) == [], action
    shown = details_nl(
        {
            "naar": "verzoek_plan_van_aanpak",
            "document_id": "8692c9fc-6d4e-409f-bc04-0a39dfe40700",
            "raakt_dvo": False,
            "file": "tenants/zuid-limburg.toml",
            "uitkomst": "niet_verlengd",
            "ontvangen_op": "2026-04-06",
            "vervaldatum": "2026-04-06T12:05:09+00:00",
        }
    )
    assert shown == [("naar", "verzoek plan van aanpak"), ("raakt dvo", "nee"), ("file", "regiobestand"),
                     ("uitkomst", "niet verlengd"), ("ontvangen op", "6 april 2026"),
                     ("vervaldatum", "6 april 2026, 14:05")]  # fmt: skip


def test_the_helper_finds_code_and_leaves_dutch_alone():
    text = visible_text(
        '<p title="x">Stap <b>gesprek_direct</b>, status closed, None, provider:086c1234-aaaa, bron: seed 000</p>'
        "<td>tenants/zuid-limburg.toml</td><td>d5707075c2beed36</td><script>var a_b = null;</script>"
        '<p>Lees <code translate="no">doelen_behaald</code>; SHA-256 ' + "ab" * 32 + "</p>"
    )  # fmt: skip
    assert sorted(leaks(text, {"formeel_gesprek"})) == sorted([
        "provider:086c1234-aaaa", "tenants/zuid-limburg.toml", "seed 000", "bron:", "None", "gesprek_direct",
        "d5707075c2beed36", "closed",
    ])  # fmt: skip
    assert leaks("3 open termijnen, met een verlopen termijn; 1 aanbieder; 10 werkdagen; KvK 90000001") == []
    # a count that does not take its noun's number, a "(s)" plural, a date as a machine writes it
    assert sorted(leaks("Geldt voor 1 gemeenten. Aan 3 ontvanger(s). Verstuurd 2026-04-06 en 2026-04-06T12:05.")) == [
        "1 gemeenten", "2026-04-06", "2026-04-06T12:05", "3 ontvanger(s)"]  # fmt: skip
    assert leaks("11 gemeenten, 21 dagen, 1 gemeente, periode 2026-K3, kenmerk ZL-2026-0001, 6 april 2026, "
                 "Geen VOG vrijwilliger(s), dossier-ZL-2026-0001-2026-12-08.pdf") == []


def test_an_outcome_reads_as_words():
    from apps.escalations.timeline import outcome_nl
    from apps.ladders.schema import LadderSpec

    spec = LadderSpec.model_validate({
        "key": "proef", "name": "Proef", "categories": [{"key": "a", "title": "A", "start_step": "s"}],
        "steps": [{"key": "s", "title": "Start", "next": ["opheffen_en_afsluiten"]},
                  {"key": "opheffen_en_afsluiten", "title": "Instroomstop opheffen en afsluiten", "final": True}],
    })  # fmt: skip
    assert outcome_nl("opheffen_en_afsluiten", spec) == "Instroomstop opheffen en afsluiten"  # a step without outcome
    assert outcome_nl("niet_verlengd") == "niet verlengd" and outcome_nl("beeindigd") == "beëindigd"
    assert outcome_nl("ingetrokken") == "Ingetrokken: het signaal bleek onterecht"
    for outcome in ("opheffen_en_afsluiten", "niet_verlengd", "geen_overeenstemming"):
        assert leaks(outcome_nl(outcome, spec)) == []


def test_due_days_read_as_words():
    from datetime import date

    from core.formatting import days_until_nl, first_upper

    today = date(2026, 4, 6)
    assert [days_until_nl(date(2026, 4, d), today) for d in (6, 7, 20, 5, 1)] == [
        "vandaag", "morgen", "over 14 dagen", "1 dag geleden", "5 dagen geleden"]  # fmt: skip
    assert first_upper("het team inkoop van Jeugdhulp Zuid-Limburg") == "Het team inkoop van Jeugdhulp Zuid-Limburg"


def test_counts_take_the_dutch_singular_or_plural():
    from core.formatting import aantal

    assert [aantal(n, "aanbieder", "aanbieders") for n in (0, 1, 2)] == ["0 aanbieders", "1 aanbieder", "2 aanbieders"]


def test_table_headers_never_break_inside_a_word():
    from tests.support import ROOT

    css = (ROOT / "frontend" / "static" / "trede.css").read_text()
    rule = re.search(r"th,\s*\.utrecht-table__header-cell \{([^}]*)\}", css).group(1)
    assert "hyphens: manual" in rule and "word-break: normal" in rule and "overflow-wrap: normal" in rule
