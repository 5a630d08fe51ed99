"""Signals (seed 000: "Signaal komt binnen bij toegang of ergens anders") and their triage.

- ``file_signal``: a municipality's access team or the purchasing team records who reported what about which
  provider.
- ``hand_back``: "Raakt het signaal de DVO?" — no: the signal goes back to the municipality's access team
  (status ``teruggelegd``), with the purchasing team's explanation.
- ``escalate_signal``: yes: the purchasing team sets the category within the contract and an escalation opens on
  the region's ladder (``services.open_escalation``), in the same transaction as the signal's update.
- ``attach_signal``: yes, and the provider already has an open escalation about it: the signal joins that one
  (an internal timeline event on the escalation).

Every triage decision writes an audit entry; all rows go through ``RegionScope``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

from apps.accounts.roles import DECIDES, Role
from apps.escalations import services
from apps.escalations.context import INTERNAL, EscalationError, append_event, require_decides
from apps.escalations.tables import Escalation, Signal
from apps.providers.tables import Contract, Provider
from apps.tenancy.services import municipalities_on
from apps.tenancy.tables import Municipality
from core import keyset
from core.actor import Actor
from core.audit import audit
from core.clock import Clock, system_clock
from core.db import contains_ignoring_case
from core.formatting import nl_datetime
from core.tenancy import RegionScope
from core.transactions import write_transaction

FILES_SIGNALS = DECIDES | {Role.GEMEENTE_MEDEWERKER}
NEW, HANDED_BACK, ESCALATED, ATTACHED = "nieuw", "teruggelegd", "geëscaleerd", "gekoppeld"
STATUS_NL = {
    NEW: "Nieuw, nog niet beoordeeld",
    HANDED_BACK: "Teruggelegd bij de toegang",
    ESCALATED: "Escalatie geopend",
    ATTACHED: "Gekoppeld aan een lopende escalatie",
}
MAX_DESCRIPTION = 5_000


class SignalError(EscalationError):
    """A triage or intake the rules refuse. ``field``: the form field the message belongs to."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ProviderChoice:
    id: UUID
    name: str
    kvk_number: str


PROVIDER_CHOICES = 200  # up to this many providers the form lists them all; more (thousands): a search
FOUND_PROVIDERS = 20  # a search offers at most this many matches to choose from


def _provider_columns() -> tuple:
    return (Contract.provider.as_alias("id"), Contract.provider.name.as_alias("name"),
            Contract.provider.kvk_number.as_alias("kvk_number"))  # fmt: skip


def _choices(rows: list[dict]) -> list[ProviderChoice]:
    unique = {row["id"]: ProviderChoice(row["id"], row["name"], row["kvk_number"]) for row in rows}
    return sorted(unique.values(), key=lambda p: p.name.lower())


async def provider_choices(scope: RegionScope) -> list[ProviderChoice] | None:
    """The providers with a contract in the region (also ended ones: a signal can be about past care), by name, for
    the form's list; None when there are more than PROVIDER_CHOICES (a region has thousands, nationally): then the
    form searches (``find_providers``). Reads at most 3 * PROVIDER_CHOICES contracts."""
    rows = await scope.select(Contract, *_provider_columns()).limit(3 * PROVIDER_CHOICES)
    choices = _choices(rows)
    return choices if len(choices) <= PROVIDER_CHOICES and len(rows) < 3 * PROVIDER_CHOICES else None


async def find_providers(scope: RegionScope, typed: str) -> list[ProviderChoice]:
    """The providers with a contract in the region whose KvK number is ``typed`` or whose name contains it, by
    name, at most FOUND_PROVIDERS + 1 (one more: the form says there are more)."""
    typed = (typed or "").strip()[:100]
    if not typed:
        return []
    matches = (Contract.provider.kvk_number == typed) | contains_ignoring_case(Contract.provider.name, typed)
    rows = await scope.select(Contract, *_provider_columns()).where(matches).order_by(
        Contract.provider.name).limit(3 * (FOUND_PROVIDERS + 1))  # fmt: skip
    return _choices(rows)[: FOUND_PROVIDERS + 1]


async def provider_of_region(scope: RegionScope, provider_id: UUID | str | None) -> ProviderChoice | None:
    """The provider, when it has a contract in the region (one row read, whatever the region's number)."""
    try:
        wanted = UUID(str(provider_id or ""))
    except ValueError:
        return None
    row = await scope.select(Contract, *_provider_columns()).where(Contract.provider == wanted).first()
    return ProviderChoice(row["id"], row["name"], row["kvk_number"]) if row else None


async def _audit(scope: RegionScope, action: str, signal_id: UUID, actor: Actor, detail: dict) -> None:
    await audit(
        action,
        region_id=scope.region_id,
        actor_id=actor.user_id,
        actor_label=actor.label,
        target_type="signal",
        target_id=str(signal_id),
        detail=detail,
    )


async def file_signal(
    scope: RegionScope,
    *,
    actor: Actor,
    reported_by: str,
    description: str,
    provider_id: UUID | str | None,
    municipality_id: UUID | str | None = None,
    clock: Clock = system_clock,
    source: str = "handmatig",
) -> Signal:
    """Record an incoming signal (status ``nieuw``). Refused with a field-specific message when incomplete.

    ``source``: who made it — a person (``handmatig``) or a watcher such as the quality figures (``indicator``)."""
    if not actor.has_any(FILES_SIGNALS):
        raise SignalError("Alleen de toegang van een gemeente of het team inkoop mag signalen melden.")
    reported_by = (reported_by or "").strip()
    description = (description or "").strip()
    if not reported_by:
        raise SignalError("Vul in wie het signaal heeft gemeld.", "gemeld_door")
    if len(reported_by) > 200:
        raise SignalError("Wie het signaal meldde mag ten hoogste 200 tekens lang zijn.", "gemeld_door")
    if not description:
        raise SignalError("Beschrijf wat er is gesignaleerd.", "omschrijving")
    if len(description) > MAX_DESCRIPTION:
        raise SignalError(f"De omschrijving mag ten hoogste {MAX_DESCRIPTION} tekens lang zijn.", "omschrijving")
    provider = await provider_of_region(scope, provider_id)
    if provider is None:
        raise SignalError("Kies de aanbieder waarover het signaal gaat.", "aanbieder")
    municipality = None
    if municipality_id:
        municipality = await scope.get(Municipality, municipality_id)
        if municipality is None:
            raise SignalError("Kies een gemeente van deze regio.", "gemeente")
    async with write_transaction():
        signal = scope.new(
            Signal,
            provider=provider.id,
            municipality=municipality.id if municipality else None,
            reported_by=reported_by,
            description=description,
            received_at=clock.now(),
            status=NEW,
            source=source,
            filed_by=actor.user_id,  # a watcher (no person) leaves it empty
        )
        await signal.save()
        await _audit(scope, "signal.filed", signal.id, actor, {"aanbieder": provider.name, "gemeld_door": reported_by})
    return signal


async def _load_new(scope: RegionScope, signal_id: UUID | str) -> Signal:
    signal = await scope.get(Signal, signal_id)
    if signal is None:
        raise SignalError("Dit signaal bestaat niet.")
    if signal.status != NEW:
        raise SignalError(f"Dit signaal is al beoordeeld ({STATUS_NL.get(signal.status, signal.status).lower()}).")
    return signal


def _motivation(text: str, what: str = "motivering") -> str:
    text = (text or "").strip()
    if not text:
        raise SignalError("Geef een motivering: elk besluit wordt met motivering vastgelegd.", what)
    if len(text) > services.MAX_TEXT:
        raise SignalError(f"De motivering mag ten hoogste {services.MAX_TEXT} tekens lang zijn.", what)
    return text


async def hand_back(scope: RegionScope, signal_id: UUID | str, *, actor: Actor, motivation: str) -> Signal:
    """The signal does not touch the contract: back to the municipality's access team to resolve it there."""
    require_decides(actor, "signalen beoordelen")
    motivation = _motivation(motivation)
    async with write_transaction():
        signal = await _load_new(scope, signal_id)
        await scope.update(Signal, {Signal.touches_contract: False, Signal.status: HANDED_BACK}).where(
            Signal.id == signal.id
        )
        await _audit(scope, "signal.handed_back", signal.id, actor, {"raakt_dvo": False, "motivering": motivation})
        return await scope.get(Signal, signal.id)


def check_opening(summary: str, motivation: str) -> tuple[str, str]:
    """The summary and motivation of an escalation opened from a signal, stripped; SignalError (Dutch) if not."""
    motivation = _motivation(motivation)
    summary = (summary or "").strip()
    if not summary:
        raise SignalError("Geef een korte samenvatting van de tekortkoming.", "samenvatting")
    if len(summary) > 500:
        raise SignalError("De samenvatting mag ten hoogste 500 tekens lang zijn.", "samenvatting")
    return summary, motivation


async def escalate_signal(
    scope: RegionScope,
    signal_id: UUID | str,
    *,
    actor: Actor,
    ladder_key: str,
    category: str,
    subcategory: str,
    summary: str,
    motivation: str,
    municipality: str = "",
    case_reference: str = "",
    professionals: str = "",
    clock: Clock = system_clock,
    letter_fields: Mapping[str, str] | None = None,
) -> tuple[Signal, Escalation]:
    """The signal touches the contract: open an escalation on the region's ladder, at the category's start step
    (on a case ladder with the case: municipality, the access team's pseudonymous reference, professionals)."""
    require_decides(actor, "signalen beoordelen")
    summary, motivation = check_opening(summary, motivation)
    async with write_transaction():
        signal = await _load_new(scope, signal_id)
        provider = await Provider.objects().where(Provider.id == signal.provider).first()
        if provider is None:
            raise SignalError("Bij dit signaal hoort geen aanbieder; meld het opnieuw met de aanbieder erbij.")
        # the provider's latest contract in the region, as the API takes it: its dates anchor contract-relative terms
        contract = await (scope.objects(Contract).where(Contract.provider == provider.id)
                          .order_by(Contract.valid_from, ascending=False).first())  # fmt: skip
        try:
            escalation = await services.open_escalation(
                scope,
                provider=provider,
                contract=contract,
                ladder_key=ladder_key,
                category=category,
                subcategory=subcategory,
                summary=summary,
                motivation=motivation,
                actor=actor,
                municipality=municipality,
                case_reference=case_reference,
                professionals=professionals,
                clock=clock,
                letter_fields=letter_fields,  # the start step's letters (the preview's fields)
            )
        except SignalError:
            raise
        except EscalationError as error:
            raise SignalError(str(error), getattr(error, "field", "") or "categorie") from None
        await scope.update(
            Signal, {Signal.touches_contract: True, Signal.status: ESCALATED, Signal.escalation: escalation.id}
        ).where(Signal.id == signal.id)
        await append_event(
            scope,
            escalation.id,
            "signaal_gekoppeld",
            visibility=INTERNAL,
            actor=actor,
            payload={"signal_id": str(signal.id), "gemeld_door": signal.reported_by, "tekst": signal.description},
            clock=clock,
        )
        await _audit(
            scope,
            "signal.escalated",
            signal.id,
            actor,
            {"raakt_dvo": True, "escalatie": escalation.reference, "ladder": ladder_key, "categorie": category,
             "subcategorie": subcategory, "motivering": motivation},
        )  # fmt: skip
        return await scope.get(Signal, signal.id), escalation


async def open_escalations_of(scope: RegionScope, provider_id: UUID | None) -> list[dict]:
    if provider_id is None:
        return []
    return (
        await scope.select(Escalation, Escalation.id, Escalation.reference, Escalation.summary)
        .where((Escalation.provider == provider_id) & (Escalation.status != "closed"))
        .order_by(Escalation.opened_at, ascending=False)
    )


async def attach_signal(
    scope: RegionScope,
    signal_id: UUID | str,
    escalation_id: UUID | str,
    *,
    actor: Actor,
    motivation: str,
    clock: Clock = system_clock,
) -> tuple[Signal, Escalation]:
    """The signal touches the contract and belongs with an open escalation of the same provider."""
    require_decides(actor, "signalen beoordelen")
    motivation = _motivation(motivation)
    async with write_transaction():
        signal = await _load_new(scope, signal_id)
        escalation = await scope.get(Escalation, escalation_id) if escalation_id else None
        if escalation is None or escalation.provider != signal.provider or escalation.status == "closed":
            raise SignalError("Kies een lopende escalatie van deze aanbieder.", "escalatie")
        await scope.update(
            Signal, {Signal.touches_contract: True, Signal.status: ATTACHED, Signal.escalation: escalation.id}
        ).where(Signal.id == signal.id)
        await append_event(
            scope,
            escalation.id,
            "signaal_gekoppeld",
            visibility=INTERNAL,
            actor=actor,
            motivation=motivation,
            payload={"signal_id": str(signal.id), "gemeld_door": signal.reported_by, "tekst": signal.description},
            clock=clock,
        )
        await _audit(
            scope, "signal.attached", signal.id, actor,
            {"raakt_dvo": True, "escalatie": escalation.reference, "motivering": motivation},
        )  # fmt: skip
        return await scope.get(Signal, signal.id), escalation


async def region_municipalities(scope: RegionScope, clock: Clock = system_clock) -> list[Municipality]:
    return await municipalities_on(scope, clock.today())


PAGE_SIZE = 50


async def signal_page(scope: RegionScope, *, only_new: bool = False, filed_by: UUID | None = None, after: str = "",
                      before: str = "", size: int = 0) -> keyset.Page:  # fmt: skip
    """One page of the region's signals, newest first, by keyset on (received_at, id): the index
    signal_region_received (or signal_region_status_received for the new ones, signal_region_filed_by_received
    for the ones a person filed) serves it."""

    def query():
        rows = scope.select(
            Signal, Signal.id, Signal.reported_by, Signal.description, Signal.received_at, Signal.status,
            Signal.provider.name.as_alias("provider_name"), Signal.municipality.name.as_alias("municipality_name"),
            Signal.escalation.reference.as_alias("reference"), Signal.escalation,
        )  # fmt: skip
        if filed_by is not None:
            rows = rows.where(Signal.filed_by == filed_by)
        return rows.where(Signal.status == NEW) if only_new else rows

    segments = [keyset.Segment("s", None, [(Signal.received_at, False), (Signal.id, False)])]
    return await keyset.first_page_if_stale(keyset.select_fetch(query), segments, size or PAGE_SIZE, after=after,
                                            before=before)  # fmt: skip


OWN_SIGNALS_PAGE = 10


async def signals_filed_by(scope: RegionScope, user_id: UUID | None, *, after: str = "", before: str = "",
                           size: int = OWN_SIGNALS_PAGE) -> keyset.Page:  # fmt: skip
    """The signals a person filed in the region, newest first, each with its status in Dutch (the access team's
    own list: what became of what they reported)."""
    if user_id is None:
        return keyset.Page([], None, None)
    page = await signal_page(scope, filed_by=user_id, after=after, before=before, size=size)
    for row in page.rows:
        row["received_nl"] = nl_datetime(row["received_at"])
        row["status_nl"] = STATUS_NL.get(row["status"], row["status"])
    return page
