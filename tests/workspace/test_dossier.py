"""The dossier of one escalation as a PDF: the header, every event (internal ones marked), the decisions with their
motivations, the letters sent, the documents with their SHA-256, the measures with their scope; asked for on the
page, built by the worker (tests/escalations/test_dossier_background.py has the flow), downloaded as an attachment,
audited, and another region's escalation is a 404."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import datetime

import pytest
from pypdf import PdfReader

from apps.audit.tables import AuditEntry
from apps.documents.tables import Document
from core.broker import configure_broker
from core.clock import AMSTERDAM, FrozenClock
from tests.accounts.support import app_client, login
from tests.letter_fields import step_form
from tests.records import run_dossier_builds
from tests.workspace.support import ZL, escalation_of, events, post_form, zl_scope

ON_8_DECEMBER = datetime(2026, 12, 8, 10, 0, tzinfo=AMSTERDAM)


@pytest.fixture
def broker():
    broker = configure_broker("stub://")  # the app's in-process broker: the requests' messages wait on it
    broker.flush_all()
    yield broker
    broker.flush_all()


async def built_dossier(http, url: str, broker, clock):
    """Ask for the dossier on the page, let the worker build it, download it through the old address."""
    asked = await post_form(http, f"{url}/dossier", {})
    assert asked.status_code == 303
    await run_dossier_builds(broker, clock)
    return await http.get(f"{url}/dossier.pdf")


def pdf_text(data: bytes) -> str:
    """The PDF's text with whitespace folded (WeasyPrint wraps long lines and checksums)."""
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


def without_spaces(text: str) -> str:
    return re.sub(r"\s+", "", text)


async def test_the_dossier_holds_events_decisions_letters_documents_and_measures(world, oidc_settings, broker):
    escalation = await escalation_of("90000001")  # demo: safety, VOG werknemers, at "gesprek_direct"
    url = f"{ZL}/escalaties/{escalation.id}"
    async with app_client(oidc_settings) as http:
        http.app.state.clock = FrozenClock(ON_8_DECEMBER)
        await login(http, "zl-lead", url)
        page = await http.get(url)
        assert f'action="{url}/dossier"' in page.text and ">Dossier maken</button>" in page.text
        await post_form(http, f"{url}/stap", {"naar": "afspraken_per_brief", "motivering": "Gesprek gevoerd op 7 "
                        "december; afspraken per brief bevestigd.", "sleutel": "d-1", "bevestigd": "ja",
                        **step_form("afspraken_per_brief")})  # fmt: skip
        await post_form(http, f"{url}/notitie", {"tekst": "Directeur telefonisch gesproken over de VOG's."})
        await post_form(http, f"{url}/stap", {"naar": "instroomstop", "motivering": "VOG's ontbreken nog steeds: "
                        "geen nieuwe cliënten.", "sleutel": "d-2", "bevestigd": "ja",
                        **step_form("instroomstop")})  # fmt: skip

        response = await built_dossier(http, url, broker, http.app.state.clock)
        assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
        disposition = response.headers["content-disposition"]
        assert disposition.startswith("attachment;") and f"dossier-{escalation.reference}-2026-12-08.pdf" in disposition
        text = pdf_text(response.content)

    # the header
    assert f"Dossier escalatie {escalation.reference}" in text
    assert "Jeugdhulp Zuid-Limburg" in text or "Zuid-Limburg" in text
    assert "Jeugdzorg De Vlinder B.V. (KvK 90000001)" in text
    assert re.search(r"Ladder .+ \(versie \d+\)", text)
    # every event, in order, the internal note marked as internal
    all_events = await events(escalation.id)
    assert len(all_events) >= 6
    for event in all_events:
        assert f"{event.sequence}. " in text
    assert "Directeur telefonisch gesproken over de VOG's. " in text + " "
    note_at = text.index("Directeur telefonisch gesproken")
    assert "Intern" in text[text.rindex("Interne notitie", 0, note_at) : note_at]
    # decisions with their motivations
    decisions = text[text.index("Besluiten en motiveringen") : text.index("Maatregelen")]
    assert "Gesprek gevoerd op 7 december; afspraken per brief bevestigd." in decisions
    assert "VOG's ontbreken nog steeds: geen nieuwe cliënten." in decisions
    assert "Directeur telefonisch" not in decisions  # a note is not a decision
    # the measure with its 16 municipalities
    measures = text[text.index("Maatregelen") : text.index("Termijnen")]
    assert "Instroomstop" in measures and "16 gemeenten" in measures and "Maastricht" in measures
    # the letters and every document with its checksum
    documents = await (await zl_scope()).objects(Document).where(Document.escalation == escalation.id)
    letters = [d for d in documents if d.kind == "brief"]
    assert len(letters) >= 2 and any(d.kind == "reactie" for d in documents)  # the demo reply of the provider
    flat = without_spaces(text)
    for document in [d for d in documents if d.kind != "dossier"]:  # the dossier cannot hold its own checksum
        assert document.sha256 and document.sha256 in flat, document.original_filename
    letters_part = text[text.index("Verstuurde brieven") : text.index("Documenten")]
    assert "Bevestiging van de gemaakte afspraken" in letters_part

    [entry] = await AuditEntry.objects().where(AuditEntry.action == "dossier.export").output(load_json=True)
    assert entry.target_id == str(escalation.id) and entry.actor_label == "Luuk Leider"
    assert entry.detail["sha256"] == hashlib.sha256(response.content).hexdigest()
    assert entry.detail["kenmerk"] == escalation.reference


async def test_the_observer_may_export_and_others_get_404(world, oidc_settings, broker):
    escalation = await escalation_of("90000001")
    page = f"{ZL}/escalaties/{escalation.id}"
    url = f"{page}/dossier.pdf"
    async with app_client(oidc_settings) as http:
        await login(http, "zl-waarnemer")
        response = await built_dossier(http, page, broker, FrozenClock(ON_8_DECEMBER))
        assert response.status_code == 200 and pdf_text(response.content).startswith("Dossier escalatie")
    for account in ("lek-inkoop", "zl-toegang"):  # another region's team; a municipality without read rights
        async with app_client(oidc_settings) as http:
            await login(http, account)
            assert (await http.get(url)).status_code == 404
            assert (await post_form(http, f"{page}/dossier", {})).status_code == 404
            # nor through their own region's path
            own = "/regio/lekstroom" if account == "lek-inkoop" else ZL
            assert (await http.get(f"{own}/escalaties/{escalation.id}/dossier.pdf")).status_code == 404
    exports = await AuditEntry.select(AuditEntry.actor_label).where(AuditEntry.action == "dossier.export")
    assert exports == [{"actor_label": "Wim Waarnemer"}]  # the refused requests left no export behind
