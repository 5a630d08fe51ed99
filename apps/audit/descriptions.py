"""What the audit log's pages show people: a Dutch description of each action key, the kind of target in Dutch,
and the details without ids. The keys themselves (``escalation.transition``) stay in the table, the filters and
the CSV export, which keeps every id and value as recorded."""

from __future__ import annotations

import re
from typing import Any

from core.formatting import nl_date, nl_datetime, readable_key

ACTIONS_NL: dict[str, str] = {
    "account.digest": "Dagoverzicht aan- of uitgezet",
    "admin.region.brieven": "Brieven van de regio gewijzigd",
    "admin.region.contract": "Contract vastgelegd",
    "admin.region.create": "Regio aangemaakt",
    "admin.region.export": "Regiobestand geëxporteerd",
    "admin.region.gemeenten": "Gemeenten van de regio gewijzigd",
    "admin.region.gesloten_dag_weg": "Gesloten dag verwijderd",
    "admin.region.gesloten_dagen": "Gesloten dagen gewijzigd",
    "admin.region.import": "Regiobestand ingelezen",
    "admin.region.kleuren": "Kleuren van de regio gewijzigd",
    "admin.region.logo": "Logo van de regio gewijzigd",
    "admin.region.postbussen": "Postbussen van de regio gewijzigd",
    "audit.export": "Auditlog geëxporteerd",
    "calendar_feed.create": "Agendakoppeling aangemaakt",
    "calendar_feed.renew": "Agendakoppeling vernieuwd",
    "deadline.extend": "Termijn verlengd",
    "deadline.missed": "Termijn verlopen",
    "deadline.resume": "Termijn hervat",
    "deadline.suspend": "Termijn opgeschort",
    "document.upload": "Document geüpload",
    "document.verdict": "Document beoordeeld (akkoord of niet akkoord)",
    "dossier.export": "Dossier samengesteld",
    "dispute.answer": "Akkoord of niet akkoord met de oplossing van een geschil",
    "dispute.file": "Geschildossier voor de Geschillencommissie gemaakt",
    "dispute.open": "Geschil geopend door de aanbieder",
    "dispute.position": "Standpunt in een geschil vastgelegd",
    "dispute.solution": "Besluit, advies of voorstel in een geschil vastgelegd",
    "dispute.subcommittee": "Subcommissie van de Geschillencommissie gekozen",
    "escalation.close": "Escalatie afgesloten",
    "escalation.open": "Escalatie geopend",
    "escalation.record_receipt": "Ontvangst vastgelegd",
    "escalation.transition": "Stap gezet",
    "escalation.account_region_mediation": "Bemiddeling door de accounthoudende regio",
    "provider.account_region": "Accounthoudende regio van een aanbieder gekozen",
    "provider.address": "Postadres van een aanbieder gewijzigd",
    "evidence.accept": "Bewijsstuk geaccepteerd",
    "evidence.deliver": "Bewijsstuk aangeleverd voor een escalatie",
    "evidence.register": "Bewijsstuk vastgelegd",
    "evidence.reject": "Bewijsstuk afgewezen",
    "evidence.verdict": "Bewijsstuk bij een escalatie beoordeeld",
    "invitation.accepted": "Uitnodiging aanvaard",
    "invitation.refused": "Uitnodiging geweigerd",
    "invitation.revoked": "Uitnodiging ingetrokken",
    "invitation.sent": "Uitnodiging verstuurd",
    "ladder.publish": "Laddersversie gepubliceerd",
    "letter.acknowledge": "Ontvangst van een brief bevestigd",
    "letter.record_receipt": "Ontvangst van een brief vastgelegd",
    "letter.send": "Brief verstuurd",
    "login.failed": "Inloggen mislukt",
    "login.kvk_unknown": "Inloggen met onbekend KvK-nummer",
    "measure.end": "Maatregel opgeheven",
    "measure.start": "Maatregel gestart",
    "notification.retry": "Melding opnieuw verstuurd",
    "quality.figure_corrected": "Kwaliteitscijfer gecorrigeerd",
    "quality.figure_submitted": "Kwaliteitscijfer aangeleverd",
    "role.changed": "Rol gewijzigd",
    "role.granted": "Rol toegekend",
    "role.revoked": "Rol ingetrokken",
    "signal.attached": "Signaal aan een escalatie gekoppeld",
    "signal.escalated": "Signaal geëscaleerd",
    "signal.filed": "Signaal gemeld",
    "signal.handed_back": "Signaal teruggelegd",
    "tenants.sync": "Regiobestanden ingelezen",
}

TARGETS_NL = {
    "audit": "auditlog", "document": "document", "escalation": "escalatie", "evidence": "bewijsstuk",
    "invitation": "uitnodiging", "ladder": "ladder", "notification": "melding", "provider": "aanbieder",
    "quality_figure": "kwaliteitscijfer", "region": "regio", "signal": "signaal", "user": "persoon",
}  # fmt: skip

# A value that is an id (UUID, hash, "provider:<id>"): kept in the CSV export, left off the page.
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
_ID = re.compile(r"^(?:[a-z]+:)?(?:[0-9a-fA-F]{8}-[0-9a-fA-F-]{27}|[0-9a-fA-F]{16,})$")


def action_nl(action: str) -> str:
    """The Dutch description of ``action``; an action without one reads as its words ("Admin region x")."""
    if action in ACTIONS_NL:
        return ACTIONS_NL[action]
    return readable_key(action.replace(".", " ")).capitalize()


def target_nl(target_type: str) -> str:
    return TARGETS_NL.get(target_type, readable_key(target_type))


def _value_nl(value: Any) -> str:
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if value is None:
        return "geen"
    if isinstance(value, list | tuple):
        return ", ".join(_value_nl(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{readable_key(k)}: {_value_nl(v)}" for k, v in value.items())
    text = str(value)
    if re.search(r"\.toml$", text):
        return "regiobestand"
    if _ISO_MOMENT.fullmatch(text):  # a date or moment as stored: as every page writes one
        return nl_date(text) if len(text) == 10 else nl_datetime(text)
    return readable_key(text) if re.fullmatch(r"[a-z0-9]+(?:_[a-z0-9]+)+", text) else text


def details_nl(detail: dict[str, Any]) -> list[tuple[str, str]]:
    """The details as (label, value) in words, without the ids (which the CSV keeps)."""
    out = []
    for key, value in (detail or {}).items():
        if isinstance(value, str) and _ID.match(value) or key.endswith("_id") or key in {"sha256", "hash"}:
            continue
        out.append((readable_key(key), _value_nl(value)))
    return out
