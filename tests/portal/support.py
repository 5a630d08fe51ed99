"""Shared set-up of the portal and document tests: the demo world plus escalations that ask Jeugdzorg De Vlinder for
documents in two regions, files of every kind, and cleaning the evidence tables (not in the suite's delete list)."""

from __future__ import annotations

import io
import zipfile

from apps.escalations import services as escalations
from apps.providers.tables import Provider
from apps.tenancy.tables import Region
from core.actor import SYSTEM
from core.tenancy import RegionScope
from tests.letter_fields import opening

VLINDER_KVK = "90000001"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600


def ooxml(kind: str = "word") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        z.writestr("_rels/.rels", "<Relationships/>")
        z.writestr(f"{kind}/document.xml" if kind == "word" else f"{kind}/workbook.xml", "<x/>" * 1000)
    return out.getvalue()


def plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("notes.txt", "not an office document")
    return out.getvalue()


async def open_vlinder_escalations() -> dict:
    """Two escalations asking De Vlinder for a document: a plan van aanpak in Zuid-Limburg (2 weeks), and the
    Lekstroom quality article's first step. Returns {"zl": Escalation, "lek": Escalation, "other": Escalation}."""
    vlinder = await Provider.objects().where(Provider.kvk_number == VLINDER_KVK).first()
    regions = {r.slug: r for r in await Region.objects()}
    zl = await escalations.open_escalation(
        RegionScope(regions["zuid-limburg"].id), provider=vlinder, ladder_key="kwaliteit", category="niet_veiligheid",
        subcategory="administratief", summary="Jaarverantwoording 2025 ontbreekt.", motivation="Test", actor=SYSTEM,
        letter_fields=opening("niet_veiligheid"),
    )  # fmt: skip
    lek_scope = RegionScope(regions["lekstroom"].id)
    lek = await escalations.open_escalation(
        lek_scope, provider=vlinder, ladder_key="kwaliteit", category="kwaliteit",
        summary="Klachtenregeling niet bekend bij cliënten.", motivation="Test", actor=SYSTEM,
        letter_fields=opening("kwaliteit"),
    )  # fmt: skip
    samen = await Provider.objects().where(Provider.kvk_number == "90000002").first()
    other = await escalations.open_escalation(
        RegionScope(regions["zuid-limburg"].id), provider=samen, ladder_key="kwaliteit", category="niet_veiligheid",
        subcategory="financieel", summary="Declaraties van een andere aanbieder.", motivation="Test", actor=SYSTEM,
        letter_fields=opening("niet_veiligheid"),
    )  # fmt: skip
    return {"zl": zl, "lek": lek, "other": other}
