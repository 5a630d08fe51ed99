"""One small class per kind of message: its subject, and the Dutch templates it renders (text and HTML).

A region may override a template by placing its own copy in ``tenants/email/<region-slug>/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from apps.notifications.transports import Rendered
from core.settings import ROOT

TEMPLATES = Path(ROOT) / "frontend" / "templates" / "email"
REGION_TEMPLATES = Path(ROOT) / "tenants" / "email"


class Message:
    template: ClassVar[str]
    subject: ClassVar[str]  # str.format with the payload

    @classmethod
    def subject_for(cls, payload: dict[str, Any]) -> str:
        return cls.subject.format_map(_Defaulting(payload))


class LadderNotice(Message):
    """A ladder's notify action: the step of an escalation concerns this mailbox."""

    template = "ladder_notify"
    subject = "Escalatie {escalatie}: {stap_titel}"


class InstroomstopStarted(Message):
    template = "instroomstop_gestart"
    subject = "Instroomstop voor {provider_name} (vanaf {start_date})"


class InstroomstopEnded(Message):
    template = "instroomstop_beeindigd"
    subject = "Instroomstop voor {provider_name} opgeheven"


class DeadlineReminder(Message):
    template = "termijn_herinnering"
    subject = "Herinnering: {wat} uiterlijk {vervaldatum} ({escalatie})"


class DeadlineMissed(Message):
    template = "termijn_verlopen"
    subject = "Termijn verlopen: {wat} ({escalatie})"


class DocumentReceived(Message):
    template = "document_ontvangen"
    subject = "Document ontvangen bij {escalatie}: {soort} van {aanbieder}"


class EvidenceExpiring(Message):
    template = "bewijs_verloopt"
    subject = "Bewijsstuk verloopt: {wat} is geldig tot en met {vervaldatum}"


class DailyDigest(Message):
    template = "dagoverzicht"
    subject = "Dagoverzicht {datum}: {aantal} termijnen deze week ({regio})"


class InvitationMessage(Message):
    """An invitation to a role in a region or provider organisation (apps.accounts.invitations)."""

    template = "uitnodiging"
    subject = "Uitnodiging voor Trede: {rol} bij {organisatie}"


MESSAGES: dict[str, type[Message]] = {
    cls.template: cls
    for cls in (
        LadderNotice, InstroomstopStarted, InstroomstopEnded, DeadlineReminder, DeadlineMissed, DocumentReceived,
        EvidenceExpiring, DailyDigest, InvitationMessage,
    )  # fmt: skip
}


# Quality figures (apps.quality.watch): reminded before they are due, and a notice when they are missing.
class QualityFiguresDue(Message):
    template = "kwaliteit_herinnering"
    subject = "Herinnering: kwaliteitscijfers {periode} uiterlijk {vervaldatum}"


class QualityFiguresMissing(Message):
    template = "kwaliteit_ontbreekt"
    subject = "Kwaliteitscijfers {periode} ontbreken (uiterlijk {vervaldatum})"


MESSAGES.update({cls.template: cls for cls in (QualityFiguresDue, QualityFiguresMissing)})


class _Defaulting(dict):
    def __missing__(self, key: str) -> str:
        return "…"


def _environment(region_slug: str | None) -> Environment:
    loaders = []
    if region_slug:
        loaders.append(FileSystemLoader(REGION_TEMPLATES / region_slug))
    loaders.append(FileSystemLoader(TEMPLATES))
    return Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


class UnknownTemplate(Exception):
    pass


def render(template: str, payload: dict[str, Any], region_slug: str | None = None) -> Rendered:
    message = MESSAGES.get(template)
    if message is None:
        raise UnknownTemplate(f"no message class for template {template!r}")
    environment = _environment(region_slug)
    context = {"p": _Defaulting(payload), "subject": message.subject_for(payload)}
    return Rendered(
        subject=context["subject"],
        text=environment.get_template(f"{template}.txt").render(context),
        html=environment.get_template(f"{template}.html").render(context),
    )
