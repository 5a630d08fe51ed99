"""Letters of the ladders: previewed on the escalation page (HTML and PDF), then sent with the step: rendered from the
region's templates to PDF, stored as a document with its SHA-256, on the shared timeline, a notice to the provider's
people with the authorised download, and a double submit is one letter."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import struct
import zlib
from datetime import datetime

from pypdf import PdfReader

from apps.admin.services import _ladder_specs
from apps.audit.tables import AuditEntry
from apps.documents.tables import Document
from apps.escalations import letters, services
from apps.escalations.context import load_context
from apps.escalations.letters import environment
from apps.notifications.tables import Notification
from apps.providers import address
from apps.providers.tables import Provider
from apps.tenancy.tables import Region
from core.actor import Actor
from core.clock import AMSTERDAM, FrozenClock
from tests.accounts.support import app_client, csrf_headers, login
from tests.admin.support import HOLLAND_RIJNLAND
from tests.letter_fields import AGREEMENTS, opening, step_form
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
        assert 'name="veld_afspraken"' in preview.text and 'name="veld_uw_kenmerk"' in preview.text
        form = {**form, **step_form("afspraken_per_brief"), "veld_uw_kenmerk": "VL/2026/118"}
        assert preview.status_code == 200
        assert "Voorbeeld van de brief: Bevestiging van de gemaakte afspraken" in preview.text
        assert "Gesprek gevoerd op 7 december." in preview.text and "Ja, stap zetten en brief versturen" in preview.text
        assert await documents_of(escalation.id) == before  # a preview stores nothing

        pdf = await post_form(http, f"{url}/brief-voorbeeld", {**form, "brief": "bevestiging_afspraken"})
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        text = pdf_text(pdf.content)
        assert "Bevestiging van de gemaakte afspraken" in text and "Maastricht, 8 december 2026" in text
        assert vlinder.name in text and escalation.reference in text and "Gesprek gevoerd op 7 december." in text
        assert "drs. A.M. Voorbeeld" in text and "Hoofd team inkoop Jeugdhulp Zuid-Limburg" in text  # signatory
        flat = " ".join(text.split())
        assert "Uw kenmerk VL/2026/118" in flat and AGREEMENTS in flat  # the provider's reference, the agreements
        assert "Postadres ontbreekt" in text  # the demo provider has no postal address: the preview says so
        assert "Postadres ontbreekt" in preview.text  # also above the in-page preview

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
        assert "Postadres ontbreekt" not in pdf_text(download.content)  # a warning for the decider, not the provider

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
            letter_fields=opening("niet_veiligheid"),
        )  # fmt: skip
        [letter] = await events(opened.id, "brief_verstuurd")
        document = await scope.get(Document, letter.payload["document_id"])
        data = b"".join(storage.open(document.object_key))
        assert hashlib.sha256(data).hexdigest() == document.sha256 and document.size == len(data)
        text = pdf_text(data)
        assert "Escalatiemodel kwaliteit van de Zuid-Limburgse gemeenten" in text  # the region's own template
        assert "uiterlijk 22 december 2026" in text  # 2 weeks from Tuesday 8 December
        assert "Voorbeeldweg 21" in text and "6411 AA" in text and "HEERLEN" in text  # the demo's postal address
        assert len(PdfReader(io.BytesIO(data)).pages[0].images) == 1  # the logo

    default = environment("lekstroom").get_template("verzoek_plan_van_aanpak.html").render
    assert "Zuid-Limburgse" not in default(**_minimal_context())


def _minimal_context() -> dict:
    return {"brief": {"titel": "Verzoek"}, "afzender": {}, "regio": {"naam": "Lekstroom"}, "aanbieder": {},
            "escalatie": {}, "stap": {}, "termijnen": [], "termijn": None, "datum": "8 december 2026",
            "velden": {}}  # fmt: skip


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
            letter_fields=opening("niet_veiligheid"),
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


# --- issue 16 point 2: addressed and signed as official mail ---------------------------------------------------------

INTERNAL_REMARKS = ("standaardwaarde", "bron", "seed", "door de regio vast te stellen")


async def test_a_letter_is_addressed_referenced_and_signed_with_mandate_and_page_numbers(world):
    """The address block from the provider record, ons kenmerk, betreft, the contact person, the named signatory
    with function and mandate, and "pagina 1 van 2" at the foot of the page."""
    escalation = await escalation_of("90000001")
    await Provider.update({Provider.postal_street: "Vlinderlaan 7 B", Provider.postal_code: "6211 AB",
                           Provider.postal_city: "Maastricht"}).where(Provider.id == escalation.provider)  # fmt: skip
    [letter] = await letters.previews(await zl_scope(), escalation.id, "afspraken_per_brief", "Gesprek gevoerd.",
                                      FrozenClock(ON_8_DECEMBER))  # fmt: skip
    assert letter.warnings == []  # the address is complete: no warning
    text = pdf_text(await letters.pdf_of(letter))
    assert "Vlinderlaan 7 B" in text and "6211 AB" in text and "MAASTRICHT" in text
    assert "Postadres ontbreekt" not in text
    assert f"Ons kenmerk {escalation.reference}" in text
    assert "Betreft Bevestiging van de gemaakte afspraken" in text
    assert "Uw kenmerk" not in text  # no reference of the provider's own: no empty line
    assert "L. Proefmans" in text and "043 000 00 00" in text  # the contact person
    assert "Namens het college van burgemeester en wethouders van Maastricht" in text  # the mandate
    assert "drs. A.M. Voorbeeld" in text and "Hoofd team inkoop Jeugdhulp Zuid-Limburg" in text
    assert re.search(r"pagina 1 van \d", text)


async def test_no_letter_of_the_five_seed_ladders_carries_an_internal_remark(world):
    """Every letter key of every ladder of the three regions (five seed ladders), rendered once: nothing from the
    ladder's explanations for the team (where a term comes from, what the region still has to set)."""
    base = await load_context(await zl_scope(), (await escalation_of("90000001")).id, FrozenClock(ON_8_DECEMBER))
    seen: set[str] = set()
    for region in await Region.objects().order_by(Region.slug).output(load_json=True):
        for spec in await _ladder_specs(region):
            ctx = dataclasses.replace(base, region=region, spec=spec)
            for step in spec.steps:
                for key in letters.letters_of(step):
                    if key in seen:
                        continue
                    seen.add(key)
                    letter = await letters.render_letter(ctx, key=key, step=step, motivation="", preview=True)
                    text = re.sub(r"<[^>]+>", " ", letter.html).lower()
                    leaked = [w for w in INTERNAL_REMARKS if w in text]
                    assert not leaked, f"{region.slug}/{spec.key}/{step.key}/{key}: {leaked}"
    assert {"ingebrekestelling", "verzuim", "verzoek_plan_van_aanpak", "schriftelijke_waarschuwing"} <= seen


def test_the_postcode_is_a_dutch_one():
    assert address.check_address({"straat": "Markt 1", "postcode": "6211ab", "plaats": "Maastricht"}).postcode == (
        "6211 AB"
    )
    for wrong in ("0123 AB", "6211", "6211 A1", "62111 AB", "1234 SS"):
        try:
            address.check_address({"straat": "Markt 1", "postcode": wrong, "plaats": "Maastricht"})
        except address.AddressError as exc:
            assert "geen Nederlandse postcode" in exc.errors["postcode"], wrong
        else:
            raise AssertionError(f"{wrong} accepted")
    try:
        address.check_address({"straat": "Markt", "postcode": "", "plaats": ""})
    except address.AddressError as exc:
        assert set(exc.errors) == {"straat", "postcode", "plaats"}
        assert "huisnummer" in exc.errors["straat"] and "1234 AB" in exc.errors["postcode"]
    assert not address.check_address({"straat": "", "postcode": "", "plaats": ""}).complete  # clears it


async def test_the_region_team_and_the_provider_admin_set_the_postal_address(world, oidc_settings):
    vlinder = await provider("90000001")
    page = f"{ZL}/aanbieders/{vlinder.id}/postadres"
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", page)
        wrong = await post_form(http, page, {"straat": "Vlinderlaan 7", "postcode": "62 11", "plaats": "Maastricht"})
        assert wrong.status_code == 422 and "‘62 11’ is geen Nederlandse postcode" in wrong.text
        assert 'value="Vlinderlaan 7"' in wrong.text  # what was typed stays in the form
        saved = await post_form(http, page, {"straat": "Vlinderlaan 7", "postcode": "6211ab", "plaats": "Maastricht"})
        assert saved.status_code == 303
        assert 'value="6211 AB"' in (await http.get(page)).text
    async with app_client(oidc_settings) as http:
        await login(http, "vlinder-beheerder", "/portaal/gegevens")
        form = {"straat": "Postbus 123", "postcode": "6200 AA", "plaats": "Maastricht"}
        assert (await post_form(http, "/portaal/gegevens", form)).status_code == 303
        assert 'value="Postbus 123"' in (await http.get("/portaal/gegevens")).text
    stored = await provider("90000001")
    assert (stored.postal_street, stored.postal_code, stored.postal_city) == ("Postbus 123", "6200 AA", "Maastricht")
    changes = await AuditEntry.objects().where(AuditEntry.action == "provider.address")
    assert [c.actor_label for c in changes][-2:] and len(changes) == 2


async def test_the_admin_page_sets_signatory_mandate_and_contact(world, oidc_settings):
    """The region's letter settings on /beheer (a region made there): signatory, mandate and contact person,
    checked in Dutch next to the field; what is saved is in the region's settings the letters read."""
    async with app_client(oidc_settings) as http:
        await login(http, "beheer")
        await http.post("/beheer/regios/nieuw", data=HOLLAND_RIJNLAND, headers=csrf_headers(http))
        page = "/beheer/regios/holland-rijnland/brieven"
        letters_form = {k: v for k, v in HOLLAND_RIJNLAND.items() if k.startswith("brief_")}
        bad = {**letters_form, "brief_contact_phone": "bel mij", "brief_contact_email": "geen-adres"}
        wrong = await http.post(page, data=bad, headers=csrf_headers(http))
        assert wrong.status_code == 422 and "Schrijf het telefoonnummer met cijfers" in wrong.text
        assert "‘geen-adres’ is geen geldig e-mailadres" in wrong.text and 'value="bel mij"' in wrong.text
        saved = await http.post(page, data={
            **letters_form, "brief_signatory_name": "mr. P. Proef", "brief_signatory_function": "Teamleider inkoop",
            "brief_mandate": "namens het college van burgemeester en wethouders van Leiden",
            "brief_contact_name": "T. Test", "brief_contact_phone": "071 000 00 00",
        }, headers=csrf_headers(http))  # fmt: skip
        assert saved.status_code == 303
    region = await Region.objects().where(Region.slug == "holland-rijnland").output(load_json=True).first()
    letter_settings = region.settings["letters"]
    assert letter_settings["signatory_name"] == "mr. P. Proef" and letter_settings["contact_phone"] == "071 000 00 00"
    assert letter_settings["mandate"].endswith("van Leiden") and not letter_settings.get("contact_email")
