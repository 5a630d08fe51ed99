"""Letters of a ladder (``send_letter``): rendered from the region's Jinja templates to PDF (WeasyPrint), stored as a
document, put on the shared timeline and sent to the provider's people through the outbox.

Templates: ``tenants/letters/<region-slug>/<letter>.html`` overrides the default ``frontend/templates/brieven/
<letter>.html``; a letter without its own template uses ``algemeen.html`` (the step's title and description).
Every letter extends ``_brief.html`` (letterhead, addressee, date line, subject, signature) and fills the block
``inhoud``, which is also what the escalation page previews in HTML (the PDF preview is the whole letter).

The letter is issued inside the transaction of the step that sends it: the step's idempotency key makes a double
submit one step, so one letter. The PDF is put into storage before the rows are written; if the transaction then
fails, the object is deleted again.
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import anyio.to_thread
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from jinja2_fragments import render_block
from markupsafe import escape as escape_html

from apps.documents.tables import Document
from apps.escalations.chosen_terms import with_chosen_terms
from apps.escalations.context import (
    MEASURE_LABELS,
    SHARED,
    Context,
    EscalationError,
    load_context,
    load_region,
    notification_key,
)
from apps.escalations.letter_fields import preview_texts
from apps.escalations.letter_receipts import record_delivery
from apps.escalations.letter_sending import (
    METHODS,
    PORTAL,
    RECORDED_WAYS,
    REGISTERED,
    expected_receipt,
    method_or_default,
)
from apps.escalations.preconditions import term_was_missed
from apps.escalations.tables import Deadline, Escalation, LetterDelivery, Measure, TimelineEvent
from apps.ladders.calendar import AMSTERDAM, format_date_nl
from apps.ladders.deadlines import due_date_for
from apps.ladders.schema import (
    LEGAL_EXCEPTIONS,
    LETTER,
    LadderSpec,
    SendLetter,
    StartMeasure,
    StepSpec,
    runs_from_letter,
)
from apps.ladders.services import latest_version
from apps.ladders.tables import Ladder
from apps.notifications.tables import Notification
from apps.providers.tables import Provider
from core.actor import Actor
from core.settings import ROOT, ConfigError, embedded_defaults, load_settings
from core.storage import Storage, new_key, storage_from_url

DEFAULT_TEMPLATES = Path(ROOT) / "frontend" / "templates" / "brieven"
REGION_TEMPLATES = Path(ROOT) / "tenants" / "letters"
GENERIC = "algemeen"
DEFAULT_FONT = "DejaVu Sans"
MISSING_ADDRESS_TEXT = (
    "Postadres ontbreekt: de aanbieder heeft geen volledig postadres. De brief kan via Trede en per "
    "e-mail; vul het postadres in bij de aanbieder voordat hij per post gaat."
)
PDF = "application/pdf"
DOCUMENT_KIND = "brief"

# Dutch titles (the letter's subject line and the document's name) of the letters the ladders send.
LETTER_TITLES = {
    "verzoek_plan_van_aanpak": "Verzoek om een plan van aanpak",
    "officiele_brief_plan_van_aanpak": "Officiële brief: plan van aanpak",
    "ingebrekestelling": "Ingebrekestelling",
    "bevestiging_afspraken": "Bevestiging van de gemaakte afspraken",
    "verzuim": "Mededeling van verzuim",
    "instroomstop_bericht": "Instroomstop",
    "schriftelijke_waarschuwing": "Schriftelijke waarschuwing",
    "uitnodiging_formeel_gesprek": "Uitnodiging voor een formeel gesprek",
    "uitnodiging_overleg_verbetertraject": "Uitnodiging voor overleg over een verbetertraject",
    "tekortkoming_deelovereenkomst": "Tekortkoming in de nakoming van de deelovereenkomst",
    "niet_verlengen_dvo": "Voornemen de DVO niet te verlengen",
    "ontbinding": "Ontbinding van de overeenkomst",
    "opzegging": "Opzegging van de overeenkomst",
    "maatregel_clientenstop": "Maatregel: cliëntenstop",
    "maatregel_boete": "Maatregel: boete",
    "maatregel_terugvordering": "Maatregel: terugvordering",
    "maatregel_verrekening": "Maatregel: verrekening met toekomstige declaraties",
    "maatregel_overdracht_clienten": "Maatregel: verplichte overdracht van cliënten",
    "opheffing_instroomstop": "Opheffing van de instroomstop",
    "opheffing_clientenstop": "Opheffing van de cliëntenstop",
    "afsluiting": "Afsluiting van de escalatie",
}


def letter_title(key: str) -> str:
    return LETTER_TITLES.get(key, key.replace("_", " ").capitalize())


# --- storage and links: set once by the app (``configure``); a worker process falls back to its settings ----------

_configured: dict[str, Any] = {}


def configure(storage: Storage, base_url: str) -> None:
    """Called by ``core.app.create_app``: the object storage letters go to and the address links point at."""
    _configured["storage"] = storage
    _configured["base_url"] = base_url.rstrip("/")


def _settings_fallback() -> None:
    """No app in this process (a worker, the CLI, demo data in tests): the settings of the environment, or those
    of the embedded default (objects under ``var/``) when the environment sets none."""
    try:
        settings = load_settings()
    except ConfigError:
        settings = load_settings({**embedded_defaults(), **os.environ})
    configure(storage_from_url(settings.storage_url), settings.base_url)


def letter_storage() -> Storage:
    if "storage" not in _configured:
        _settings_fallback()
    return _configured["storage"]


def base_url() -> str:
    if "base_url" not in _configured:
        _settings_fallback()
    return _configured["base_url"]


# --- rendering -----------------------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def environment(region_slug: str) -> Environment:
    """The region's own templates first, then the defaults. The slug is a checked a-z0-9- value of the region row."""
    loaders = []
    if re.fullmatch(r"[a-z0-9-]+", region_slug):
        loaders.append(FileSystemLoader(REGION_TEMPLATES / region_slug))
    loaders.append(FileSystemLoader(DEFAULT_TEMPLATES))
    env = Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(["html"]))
    env.filters["datum"] = lambda value: format_date_nl(value) if isinstance(value, date) else str(value or "")
    return env


def template_name(env: Environment, key: str) -> str:
    name = f"{key}.html"
    try:
        env.get_template(name)
    except Exception:  # noqa: BLE001 - any missing or broken lookup falls back to the generic letter
        return f"{GENERIC}.html"
    return name


def logo_data_uri(storage: Storage, key: str | None) -> str:
    """The region's uploaded logo as a data URI for the PDF ("" without one, or when it cannot be read)."""
    if not key:
        return ""
    try:
        data = b"".join(storage.open(key))
    except (OSError, ValueError, KeyError):
        return ""
    except Exception:  # noqa: BLE001 - an S3 error must not stop a letter; it goes without the logo
        return ""
    if data.startswith(b"\x89PNG"):
        media = "image/png"
    elif data.startswith(b"\xff\xd8"):
        media = "image/jpeg"
    elif b"<svg" in data[:1024]:
        media = "image/svg+xml"
    else:
        return ""
    return f"data:{media};base64,{base64.b64encode(data).decode()}"


@dataclass
class Letter:
    key: str
    title: str
    html: str  # the whole letter (for the PDF)
    body_html: str  # only the block "inhoud" (the in-page preview)
    filename: str
    warnings: list[str] = field(default_factory=list)  # for the decider in a preview, never in the sent letter


def _receipt_words(from_letter: bool, sending: str, starts: datetime) -> dict:
    """What a letter says of a term it sets (BW 3:37 lid 3): that it runs from the letter's receipt
    (``na_ontvangst``), how the letter goes (``verzending``) and, unless through the portal (received when sent),
    the day it is expected to arrive (``verwacht``), from which the date the letter prints is counted."""
    if not from_letter:
        return {"na_ontvangst": False, "verzending": sending, "verwacht": ""}
    expected = "" if sending == PORTAL else format_date_nl(starts.astimezone(AMSTERDAM).date())
    return {"na_ontvangst": True, "verzending": sending, "verwacht": expected}


async def step_deadlines(ctx: Context, step: StepSpec, *, preview: bool, sending: str = PORTAL) -> list[dict]:
    """The step's deadlines for the letter: the open ones once the step is entered; in a preview (the step is not
    entered yet) the terms counted from now, as entering the step would count them -- a term the letter sets from
    the letter's expected receipt for its way of ``sending`` (``letter_sending.expected_receipt``)."""
    terms = {t.key: t for t in step.terms}

    def title(key: str) -> str:
        return terms[key].title if key in terms and terms[key].title else key.replace("_", " ")

    if preview:
        found = []
        received = expected_receipt(sending, ctx.clock.now(), ctx.calendar)
        for term in step.terms:
            from_letter = runs_from_letter(step, term)
            start = received if from_letter else ctx.clock.now()
            try:
                due = due_date_for(start, term.term, ctx.calendar)
            except Exception:  # noqa: BLE001 - a fixed-date term may have passed: the preview leaves it out
                continue
            found.append({"titel": title(term.key), "termijn": term.term, "datum": format_date_nl(due.due_date),
                          **_receipt_words(from_letter, sending, start), "_sort": due.due_at})  # fmt: skip
        return [{k: v for k, v in d.items() if k != "_sort"} for d in sorted(found, key=lambda d: d["_sort"])]
    rows = (
        await ctx.scope.objects(Deadline)
        .where(
            (Deadline.escalation == ctx.escalation.id)
            & (Deadline.step == step.key)
            & Deadline.status.is_in(["open", "suspended"])
        )
        .order_by(Deadline.due_at)
    )
    return [
        {"titel": title(d.key), "termijn": d.term, "datum": format_date_nl(d.due_at.astimezone(AMSTERDAM).date()),
         **_receipt_words(d.starts == LETTER, sending, d.starts_at)}
        for d in rows
    ]  # fmt: skip


async def earlier_notice(ctx: Context, step: StepSpec) -> dict | None:
    """For a step with a precondition (verzuim after an ingebrekestelling): the letter of one of the required steps
    it rests on, with its date and the term it set, so that a letter refers only to a notice that was sent. Where
    the precondition asks for a passed term, the latest notice whose term has passed (a later notice whose term
    still runs is not what the step rests on); else, or when none has passed yet (a preview), the latest."""
    if step.requires is None:
        return None
    rows = (
        await ctx.scope.select(TimelineEvent, TimelineEvent.id, TimelineEvent.occurred_at, TimelineEvent.payload)
        .where((TimelineEvent.escalation == ctx.escalation.id) & (TimelineEvent.kind == "brief_verstuurd"))
        .order_by(TimelineEvent.sequence, ascending=False)
    )
    sent = [r for r in rows if (r["payload"] or {}).get("stap") in step.requires.steps]
    if not sent:
        return None
    terms = (
        await ctx.scope.objects(Deadline)
        .where(
            (Deadline.escalation == ctx.escalation.id)
            & Deadline.step.is_in(list(step.requires.steps))
            & Deadline.due_at.is_not_null()  # a term still waiting for its event was never set
        )
        .order_by(Deadline.starts_at, ascending=False)
    )

    deliveries = {row["event"]: row for row in await ctx.scope.select(
        LetterDelivery, LetterDelivery.id, LetterDelivery.event, LetterDelivery.method, LetterDelivery.received_at,
    ).where(LetterDelivery.escalation == ctx.escalation.id)}  # fmt: skip

    def term_of(row) -> Deadline | None:
        """The term the letter's step set when it sent the letter: the one counted from that letter's receipt, else
        the latest one started by then."""
        of_step = [t for t in terms if t.step == row["payload"]["stap"]]
        delivery = deliveries.get(row["id"])
        linked = next((t for t in of_step if delivery and t.letter_delivery == delivery["id"]), None)
        return linked or next((t for t in of_step if t.starts_at and t.starts_at <= row["occurred_at"]),
                              of_step[0] if of_step else None)  # fmt: skip

    now = ctx.clock.now()
    passed = [r for r in sent if (t := term_of(r)) is not None and t.due_at <= now and t.met_at is None]
    chosen = passed[0] if step.requires.term_passed and passed else sent[0]
    term = term_of(chosen)
    # a registered or hand-delivered notice whose receipt is recorded: the letter names the day it arrived
    receipt = deliveries.get(chosen["id"])
    received = receipt["received_at"] if receipt and receipt["method"] in RECORDED_WAYS else None
    return {
        "titel": chosen["payload"].get("titel", ""),
        "datum": format_date_nl(chosen["occurred_at"].astimezone(AMSTERDAM).date()),
        "ontvangen": format_date_nl(received.astimezone(AMSTERDAM).date()) if received else "",
        "termijn": term.term if term else "",
        "termijn_datum": format_date_nl(term.due_at.astimezone(AMSTERDAM).date()) if term else "",
    }


def _measure_of(step: StepSpec) -> dict | None:
    """The measure the step imposes, as its letter prints it (what happens to current clients, from the ladder)."""
    measure = next((a for a in step.on_enter if isinstance(a, StartMeasure)), None)
    if measure is None:
        return None
    return {"soort": measure.measure, "zittende_clienten": measure.current_clients}


async def measures_in_force(ctx: Context) -> list[str]:
    """The measures of the escalation that still hold, in Dutch ("boete"): a closing letter says they remain."""
    if ctx.escalation.id is None:
        return []
    rows = await ctx.scope.select(Measure, Measure.kind).where(
        (Measure.escalation == ctx.escalation.id) & Measure.ended_at.is_null()
    ).order_by(Measure.started_at)
    return [MEASURE_LABELS.get(r["kind"], r["kind"]) for r in rows]


def provider_address(provider: Provider | None) -> dict:
    """The addressee as the letter prints it: name, KvK number and postal address (street and number, postcode and
    city); ``adres_ontbreekt`` when the provider record has no complete postal address (the preview warns)."""
    if provider is None:
        return {"naam": "", "kvk": "", "straat": "", "postcode": "", "plaats": "", "adres_ontbreekt": True}
    street, postcode, city = (provider.postal_street or "", provider.postal_code or "", provider.postal_city or "")
    return {"naam": provider.name, "kvk": provider.kvk_number, "straat": street, "postcode": postcode,
            "plaats": city, "adres_ontbreekt": not (street and postcode and city)}  # fmt: skip


async def letter_context(
    ctx: Context,
    *,
    key: str,
    step: StepSpec,
    motivation: str,
    with_logo: bool = True,
    preview: bool = False,
    legal_exception: dict | None = None,
    fields: Mapping[str, str] | None = None,
    sending: str = PORTAL,
) -> dict:
    """What a letter template gets: the region's letter settings, the provider, the escalation, the step, the
    deadlines of the step (the first is ``termijn``), today's date in Dutch and, for a step with a precondition,
    the earlier notice it rests on (``ingebrekestelling``) or the BW 6:83 exception recorded instead
    (``uitzondering``). ``velden``: what the letter prints of the fields the decider filled in (``letter_fields``:
    the amount, the article, the effective date ...)."""
    settings = dict((ctx.region.settings or {}).get("letters") or {})
    provider = await Provider.objects().where(Provider.id == ctx.escalation.provider).first()
    deadlines = await step_deadlines(ctx, step, preview=preview, sending=sending)
    today = ctx.clock.now().astimezone(AMSTERDAM).date()
    category = next((c for c in ctx.spec.categories if c.key == ctx.escalation.category), None)
    return {
        "brief": {"key": key, "titel": letter_title(key)},
        "afzender": {
            "naam": settings.get("sender") or ctx.region.name,
            "plaats": settings.get("city") or "",
            "ondertekening": settings.get("signature") or "",
            "antwoord_email": settings.get("reply_email") or "",
            "logo": logo_data_uri(letter_storage(), settings.get("logo")) if with_logo else "",
            "ondertekenaar": settings.get("signatory_name") or "",
            "functie": settings.get("signatory_function") or "",
            "mandaat": settings.get("mandate") or "",
            "contact": {
                "naam": settings.get("contact_name") or "",
                "telefoon": settings.get("contact_phone") or "",
                "email": settings.get("contact_email") or settings.get("reply_email") or "",
            },
            "lettertype": settings.get("font") or DEFAULT_FONT,
        },
        "regio": {"naam": ctx.region.name, "slug": ctx.region.slug},
        "aanbieder": provider_address(provider),
        "escalatie": {
            "kenmerk": ctx.escalation.reference,
            # the provider's own reference, as the decider filled it in (letter_fields): the line only when present.
            # The summary typed at opening is an internal note: a letter never gets it (its fields say the shortcoming).
            "uw_kenmerk": (fields or {}).get("uw_kenmerk", ""),
            "categorie": category.title if category else ctx.escalation.category,
            "subcategorie": (category.subcategories.get(ctx.escalation.subcategory, "") if category else ""),
            "geopend": format_date_nl(ctx.escalation.opened_at.astimezone(AMSTERDAM).date()),
        },
        "ladder": ctx.spec.name,
        # The step's title only: its description is the ladder's explanation for the team (where a term comes
        # from, what the region still has to set) and never goes into a letter (issue 16 point 1).
        "stap": {"key": step.key, "titel": step.title},
        "bijlagen": [],  # the documents that go with the letter (title per item); no ladder attaches any yet
        "motivering": motivation,
        "maatregel": _measure_of(step),
        "maatregelen_van_kracht": await measures_in_force(ctx),  # sent: after the step ended or began its own
        # a letter says a term was missed only once it has passed (taken sooner: "nog niet ontvangen")
        "termijn_verstreken": await term_was_missed(ctx, step.key),
        "termijnen": deadlines,
        "termijn": deadlines[0] if deadlines else None,
        "datum": format_date_nl(today),
        "datum_iso": today.isoformat(),
        "ingebrekestelling": None if legal_exception else await earlier_notice(ctx, step),
        "uitzondering": legal_exception,
        "velden": dict(fields or {}),
        "voorbeeld": preview,  # a preview, not the letter that goes: it may show warnings for the decider
    }


async def render_letter(
    ctx: Context,
    *,
    key: str,
    step: StepSpec,
    motivation: str,
    with_logo: bool = True,
    preview: bool = False,
    legal_exception: dict | None = None,
    fields: Mapping[str, str] | None = None,
    sending: str = PORTAL,
) -> Letter:
    context = await letter_context(ctx, key=key, step=step, motivation=motivation, with_logo=with_logo,
                                   preview=preview, legal_exception=legal_exception, fields=fields,
                                   sending=sending)  # fmt: skip
    env = environment(ctx.region.slug)
    name = template_name(env, key)
    html = env.get_template(name).render(**context)
    body = render_block(env, name, "inhoud", **context)
    warnings = [MISSING_ADDRESS_TEXT] if preview and context["aanbieder"]["adres_ontbreekt"] else []
    if warnings:  # the in-page preview shows only the block "inhoud": the decider sees the warning above it
        body = "".join(f'<p class="utrecht-paragraph trede-waarschuwing" role="note"><strong>{escape_html(w)}'
                       "</strong></p>" for w in warnings) + body  # fmt: skip
    filename = f"{ctx.escalation.reference}-{key.replace('_', '-')}-{context['datum_iso']}.pdf"
    return Letter(key=key, title=letter_title(key), html=html, body_html=body, filename=filename, warnings=warnings)


# Letters and dossiers are archived records: PDF/A-3 level A (tagged: structure and reading order for screen
# readers; WeasyPrint embeds the fonts and the sRGB output intent). Title, author, language and creation date go
# into the XMP metadata, where archives and PDF/A validators read them.
PDF_VARIANT = "pdf/a-3a"
PDF_LANGUAGE = "nl"
XMP_LANGUAGE = (
    '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:language><rdf:Bag>'
    "<rdf:li>{lang}</rdf:li></rdf:Bag></dc:language></rdf:Description>"
)


def html_to_pdf(html: str, *, title: str = "", author: str = "", created: str = "") -> bytes:
    """The HTML as a PDF/A-3a record. Title, author and creation date come from the HTML (``<title>``,
    ``<meta name="author">``, ``<meta name="dcterms.created">``) unless given here; the language from
    ``<html lang>``, else Dutch. Without a creation date, now (UTC) is the creation date."""
    from xml.sax.saxutils import escape  # why: only this function writes XML

    from weasyprint import HTML  # imported here: loading pango takes a second, only letters need it

    options = {"pdf_variant": PDF_VARIANT, "pdf_tags": True}
    document = HTML(string=html, base_url=str(DEFAULT_TEMPLATES)).render(**options)
    metadata = document.metadata
    metadata.title = title or metadata.title
    metadata.authors = [author] if author else metadata.authors
    metadata.created = created or metadata.created or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    metadata.modified = metadata.modified or metadata.created
    metadata.lang = metadata.lang or PDF_LANGUAGE
    language = XMP_LANGUAGE.format(lang=escape(metadata.lang)).encode()

    def add_language(_document, pdf) -> None:
        """WeasyPrint writes the language into the catalog only: dc:language joins the XMP's one rdf:RDF."""
        stream = pdf.objects[int(bytes(pdf.catalog["Metadata"]).split()[0])]  # the reference: b"28 0 R"
        stream.stream = [part.replace(b"</rdf:RDF>", language + b"</rdf:RDF>", 1) for part in stream.stream]

    return document.write_pdf(finisher=add_language, **options)


async def pdf_of(letter: Letter) -> bytes:
    return await anyio.to_thread.run_sync(html_to_pdf, letter.html)


def letters_of(step: StepSpec) -> list[str]:
    """The letters entering ``step`` sends, in the ladder's order."""
    return [a.letter for a in step.on_enter if isinstance(a, SendLetter)]


async def previews(
    scope, escalation_id, step_key: str, motivation: str, clock, *, pdf_key: str = "", legal_exception: str = "",
    terms: Mapping[str, str] | None = None, fields: Mapping[str, str] | None = None, sending: str = PORTAL,
) -> list[Letter]:
    """The letters a step would send, rendered as they would go out now (nothing is written). ``legal_exception``:
    the BW 6:83 ground the decider is about to record (an unknown key is left out); ``terms``: the terms the decider
    sets (``chosen_terms``; when one is no term, the ladder's terms are shown); ``fields``: the letter's fields as
    typed (``letter_fields``; a missing or wrong one shows as "[in te vullen: …]"); ``sending``: how it would go (a
    term the letter sets counts from its expected receipt; an unknown way is the portal)."""
    sending = sending if sending in METHODS else PORTAL
    ctx = await load_context(scope, escalation_id, clock)
    step = ctx.step(step_key)
    with contextlib.suppress(EscalationError):
        step, _ = with_chosen_terms(step, terms)
    keys = [k for k in letters_of(step) if not pdf_key or k == pdf_key]
    exception = {"grond": legal_exception, "tekst": LEGAL_EXCEPTIONS[legal_exception]} if legal_exception in (
        LEGAL_EXCEPTIONS) else None  # fmt: skip
    texts, _ = preview_texts(step, fields, ctx.clock.now().astimezone(AMSTERDAM).date())
    return [await render_letter(ctx, key=k, step=step, motivation=motivation, preview=True, legal_exception=exception,
                                fields=texts, sending=sending) for k in keys]  # fmt: skip


# --- issuing: the ladder's send_letter action -------------------------------------------------------------------------


async def issue_letter(
    ctx: Context,
    *,
    key: str,
    step: StepSpec,
    actor: Actor,
    motivation: str,
    reason: str,
    legal_exception: dict | None = None,
    method: str = PORTAL,
    fields: Mapping[str, str] | None = None,
):
    """Render, store and send one letter in the running transaction: a ``document`` (kind "brief"), a shared
    ``brief_verstuurd`` event with the document, its delivery row (``method``: how it goes, ``letter_receipts.
    METHODS``; the receipt is proved there), a notice to the provider's people and an audit entry."""
    method = method_or_default(method)
    letter = await render_letter(ctx, key=key, step=step, motivation=motivation, legal_exception=legal_exception,
                                 fields=fields, sending=method)  # fmt: skip
    pdf = await pdf_of(letter)
    storage = letter_storage()
    object_key = new_key("letters")
    stored = await anyio.to_thread.run_sync(lambda: storage.put(object_key, io.BytesIO(pdf), PDF))
    try:
        document = ctx.scope.new(
            Document,
            provider=ctx.escalation.provider,
            escalation=ctx.escalation.id,
            kind=DOCUMENT_KIND,
            object_key=stored.key,
            original_filename=letter.filename,
            content_type=PDF,
            size=stored.size,
            sha256=stored.sha256,
            uploaded_by=actor.user_id,
            uploaded_at=ctx.clock.now(),
        )
        await document.save()
        event = await ctx.event(
            "brief_verstuurd",
            actor=actor,
            visibility=SHARED,
            motivation=motivation,
            payload={
                "brief": key,
                "titel": letter.title,
                "status": "verstuurd",
                "document_id": str(document.id),
                "bestandsnaam": letter.filename,
                "sha256": stored.sha256,
                "grootte": stored.size,
                "stap": step.key,
                "aanleiding": reason,
                "verzending": method,
                "verzending_tekst": METHODS[method],
            },
        )
        await record_delivery(ctx, event=event, document_id=document.id, letter=key, title=letter.title,
                              method=method)  # fmt: skip
        link = f"{base_url()}/portaal/documenten/{document.id}"
        await ctx.scope.new(
            Notification,
            recipient=f"provider:{ctx.escalation.provider}",
            channel="email",
            template="ladder_notify",
            payload={
                "escalatie": ctx.escalation.reference,
                "escalation_id": str(ctx.escalation.id),
                "regio": ctx.region.name,
                "stap": step.key,
                "stap_titel": step.title,
                "bericht": f"U heeft een brief ontvangen: ‘{letter.title}’. Na inloggen in Trede downloadt u de brief "
                f"(PDF) via {link} en bevestigt u de ontvangst op de pagina van escalatie {ctx.escalation.reference}."
                + (" De brief komt ook aangetekend per post." if method == REGISTERED else ""),
                "rol": "aanbieder",
                "event_id": str(event.id),
                "document_id": str(document.id),
            },
            idempotency_key=notification_key(event.id, f"provider:{ctx.escalation.provider}"),
            status="pending",
            created_at=ctx.clock.now(),
        ).save()
        detail = {"brief": key, "document_id": str(document.id), "sha256": stored.sha256, "verzending": method}
        await ctx.audit("letter.send", actor=actor, detail=detail)
    except BaseException:
        storage.delete(stored.key)  # nothing refers to the object: no orphan in storage
        raise
    return event


# --- the letters an opening would send: previewed in the open form, nothing written ---------------------------


async def _start_of(scope, ladder_key: str, category: str):
    """(latest version, its spec, the category's start step key) of the region's ladder, or None."""
    ladder = await scope.objects(Ladder).where(Ladder.key == ladder_key).first()
    version = await latest_version(scope, ladder) if ladder is not None else None
    if version is None:
        return None
    spec = LadderSpec.model_validate(version.definition)
    start = next((c.start_step for c in spec.categories if c.key == category), None)
    return None if start is None else (version, spec, start)


async def opening_step(scope, ladder_key: str, category: str) -> StepSpec | None:
    """The step an escalation of ``category`` would open in (the latest version), or None for an unknown choice."""
    found = await _start_of(scope, ladder_key, category)
    return None if found is None else found[1].step(found[2])


async def opening_previews(
    scope, *, provider_id, ladder_key: str, category: str, subcategory: str, summary: str, motivation: str, clock,
    fields: Mapping[str, str] | None = None,
) -> list[Letter]:
    """The letters the start step of ``category`` would send on opening, rendered as they would go out now, for
    the person who opens the escalation to see first. Empty when the start step sends none or the choice is not
    (yet) valid: opening itself then says what is wrong. ``fields``: the letters' fields as typed."""

    found = await _start_of(scope, ladder_key, category)
    if found is None or not letters_of(found[1].step(found[2])):
        return []
    version, spec, start = found
    escalation = scope.new(Escalation, ladder_version=version.id, provider=provider_id,  # not saved
                            category=category, subcategory=subcategory, summary=summary,
                            reference="(kenmerk volgt bij het openen)", opened_at=clock.now(),
                            current_step=start)  # fmt: skip
    ctx = Context(scope, escalation, version, spec, await load_region(scope), clock)
    step = spec.step(start)
    texts, _ = preview_texts(step, fields, clock.now().astimezone(AMSTERDAM).date())
    return [await render_letter(ctx, key=k, step=step, motivation=motivation, preview=True, fields=texts)
            for k in letters_of(step)]  # fmt: skip
