"""Helpers for the tests of records: what an archive reads from a PDF/A (the XMP metadata, the output intent, the
tagging), and running the dossier builds a request handed to the worker (the stub broker's queue)."""

from __future__ import annotations

import io

from dramatiq import Message
from pypdf import PdfReader

PDFAID = "http://www.aiim.org/pdfa/ns/id/"


def pdfa_facts(data: bytes) -> dict:
    """The PDF/A identification, Dublin Core fields and output intent of a PDF, as a validator reads them."""
    reader = PdfReader(io.BytesIO(data))
    xmp = reader.xmp_metadata
    assert xmp is not None, "no XMP metadata stream"
    description = xmp.rdf_root.getElementsByTagNameNS("http://www.w3.org/1999/02/22-rdf-syntax-ns#", "Description")
    ids = {name: d.getAttributeNS(PDFAID, name) for d in description for name in ("part", "conformance")
           if d.hasAttributeNS(PDFAID, name)}  # fmt: skip
    root = reader.trailer["/Root"]
    intents = [intent.get_object() for intent in root.get("/OutputIntents", [])]
    return {
        "part": ids.get("part"),
        "conformance": ids.get("conformance"),
        "title": (xmp.dc_title or {}).get("x-default"),
        "creator": list(xmp.dc_creator or []),
        "language": list(xmp.dc_language or []),
        "created": xmp.xmp_create_date,
        "intents": [
            (str(i["/S"]), "/DestOutputProfile" in i, str(i.get("/OutputConditionIdentifier", ""))) for i in intents
        ],  # fmt: skip
        "marked": bool(root.get("/MarkInfo", {}).get("/Marked")),
        "tagged": "/StructTreeRoot" in root,
        "lang": str(root.get("/Lang", "")),
        "info_title": (reader.metadata or {}).get("/Title"),
    }


def queued(broker, actor_name: str) -> list[tuple]:
    """The arguments of each message for ``actor_name`` waiting on the stub broker's queue."""
    messages = [Message.decode(raw) for raw in list(broker.queues["trede"].queue)]
    return [tuple(m.args) for m in messages if m.actor_name == actor_name]


async def run_dossier_builds(broker, clock) -> list:
    """What the worker does with the queued dossier requests (each message once, as a worker takes it)."""
    from apps.escalations.dossier import build_requested  # why: loads WeasyPrint only for the tests that build

    built = [await build_requested(region_id, request_id, clock) for region_id, request_id in
             queued(broker, "build_dossier")]  # fmt: skip
    broker.flush("trede")
    return built
