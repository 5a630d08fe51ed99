"""The shared timeline as people read it: each event's Dutch title and line of detail, and how the mails of a
notice event were delivered. Used by the escalation page, the dossier, the account-holding region's read view
and the portal, so it sits below all of them."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from apps.escalations import services
from apps.escalations.letter_receipts import RECEIVED_NL
from apps.escalations.tables import TimelineEvent
from apps.ladders.schema import DOCUMENT_NAMES, LadderSpec
from apps.notifications.tables import Notification
from core.formatting import aantal, as_datetime, format_date_nl, iso, nl_datetime, readable_key
from core.tenancy import RegionScope

TIMELINE_PAGE = 20
STATUS_NL = {"open": "Lopend", "paused": "Gepauzeerd", "closed": "Afgesloten"}
DOCUMENT_NL = {**DOCUMENT_NAMES, "brief": "brief"}  # the ladder's document kinds, and the region's letters
# Outcomes for closing an escalation outside the ladder's final steps (the ladder's own outcomes come with them).
CLOSE_OUTCOMES = {
    "hersteld": "Hersteld: de tekortkoming is opgelost",
    "ingetrokken": "Ingetrokken: het signaal bleek onterecht",
    "overgedragen": "Overgedragen aan een andere regio of instantie",
    "samengevoegd": "Samengevoegd met een andere escalatie",
}
SPELLING = {"beeindigd": "beëindigd"}  # an outcome word a ladder writes without its diaeresis


def outcome_nl(outcome: str, spec: LadderSpec | None = None) -> str:
    """An escalation's outcome as a reader reads it: the closing form's label, else the title of the final step
    whose key it is (a final step without an outcome of its own), else the word(s) of the key ("niet verlengd")."""
    if outcome in CLOSE_OUTCOMES:
        return CLOSE_OUTCOMES[outcome]
    step = next((s for s in spec.steps if s.key == outcome and not s.outcome), None) if spec else None
    if step is not None:
        return step.title
    words = readable_key(outcome)
    return SPELLING.get(words, words)
EVENT_TITLES = {
    "escalatie_geopend": "Escalatie geopend",
    "stap_gewijzigd": "Stap gezet",
    "escalatie_gesloten": "Escalatie afgesloten",
    "maatregel_gestart": "Maatregel gestart",
    "maatregel_beeindigd": "Maatregel opgeheven",
    "melding_verstuurd": "Melding verstuurd",
    "document_gevraagd": "Document gevraagd",
    "brief_verstuurd": "Brief verstuurd",
    "notitie": "Interne notitie",
    "bericht": "Bericht",
    "volgende_stap_voorgesteld": "Volgende stap voorgesteld",
    "signaal_gekoppeld": "Signaal gekoppeld",
    "termijn_gestart": "Termijn gestart",
    "ontvangst_vastgelegd": "Ontvangst vastgelegd",
    "ontvangst_bevestigd": "Ontvangst bevestigd",
    "brief_ontvangen": "Ontvangst van de brief vastgelegd",
    "termijn_gehaald": "Termijn gehaald",
    "termijn_verlopen": "Termijn verlopen",
    "termijn_opgeschort": "Termijn opgeschort",
    "termijn_hervat": "Termijn hervat",
    "termijn_verlengd": "Termijn verlengd",
    "herinnering_verstuurd": "Herinnering verstuurd",
    "document_beoordeeld": "Document beoordeeld",
    "termijn_heropend": "Termijn heropend",
    "termijn_herberekend": "Termijn herberekend vanaf ontvangst",
    "bewijs_aangeleverd": "Bewijs aangeleverd",
    "bewijs_beoordeeld": "Bewijs beoordeeld",
    # a dispute about one case (apps.escalations.disputes)
    "geschil_standpunt": "Standpunt",
    "geschil_oplossing": "Oplossing op tafel",
    "geschil_akkoord": "Akkoord of niet akkoord",
    "geschil_subcommissie": "Subcommissie gekozen",
    "geschildossier": "Geschildossier gemaakt",
}


@dataclass(frozen=True, slots=True)
class Event:
    """A timeline event as the escalation page reads it: what ``describe_event`` and ``deliveries`` use, without a
    row object or the foreign keys (Piccolo's ForeignKey lookups made up much of building the page's SQL)."""

    id: UUID
    sequence: int
    kind: str
    visibility: str
    actor_label: str
    occurred_at: datetime
    motivation: str
    payload: dict[str, Any]


EVENT_COLUMNS = (TimelineEvent.id, TimelineEvent.sequence, TimelineEvent.kind, TimelineEvent.visibility,
                 TimelineEvent.actor_label, TimelineEvent.occurred_at, TimelineEvent.motivation,
                 TimelineEvent.payload)  # fmt: skip


async def page_of_events(scope: RegionScope, escalation_id: UUID, *, before: int | None = None,
                         limit: int = TIMELINE_PAGE + 1) -> list[Event]:  # fmt: skip
    """The escalation's events for the region's page, internal ones too, newest first; ``before`` pages back (the
    same rows as ``services.timeline(..., include_internal=True)``)."""
    condition = TimelineEvent.escalation == escalation_id
    if before is not None:
        condition &= TimelineEvent.sequence < before
    rows = await (
        scope.select(TimelineEvent, *EVENT_COLUMNS).where(condition)
        .order_by(TimelineEvent.sequence, ascending=False).limit(limit)
    )  # fmt: skip
    return [Event(**row) for row in rows]


async def deliveries(scope: RegionScope, events: list[TimelineEvent] | list[Event]) -> dict[Any, str]:
    """For each notice event: how many of its mails were delivered, when the last one went, and what failed.
    One query for all the page's notice events: their mails' keys start with the event id, and they are written
    with the event (or split from its row later), so none is older than the earliest event: the range on
    (region, created_at) of the index notification_region_created bounds what is read."""
    notices = [event for event in events if event.kind == "melding_verstuurd"]
    if not notices:
        return {}
    prefixes = None
    for event in notices:
        term = Notification.idempotency_key.like(f"{event.id}:%")
        prefixes = term if prefixes is None else prefixes | term
    earliest = min(as_datetime(event.occurred_at) for event in notices).astimezone(UTC) - timedelta(days=1)
    rows = await scope.select(
        Notification, Notification.idempotency_key, Notification.status, Notification.sent_at
    ).where((Notification.channel == "email") & (Notification.created_at >= earliest) & prefixes)  # fmt: skip
    by_event: dict[str, list[dict]] = {}
    for row in rows:
        by_event.setdefault(row["idempotency_key"].split(":", 1)[0], []).append(row)
    found = {}
    for event in notices:
        mails = by_event.get(str(event.id))
        if not mails:
            continue
        sent = [row["sent_at"] for row in mails if row["status"] == "sent" and row["sent_at"]]
        failed = sum(1 for row in mails if row["status"] == "failed")
        text = f"Bezorgd: {len(sent)} van {len(mails)}"
        if sent:
            text += f" (laatste {nl_datetime(max(sent))})"
        if failed:
            text += f"; {failed} mislukt"
        found[event.id] = text + "."
    return found


def _days(p: dict[str, Any], key: str) -> str:
    """A date of the payload ("2026-03-05") in Dutch ("5 maart 2026")."""
    with contextlib.suppress(ValueError, TypeError):
        return format_date_nl(date.fromisoformat(p.get(key) or ""))
    return str(p.get(key) or "")


def evidence_verdict_effect(p: dict[str, Any]) -> str:
    """What a verdict on evidence did to the terms, in a sentence (shared with the portal)."""
    text = ""
    if p.get("termijnen_heropend"):
        text += " De termijn loopt weer: de aanbieder levert opnieuw aan."
    if p.get("termijnen_gehaald"):
        text += " De termijn is weer gehaald."
    if p.get("termijnen_eerdere_stap"):
        text += " De termijn hoorde bij een eerdere stap en loopt niet opnieuw."
    return text


DISPUTE_SIDES = {"aanbieder": "de aanbieder", "gemeente": "de gemeente", "regio": "het team"}
SOLUTIONS_NL = {"besluit": "Besluit van de lokale aanstuurder", "advies": "Advies van het team", "voorstel": "Voorstel"}


def dispute_detail(kind: str, p: dict) -> tuple[str, str]:
    """(detail, text) of a dispute's event: whose position, which solution, who agreed, which subcommittee."""
    side = DISPUTE_SIDES.get(p.get("partij", ""), "")
    if kind == "geschil_standpunt":
        return f"Standpunt van {side}.", p.get("tekst", "")
    if kind == "geschil_oplossing":
        title = SOLUTIONS_NL.get(p.get("soort", ""), "Oplossing")
        return f"{title} in stap ‘{p.get('stap_titel', '')}’.", p.get("tekst", "")
    if kind == "geschil_akkoord":
        return f"{side.capitalize()} is {'akkoord' if p.get('akkoord') else 'niet akkoord'} met de oplossing.", str(
            p.get("toelichting") or "")
    if kind == "geschil_subcommissie":
        return f"{p.get('naam', '')}.", ""
    if kind == "geschildossier":
        return f"{p.get('bestandsnaam', '')} voor de {p.get('naam', 'Geschillencommissie')}.", ""
    return "", ""


def describe_event(event: TimelineEvent | Event, delivery: str = "") -> dict[str, Any]:
    """One timeline event as the page shows it: a title, a line of detail, the text, who and when."""
    p = event.payload or {}
    kind = event.kind
    detail = ""
    text = ""
    link = None  # {"href", "text"}: a download that belongs to the event
    if kind == "escalatie_geopend":
        detail = f"In stap ‘{p.get('stap_titel', p.get('stap', ''))}’ (ladder versie {p.get('versie', '')})."
    elif kind == "stap_gewijzigd":
        detail = f"Van ‘{p.get('van_titel', '')}’ naar ‘{p.get('naar_titel', '')}’."
        if p.get("automatisch"):
            detail += " Automatisch volgens de ladder."
        if (p.get("uitzondering") or {}).get("tekst"):
            detail += f" Uitzondering van artikel 6:83 BW vastgelegd: {p['uitzondering']['tekst']}."
        for chosen in p.get("gekozen_termijnen") or []:
            detail += f" Redelijke termijn gesteld op {chosen.get('gekozen')} (de ladder noemt {chosen.get('ladder')})."
        if (p.get("ontvangst") or {}).get("tekst"):  # BW 3:37 lid 3: the notice's receipt was not recorded
            detail += (f" De ontvangst van de brief ‘{p['ontvangst'].get('brief', '')}’ is niet vastgelegd; waarom "
                       f"die als ontvangen geldt: {p['ontvangst']['tekst']}")  # fmt: skip
    elif kind == "escalatie_gesloten":
        detail = f"Uitkomst: {outcome_nl(str(p.get('uitkomst', '')))}."
    elif kind in ("maatregel_gestart", "maatregel_beeindigd"):
        label = str(p.get("maatregel_titel") or p.get("maatregel", "")).capitalize()
        count = p.get("aantal_gemeenten") or len(p.get("gemeenten") or [])
        verb = "geldt voor" if kind == "maatregel_gestart" else "opgeheven voor"
        detail = f"{label} {verb} {aantal(count, 'gemeente', 'gemeenten')}."
    elif kind == "melding_verstuurd":
        detail = f"Aan {aantal(p.get('aantal', 0), 'ontvanger', 'ontvangers')}." + (f" {delivery}" if delivery else "")
        text = p.get("bericht", "")
    elif kind == "document_gevraagd":
        document = DOCUMENT_NL.get(p.get("document", ""), p.get("document", ""))
        due = p.get("vervaldatum_tekst")
        detail = f"De aanbieder levert een {document}" + (f" uiterlijk {due}." if due else ".")
    elif kind == "brief_verstuurd":
        title = p.get("titel") or str(p.get("brief", "")).replace("_", " ")
        if p.get("document_id"):
            detail = f"Brief ‘{title}’ als PDF aan de aanbieder verstuurd."
            # relative to the escalation page (/regio/<slug>/escalaties/<id>): the region's authorised download
            link = {"href": f"../documenten/{p['document_id']}", "text": f"{p.get('bestandsnaam') or 'brief'} (PDF)"}
            if p.get("verzending_tekst"):
                detail += f" Verzonden {p['verzending_tekst']}."
        else:  # recorded before letters were rendered
            detail = f"Brief ‘{title}’ aangevraagd."
    elif kind in ("ontvangst_bevestigd", "brief_ontvangen"):
        received = p.get("ontvangen_op", "")
        with contextlib.suppress(ValueError):
            received = format_date_nl(date.fromisoformat(received))
        how = RECEIVED_NL.get(p.get("wijze", ""), p.get("wijze_tekst", ""))
        detail = f"Brief ‘{p.get('titel', '')}’ ontvangen op {received}: {how}."
        if p.get("track_and_trace"):
            detail += f" Track-and-trace-code {p['track_and_trace']}."
    elif kind in ("notitie", "bericht"):
        text = p.get("tekst", "")
        if kind == "bericht":
            detail = "Van de aanbieder." if p.get("van") == "aanbieder" else "Van het team inkoop aan de aanbieder."
    elif kind == "volgende_stap_voorgesteld":
        detail = f"Voorstel: ‘{p.get('stap_titel', '')}’. {p.get('aanleiding', '')}"
    elif kind == "ontvangst_vastgelegd":
        received = p.get("ontvangen_op", "")
        with contextlib.suppress(ValueError):
            received = format_date_nl(date.fromisoformat(received))
        detail = f"{str(p.get('document_naam', '')).capitalize()} ontvangen op {received}, {p.get('kanaal_tekst', '')}."
        if p.get("document_id"):  # the file as it came in, kept with the escalation's documents
            link = {"href": f"../documenten/{p['document_id']}", "text": p.get("bestandsnaam") or "bestand"}
    elif kind == "document_beoordeeld":
        detail = (
            f"{str(p.get('document_naam', '')).capitalize()} ({p.get('bestandsnaam', '')}): "
            f"{str(p.get('oordeel_tekst', '')).lower()}."
        )
        if p.get("termijnen_heropend"):
            detail += " De aanbieder levert opnieuw aan."
        elif p.get("nieuwer_document") and p.get("oordeel") == "niet_akkoord":
            detail += " Er is sindsdien een nieuwere versie aangeleverd; de termijn blijft daarmee gehaald."
    elif kind == "bewijs_aangeleverd":
        detail = f"{p.get('naam', '')}" + (f" ({p['bestandsnaam']})" if p.get("bestandsnaam") else "") + "."
    elif kind == "bewijs_beoordeeld":
        detail = f"{p.get('naam', '')}: {str(p.get('oordeel_tekst', '')).lower()}."
        detail += evidence_verdict_effect(p)
    elif kind == "signaal_gekoppeld":
        detail = f"Gemeld door {p.get('gemeld_door', '')}."
        text = p.get("tekst", "")
    elif kind.startswith("geschil"):
        detail, text = dispute_detail(kind, p)
    elif kind == "termijn_herberekend":
        detail = (f"{p.get('titel', '')}: de brief ‘{p.get('brief_titel', '')}’ is ontvangen op "
                  f"{_days(p, 'ontvangen_op')}, later dan verwacht. De termijn eindigt nu op {_days(p, 'vervaldatum')} "
                  f"(was {_days(p, 'oude_vervaldatum')}).")  # fmt: skip
        if p.get("loopt_weer"):
            detail += " De termijn loopt weer."
    elif kind.startswith("termijn_"):
        detail = str(p.get("titel") or p.get("termijn") or "")
        if p.get("vervaldatum"):
            with contextlib.suppress(ValueError):
                detail += f" (vervaldatum {format_date_nl(date.fromisoformat(p['vervaldatum']))})"
    return {
        "id": str(event.id),
        "sequence": event.sequence,
        "kind": kind,
        "title": EVENT_TITLES.get(kind, kind.replace("_", " ").capitalize()),
        "detail": detail,
        "text": text,
        "motivation": event.motivation,
        "internal": event.visibility == services.INTERNAL,
        "actor": event.actor_label or "Systeem",
        "when": nl_datetime(event.occurred_at),
        "iso": iso(event.occurred_at),
        "link": link,
    }
