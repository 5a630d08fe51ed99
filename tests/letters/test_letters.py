"""Letters of the ladders: previewed on the escalation page (HTML and PDF), then sent with the step: rendered from the
region's templates to PDF, stored as a document with its SHA-256, on the shared timeline, a notice to the provider's
people with the authorised download, and a double submit is one letter."""

from __future__ import annotations

import hashlib
import io
import re
import struct
import zlib
from datetime import datetime

from pypdf import PdfReader

from apps.audit.tables import AuditEntry
from apps.documents.tables import Document
from apps.escalations import services
from apps.escalations.letters import environment
from apps.notifications.tables import Notification
from apps.tenancy.tables import Region
from core.actor import Actor
from core.clock import AMSTERDAM, FrozenClock
from tests.accounts.support import app_client, login
from tests.records import pdfa_facts
from tests.workspace.support import ZL, escalation_of, events, post_form, provider, zl_scope

ON_8_DECEMBER = datetime(2026, 12, 8, 10, 0, tzinfo=AMSTERDAM)


def pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def documents_of(escalation_id) -> list:
    return await (await zl_scope()).objects(Document).where(Document.escalation == escalation_id)


def tiny_png() -> bytes:
    """A 2×2 red PNG, built by hand (no image library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))  # fmt: skip


async def test_preview_then_send_the_letter_once_as_a_stored_pdf(world, oidc_settings):
    escalation = await escalation_of("90000001")  # demo: safety, at "gesprek_direct"
    vlinder = await provider("90000001")
    url = f"{ZL}/escalaties/{escalation.id}"
    before = await documents_of(escalation.id)  # letters the demo's opening step already sent
    async with app_client(oidc_settings) as http:
        http.app.state.clock = FrozenClock(ON_8_DECEMBER)
        await login(http, "zl-inkoop", url)
        form = {"naar": "afspraken_per_brief", "motivering": "Gesprek gevoerd op 7 december.", "sleutel": "brief-1"}
        preview = await post_form(http, f"{url}/stap", form)
        assert preview.status_code == 200
        assert "Voorbeeld van de brief: Bevestiging van de gemaakte afspraken" in preview.text
        assert "Gesprek gevoerd op 7 december." in preview.text and "Ja, stap zetten en brief versturen" in preview.text
        assert await documents_of(escalation.id) == before  # a preview stores nothing

        pdf = await post_form(http, f"{url}/brief-voorbeeld", {**form, "brief": "bevestiging_afspraken"})
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        text = pdf_text(pdf.content)
        assert "Bevestiging van de gemaakte afspraken" in text and "Maastricht, 8 december 2026" in text
        assert vlinder.name in text and escalation.reference in text and "Gesprek gevoerd op 7 december." in text
        assert "Het hoofd van het team inkoop Jeugdhulp Zuid-Limburg" in text  # the region's signature

        sent = await post_form(http, f"{url}/stap", {**form, "bevestigd": "ja"})
        again = await post_form(http, f"{url}/stap", {**form, "bevestigd": "ja"})  # a double click
        assert sent.status_code == again.status_code == 303

        new = [d for d in await documents_of(escalation.id) if d.id not in {b.id for b in before}]
        [document] = new
        assert document.kind == "brief" and document.content_type == "application/pdf"
        assert document.escalation == escalation.id and document.provider == vlinder.id
        assert re.fullmatch(r"letters/[0-9a-f]{32}", document.object_key)  # generated, not from a name
        letter = (await events(escalation.id, "brief_verstuurd"))[-1]
        assert letter.visibility == "shared" and letter.payload["document_id"] == str(document.id)
        assert letter.payload["sha256"] == document.sha256 and letter.motivation == "Gesprek gevoerd op 7 december."

        page = await http.get(url)
        assert "Brief verstuurd" in page.text and f'href="../documenten/{document.id}"' in page.text
        assert document.sha256 in page.text  # in the list of documents, with its checksum
        download = await http.get(f"{ZL}/documenten/{document.id}")
        assert download.status_code == 200 and hashlib.sha256(download.content).hexdigest() == document.sha256
        assert "Maastricht, 8 december 2026" in pdf_text(download.content)

    [notice] = await (await zl_scope()).objects(Notification).where(Notification.recipient == f"provider:{vlinder.id}")
    assert notice.payload["document_id"] == str(document.id)
    assert f"/portaal/documenten/{document.id}" in notice.payload["bericht"]
    audited = await AuditEntry.objects().where(AuditEntry.action == "letter.send").output(load_json=True)
    assert [a.detail["sha256"] for a in audited if a.target_id == str(escalation.id)] == [document.sha256]

    async with app_client(oidc_settings) as http:  # the provider downloads it through Trede, after logging in
        await login(http, "vlinder-beheerder", "/portaal")
        download = await http.get(f"/portaal/documenten/{document.id}")
        assert download.status_code == 200 and hashlib.sha256(download.content).hexdigest() == document.sha256


async def test_region_template_deadline_and_logo(world, oidc_settings):
    """Zuid-Limburg's own request letter (tenants/letters/zuid-limburg/), the plan's deadline in Dutch, the
    region's logo from storage; Lekstroom gets the default template."""
    async with app_client(oidc_settings) as http:  # configures where letters are stored
        storage = http.app.state.storage
        storage.put("logos/zl-test", io.BytesIO(tiny_png()), "image/png")
        region = await Region.objects().where(Region.slug == "zuid-limburg").output(load_json=True).first()
        settings = dict(region.settings)
        settings["letters"] = {**settings["letters"], "logo": "logos/zl-test"}
        await Region.update({Region.settings: settings}).where(Region.id == region.id)

        scope = await zl_scope()
        lead = Actor(label="Luuk Lead", roles=frozenset({"inkoop_lead"}))
        opened = await services.open_escalation(
            scope, provider=await provider("90000002"), ladder_key="kwaliteit", category="niet_veiligheid",
            subcategory="administratief", summary="Dossiers onvolledig.", motivation="Signaal van de toegang.",
            actor=lead, clock=FrozenClock(ON_8_DECEMBER),
        )  # fmt: skip
        [letter] = await events(opened.id, "brief_verstuurd")
        document = await scope.get(Document, letter.payload["document_id"])
        data = b"".join(storage.open(document.object_key))
        assert hashlib.sha256(data).hexdigest() == document.sha256 and document.size == len(data)
        text = pdf_text(data)
        assert "Escalatiemodel kwaliteit van de Zuid-Limburgse gemeenten" in text  # the region's own template
        assert "uiterlijk 22 december 2026" in text  # 2 weeks from Tuesday 8 December
        assert len(PdfReader(io.BytesIO(data)).pages[0].images) == 1  # the logo

    default = environment("lekstroom").get_template("verzoek_plan_van_aanpak.html").render
    assert "Zuid-Limburgse" not in default(**_minimal_context())


def _minimal_context() -> dict:
    return {"brief": {"titel": "Verzoek"}, "afzender": {}, "regio": {"naam": "Lekstroom"}, "aanbieder": {},
            "escalatie": {}, "stap": {}, "termijnen": [], "termijn": None, "datum": "8 december 2026"}  # fmt: skip


async def test_a_sent_letter_is_a_pdfa_record_with_its_metadata(world, oidc_settings):
    """Issue 16 point 4: the stored letter is PDF/A-3a (tagged), with title, the region as author, Dutch and its
    creation date in the XMP metadata, and the sRGB output intent an archive needs."""
    async with app_client(oidc_settings) as http:  # configures where letters are stored
        storage = http.app.state.storage
        scope = await zl_scope()
        lead = Actor(label="Luuk Lead", roles=frozenset({"inkoop_lead"}))
        opened = await services.open_escalation(
            scope, provider=await provider("90000002"), ladder_key="kwaliteit", category="niet_veiligheid",
            subcategory="administratief", summary="Dossiers onvolledig.", motivation="Signaal van de toegang.",
            actor=lead, clock=FrozenClock(ON_8_DECEMBER),
        )  # fmt: skip
        [letter] = await events(opened.id, "brief_verstuurd")
        document = await scope.get(Document, letter.payload["document_id"])
        data = b"".join(storage.open(document.object_key))

    facts = pdfa_facts(data)
    assert (facts["part"], facts["conformance"]) == ("3", "A")
    assert facts["tagged"] and facts["marked"]  # level A: the structure a screen reader follows
    assert facts["title"] == f"{letter.payload['titel']}: {opened.reference}" == facts["info_title"]
    assert facts["creator"] == ["Jeugdhulp Zuid-Limburg"]  # the region that sends it
    assert facts["language"] == ["nl"] and facts["lang"] == "nl"
    assert facts["created"] is not None
    [(subtype, has_profile, condition)] = facts["intents"]
    assert subtype == "/GTS_PDFA1" and has_profile and "sRGB" in condition
    assert opened.reference in pdf_text(data)  # and still the letter, with its text
