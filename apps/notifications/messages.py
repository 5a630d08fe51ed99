"""One small class per kind of message: its subject, and the Dutch templates it renders (text and HTML).

A region may override a template by placing its own copy in ``tenants/email/<region-slug>/``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, UndefinedError, select_autoescape

from apps.notifications.transports import Rendered
from core.formatting import aantal
from core.settings import ROOT

TEMPLATES = Path(ROOT) / "frontend" / "templates" / "email"
REGION_TEMPLATES = Path(ROOT) / "tenants" / "email"


class Message:
    template: ClassVar[str]
    subject: ClassVar[str]  # str.format with the payload

    list_unsubscribe: ClassVar[bool] = False  # a mail people chose to get (the digest): offer the way out

    @classmethod
    def subject_for(cls, payload: dict[str, Any]) -> str:
        """For pages listing notices: a missing field shows as such (a mail with one is never sent)."""
        return cls.subject.format_map(_Marked(payload))

    @classmethod
    def mail_subject(cls, payload: dict[str, Any]) -> str:
        try:
            return cls.subject.format_map(payload)
        except KeyError as exc:
            raise MissingField(cls.template, str(exc.args[0])) from exc


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


class DeadlineRecounted(Message):
    """A term a letter set, counted again from the letter's recorded receipt (BW 3:37 lid 3): the new end date."""

    template = "termijn_herberekend"
    subject = "Nieuwe einddatum: {wat} uiterlijk {vervaldatum} ({escalatie})"


class DocumentReceived(Message):
    template = "document_ontvangen"
    subject = "Document ontvangen bij {escalatie}: {soort} van {aanbieder}"


class EvidenceExpiring(Message):
    template = "bewijs_verloopt"
    subject = "Bewijsstuk verloopt: {wat} is geldig tot en met {vervaldatum}"


class DailyDigest(Message):
    template = "dagoverzicht"
    list_unsubscribe = True
    subject = "Dagoverzicht {datum}: {termijnen} deze week ({regio})"

    @staticmethod
    def _counted(payload: dict[str, Any]) -> dict[str, Any]:
        """"1 termijn", "3 termijnen": the count with its noun (also for a payload stored before this field)."""
        count = payload.get("aantal")
        return {**payload, "termijnen": aantal(int(count), "termijn", "termijnen")} if count is not None else payload

    @classmethod
    def subject_for(cls, payload: dict[str, Any]) -> str:
        return super().subject_for(cls._counted(payload))

    @classmethod
    def mail_subject(cls, payload: dict[str, Any]) -> str:
        return super().mail_subject(cls._counted(payload))


class InvitationMessage(Message):
    """An invitation to a role in a region or provider organisation (apps.accounts.invitations)."""

    template = "uitnodiging"
    subject = "Uitnodiging voor Trede: {rol} bij {organisatie}"


MESSAGES: dict[str, type[Message]] = {
    cls.template: cls
    for cls in (
        LadderNotice, InstroomstopStarted, InstroomstopEnded, DeadlineReminder, DeadlineMissed, DeadlineRecounted,
        DocumentReceived, EvidenceExpiring, DailyDigest, InvitationMessage,
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


# Notices to people (apps.escalations.notices): the closure and the messages on the shared timeline.
class EscalationClosed(Message):
    template = "escalatie_gesloten"
    subject = "Escalatie {escalatie} van {aanbieder} is afgesloten"


class MessageReceived(Message):
    template = "bericht_ontvangen"
    subject = "Nieuw bericht van {van} bij escalatie {escalatie}"


class DocumentJudged(Message):
    template = "document_beoordeeld"
    subject = "Uw {document_naam} bij escalatie {escalatie}: {oordeel_tekst}"


class EvidenceJudged(Message):
    template = "bewijs_beoordeeld"
    subject = "Uw bewijs bij escalatie {escalatie}: {oordeel_tekst}"


# A party's step in a dispute about one case (apps.escalations.disputes): the other party, the municipality's people.
class DisputeUpdated(Message):
    template = "geschil_bijgewerkt"
    subject = "Geschil {escalatie} ({gemeente}): {wat}"


MESSAGES.update({cls.template: cls for cls in (EscalationClosed, MessageReceived, DocumentJudged, EvidenceJudged,
                                               DisputeUpdated)})  # fmt: skip


# The dossier of an escalation, built in the background (apps.escalations.dossier_requests): an in-app notice.
class DossierReady(Message):
    template = "dossier_klaar"
    subject = "Dossier {escalatie} is klaar om te downloaden"


MESSAGES[DossierReady.template] = DossierReady


class _Marked(dict):
    def __missing__(self, key: str) -> str:
        return f"[{key} ontbreekt]"


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


class MissingField(Exception):
    """The payload lacks a field the message needs: a bug where the notice was written, never a mail with gaps."""

    def __init__(self, template: str, field: str):
        super().__init__(f"field {field!r} missing in the payload of {template!r}")
        self.template = template
        self.field = field


def render(template: str, payload: dict[str, Any], region_slug: str | None = None, base_url: str = "") -> Rendered:
    """Subject, text and HTML of one message. A field missing from the payload raises ``MissingField``
    (optional fields are tested with ``p.get`` in the template)."""
    message = MESSAGES.get(template)
    if message is None:
        raise UnknownTemplate(f"no message class for template {template!r}")
    environment = _environment(region_slug)
    account_url = f"{base_url.rstrip('/')}/account"
    context = {
        "p": payload,
        "subject": message.mail_subject(payload),
        "account_url": account_url,
        "base_url": base_url.rstrip("/"),
    }  # p.pad: the page the notice is about, as a link
    try:
        return Rendered(
            subject=context["subject"],
            text=environment.get_template(f"{template}.txt").render(context),
            html=environment.get_template(f"{template}.html").render(context),
            unsubscribe_url=account_url if message.list_unsubscribe else "",
        )
    except UndefinedError as exc:
        raise MissingField(template, _undefined_name(exc)) from exc


def _undefined_name(exc: UndefinedError) -> str:
    # Jinja's message: "'dict object' has no attribute 'x'" or "'x' is undefined"
    quoted = re.findall(r"'([^']*)'", str(exc))
    return quoted[-1] if quoted else str(exc)
