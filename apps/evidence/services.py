"""The evidence register: what is valid until when, registering items, and a region's verdict on them.

Validity counts from the date on the evidence, never from the upload:
- VOG (employee or volunteer): "niet ouder dan 3 jaar" — valid up to and including the day three years after the
  date of issue (issued 1 December 2023: valid through 1 December 2026, expired from 2 December 2026).
- SKJ registration: re-registration is due five years after the registration date (valid through that day).
- BIG registration: the same five-year re-registration cycle (Wet BIG art. 8). The BIG number is an 11-character
  string; leading zeros matter, so it is never an integer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from dateutil.relativedelta import relativedelta
from piccolo.columns.combination import WhereRaw

from apps.accounts.roles import DECIDES
from apps.documents.uploads import ReceivedFile
from apps.evidence.tables import EvidenceItem, EvidenceReview
from apps.providers.tables import Contract, Provider
from core import keyset
from core.actor import Actor
from core.audit import audit
from core.clock import Clock, system_clock
from core.formatting import format_date_nl
from core.tenancy import ProviderScope, RegionScope
from core.transactions import write_transaction

VOG_MEDEWERKER, VOG_VRIJWILLIGER, SKJ, BIG = "vog_medewerker", "vog_vrijwilliger", "skj", "big"
KINDS = {
    VOG_MEDEWERKER: "VOG medewerker",
    VOG_VRIJWILLIGER: "VOG vrijwilliger",
    SKJ: "SKJ-registratie",
    BIG: "BIG-registratie",
}
VALID_YEARS = {VOG_MEDEWERKER: 3, VOG_VRIJWILLIGER: 3, SKJ: 5, BIG: 5}
WARN_DAYS = 60  # "verloopt binnen N dagen" from this many days before the end
ACCEPTED, REJECTED = "geaccepteerd", "afgewezen"
VERDICTS = {ACCEPTED: "Geaccepteerd", REJECTED: "Afgewezen"}
BIG_NUMBER = re.compile(r"^\d{11}$")
SKJ_NUMBER = re.compile(r"^\d{5,12}$")


class EvidenceError(ValueError):
    """A refused registration or review; ``message`` is Dutch, shown next to ``field``."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(message)


def valid_until(kind: str, issued_on: date) -> date:
    """The last day the evidence counts as valid."""
    return issued_on + relativedelta(years=VALID_YEARS[kind])


@dataclass(frozen=True)
class Validity:
    status: str  # geldig, verloopt_binnenkort, verlopen
    text: str  # "Geldig tot en met 1 december 2026", "Verloopt binnen 12 dagen (1 december 2026)", "Verlopen sinds …"
    days_left: int  # negative when expired


def validity(kind: str, issued_on: date, today: date) -> Validity:
    end = valid_until(kind, issued_on)
    days_left = (end - today).days
    if days_left < 0:
        return Validity("verlopen", f"Verlopen sinds {format_date_nl(end + relativedelta(days=1))}", days_left)
    if days_left <= WARN_DAYS:
        when = "vandaag voor het laatst geldig" if days_left == 0 else (
            f"verloopt binnen {days_left} {'dag' if days_left == 1 else 'dagen'}"
        )  # fmt: skip
        return Validity("verloopt_binnenkort", f"{when[0].upper()}{when[1:]} ({format_date_nl(end)})", days_left)
    return Validity("geldig", f"Geldig tot en met {format_date_nl(end)}", days_left)


def _parse_date(value: str, field: str) -> date:
    value = (value or "").strip()
    if not value:
        raise EvidenceError(field, "Vul de datum in (dag-maand-jaar).")
    try:
        return date.fromisoformat(value)
    except ValueError:
        pass
    match = re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", value)
    if match:
        try:
            return date(int(match[3]), int(match[2]), int(match[1]))
        except ValueError:
            pass
    raise EvidenceError(field, f"'{value}' is geen geldige datum. Gebruik bijvoorbeeld 1-12-2025.")


@dataclass(frozen=True)
class EvidenceInput:
    kind: str
    person: str
    issued_on: date
    number: str


def check_input(fields: dict[str, str], today: date) -> EvidenceInput:
    """The form's fields checked; EvidenceError names the field that is wrong."""
    kind = (fields.get("soort") or "").strip()
    if kind not in KINDS:
        raise EvidenceError("soort", "Kies wat voor bewijs dit is.")
    person = " ".join((fields.get("persoon") or "").split())
    if not person:
        raise EvidenceError("persoon", "Vul de naam of het personeelsnummer van de persoon in.")
    if len(person) > 200:
        raise EvidenceError("persoon", "De naam of het personeelsnummer is te lang (ten hoogste 200 tekens).")
    issued_on = _parse_date(fields.get("datum", ""), "datum")
    if issued_on > today:
        raise EvidenceError("datum", "De datum ligt in de toekomst.")
    if issued_on.year < 1990:
        raise EvidenceError("datum", "De datum ligt te ver in het verleden.")
    number = "".join((fields.get("nummer") or "").split())
    if kind == BIG:
        if not BIG_NUMBER.match(number):
            raise EvidenceError("nummer", "Een BIG-nummer bestaat uit 11 cijfers, ook als het met een 0 begint.")
    elif kind == SKJ:
        if not SKJ_NUMBER.match(number):
            raise EvidenceError("nummer", "Vul het SKJ-registratienummer in (alleen cijfers).")
    else:
        number = ""
    return EvidenceInput(kind, person, issued_on, number)


async def register(
    provider_id: UUID,
    data: EvidenceInput,
    *,
    actor: Actor,
    received: ReceivedFile | None = None,
    replaces: UUID | None = None,
    clock: Clock = system_clock,
) -> EvidenceItem:
    """Add an item to the provider's register (the scan, if any, is already in storage)."""
    if actor.provider_id != provider_id or actor.is_system:
        raise EvidenceError("soort", "Alleen de aanbieder zelf legt bewijs vast.")
    async with write_transaction():
        if replaces is not None:
            earlier = await EvidenceItem.objects().where(
                (EvidenceItem.id == replaces) & (EvidenceItem.provider == provider_id)
            ).first()  # fmt: skip
            if earlier is None:
                raise EvidenceError("vervangt", "Het bewijs dat u wilt vervangen bestaat niet.")
        item = EvidenceItem(
            provider=provider_id,
            kind=data.kind,
            person=data.person,
            number=data.number,
            issued_on=data.issued_on,
            valid_until=valid_until(data.kind, data.issued_on),
            replaces=replaces,
            registered_by=actor.user_id,
            registered_at=clock.now(),
        )
        if received is not None:
            item.object_key = received.key
            item.original_filename = received.original_filename
            item.content_type = received.content_type
            item.size = received.size
            item.sha256 = received.sha256
        await item.save()
        await audit(
            "evidence.register", actor_id=actor.user_id, actor_label=actor.label, target_type="evidence",
            target_id=str(item.id),
            detail={"soort": data.kind, "datum": data.issued_on.isoformat(), "bestand": bool(received),
                    "sha256": received.sha256 if received else ""},
            clock=clock,
        )  # fmt: skip
    return item


PAGE_SIZE = 50


async def item_page(provider_id: UUID, *, after: str = "", before: str = "") -> tuple[list[EvidenceItem], keyset.Page]:
    """One page of the provider's register by kind and person (keyset on kind, person, id: the index
    evidence_item_provider_kind_person serves it), as items, with the page's cursors."""
    segments = [keyset.Segment("b", None, [(EvidenceItem.kind, True), (EvidenceItem.person, True),
                                           (EvidenceItem.id, True)])]  # fmt: skip
    fetch = keyset.select_fetch(lambda: EvidenceItem.select().where(EvidenceItem.provider == provider_id))
    found = await keyset.first_page_if_stale(fetch, segments, PAGE_SIZE, after=after, before=before)
    return [EvidenceItem(**row, _exists_in_db=True) for row in found.rows], found


async def replaced_among(items: list[EvidenceItem]) -> set[UUID]:
    """Which of ``items`` a later item replaces (one query over the page's ids)."""
    if not items:
        return set()
    rows = await EvidenceItem.select(EvidenceItem.replaces).where(
        EvidenceItem.replaces.is_in([item.id for item in items])
    )  # fmt: skip
    return {row["replaces"] for row in rows}


EXPIRING_SHOWN = 10  # the portal's home lists this many; the register has them all
EXPIRING_COUNT_CAP = 1000
# Not replaced by a later item (a renewed VOG): the index evidence_item_replaces answers it per row.
_NOT_REPLACED = WhereRaw(
    'NOT EXISTS (SELECT 1 FROM "evidence_item" AS "later" WHERE "later"."replaces" = "evidence_item"."id")'
)


def _ending(provider_id: UUID, today: date):
    return (EvidenceItem.provider == provider_id) & (
        EvidenceItem.valid_until <= today + relativedelta(days=WARN_DAYS)
    ) & _NOT_REPLACED  # fmt: skip


async def expiring_items(provider_id: UUID, today: date, limit: int = EXPIRING_SHOWN) -> list[EvidenceItem]:
    """The provider's items that end within WARN_DAYS or have ended and that no later item replaces, the earliest
    end first, at most ``limit`` (the index evidence_item_provider_valid_until serves it): an organisation's
    register grows with every VOG it ever had, the home page shows a few."""
    return await EvidenceItem.objects().where(_ending(provider_id, today)).order_by(EvidenceItem.valid_until)\
        .order_by(EvidenceItem.id).limit(limit)  # fmt: skip


async def expiring_count(provider_id: UUID, today: date) -> tuple[int, bool]:
    """How many such items there are, reading at most EXPIRING_COUNT_CAP + 1 ids (then "meer dan")."""

    async def count_rows(cap: int) -> int:
        return len(await EvidenceItem.select(EvidenceItem.id).where(_ending(provider_id, today)).limit(cap))

    return await keyset.capped_count(count_rows, EXPIRING_COUNT_CAP)


async def provider_item(provider_id: UUID, evidence_id: UUID | str) -> EvidenceItem | None:
    try:
        row_id = UUID(str(evidence_id))
    except ValueError:
        return None
    return await EvidenceItem.objects().where(
        (EvidenceItem.id == row_id) & (EvidenceItem.provider == provider_id)
    ).first()  # fmt: skip


async def under_contract(scope: RegionScope, provider_id: UUID | str) -> Provider | None:
    """The provider, if it has (or had) a contract with the scope's region; else None (the same answer as absent)."""
    try:
        row_id = UUID(str(provider_id))
    except ValueError:
        return None
    if not await scope.exists(Contract).where(Contract.provider == row_id):
        return None
    return await Provider.objects().where(Provider.id == row_id).first()


async def region_item(scope: RegionScope, provider_id: UUID | str, evidence_id: UUID | str) -> EvidenceItem | None:
    """An item as a region may see it: only of a provider under contract with the region."""
    provider = await under_contract(scope, provider_id)
    return await provider_item(provider.id, evidence_id) if provider is not None else None


async def latest_reviews(reviews: list[dict]) -> dict[tuple[UUID, UUID], dict]:
    """(evidence, region) → the newest review."""
    latest: dict[tuple[UUID, UUID], dict] = {}
    for row in sorted(reviews, key=lambda r: r["reviewed_at"]):
        latest[(row["evidence"], row["region"])] = row
    return latest


async def reviews_for_provider(scope: ProviderScope, items: list[EvidenceItem]) -> dict[tuple[UUID, UUID], dict]:
    """The latest review per (item, region) of the given items (a page of the register)."""
    if not items:
        return {}
    rows = await scope.select(EvidenceReview).where(EvidenceReview.evidence.is_in([item.id for item in items]))
    return await latest_reviews(rows)


async def reviews_in_region(scope: RegionScope, provider_id: UUID, items: list[EvidenceItem]) -> dict[UUID, dict]:
    if not items:
        return {}
    rows = await scope.select(EvidenceReview).where(
        (EvidenceReview.provider == provider_id) & EvidenceReview.evidence.is_in([item.id for item in items])
    )  # fmt: skip
    return {evidence: row for (evidence, _), row in (await latest_reviews(rows)).items()}


async def review(
    scope: RegionScope,
    provider_id: UUID | str,
    evidence_id: UUID | str,
    *,
    verdict: str,
    reason: str,
    actor: Actor,
    clock: Clock = system_clock,
) -> EvidenceReview:
    """The region's purchasing team accepts or rejects an item; a rejection needs a reason."""
    if not actor.has_any(DECIDES) or actor.provider_id is not None:
        raise EvidenceError("oordeel", "Alleen het team inkoop mag bewijs beoordelen.")
    if verdict not in VERDICTS:
        raise EvidenceError("oordeel", "Kies accepteren of afwijzen.")
    reason = (reason or "").strip()
    if verdict == REJECTED and not reason:
        raise EvidenceError("reden", "Geef een reden voor de afwijzing; de aanbieder ziet die.")
    if len(reason) > 2000:
        raise EvidenceError("reden", "De reden is te lang (ten hoogste 2000 tekens).")
    async with write_transaction():
        item = await region_item(scope, provider_id, evidence_id)
        if item is None:
            raise EvidenceError("oordeel", "Dit bewijs bestaat niet.")
        row = scope.new(
            EvidenceReview,
            provider=item.provider,
            evidence=item.id,
            verdict=verdict,
            reason=reason,
            reviewed_by=actor.user_id,
            reviewed_by_label=actor.label,
            reviewed_at=clock.now(),
        )
        await row.save()
        await audit(
            f"evidence.{'accept' if verdict == ACCEPTED else 'reject'}", region_id=scope.region_id,
            actor_id=actor.user_id, actor_label=actor.label, target_type="evidence", target_id=str(item.id),
            detail={"oordeel": verdict, "reden": reason, "soort": item.kind}, clock=clock,
        )  # fmt: skip
    return row
