"""The rules of quality figures: what a provider may submit (form or CSV, all rows or none), corrections with
history, late submissions, signals from the numbers, and the figures derived from the evidence register.

- A figure belongs to a provider, an indicator of a region where it has a contract, and an ended period.
- A correction is a new row; the earlier one becomes ``vervangen``. Once the region acted on a signal about that
  figure (triaged it), the provider can no longer correct it: the team inkoop must be asked.
- Submitted after the due date (period end + ``due_days``): recorded as ``late`` (the first submission counts).
- A figure outside the norm raises a signal when the indicator says so (``signal_out_of_norm``); one per provider,
  indicator and period, whatever the number of corrections (``QualitySignal`` ledger, unique index).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from piccolo.engine import engine_finder
from piccolo.querystring import QueryString

from apps.escalations.signals import NEW as SIGNAL_NEW
from apps.escalations.signals import file_signal
from apps.providers.tables import Provider
from apps.quality.indicators import (
    QUARTER,
    WHOLE_UNITS,
    due_on,
    fmt,
    norm_of,
    parse_period,
    period_end,
    period_label,
)
from apps.quality.tables import QualityFigure, QualityIndicator, QualitySignal
from core.actor import SYSTEM, Actor
from core.audit import audit
from core.clock import Clock, system_clock
from core.formatting import format_date_nl
from core.tenancy import ProviderScope, RegionScope
from core.transactions import write_transaction

CURRENT, REPLACED = "actueel", "vervangen"
OUT_OF_NORM, MISSING = "buiten_norm", "ontbreekt"
REASONS_NL = {OUT_OF_NORM: "Buiten de norm", MISSING: "Niet aangeleverd"}
MAX_NOTE = 1_000
MAX_CSV_BYTES = 1_000_000
MAX_CSV_ROWS = 2_000
CSV_COLUMNS = ("indicator", "periode", "waarde", "toelichting")
SCORE_MAX = 10  # a score is a report mark (rapportcijfer) from 0 to 10


class FigureError(ValueError):
    """A refused figure; ``message`` is Dutch and belongs next to ``field``."""

    def __init__(self, field: str, message: str):
        self.field = field
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class RowError:
    row: int  # the line number in the file, the header being row 1
    column: str
    message: str

    def __str__(self) -> str:
        return f"Rij {self.row}, kolom ‘{self.column}’: {self.message}"


class CsvRefused(Exception):
    """The file was refused as a whole: nothing was stored. ``errors``: every problem, by row and column."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclass(frozen=True)
class FigureInput:
    indicator: QualityIndicator
    period: str
    value: float
    note: str = ""


@dataclass
class Stored:
    figure: QualityFigure
    indicator: QualityIndicator
    corrected: bool = False
    unchanged: bool = False
    signal_raised: bool = False


# --- checking input --------------------------------------------------------------------------------------------


def parse_value(text: str, indicator: QualityIndicator) -> float:
    """A figure as a person types it: "7,5", "7.5", "82%", "€ 1.250,50". Raises ValueError with a Dutch reason."""
    raw = (text or "").strip()
    if not raw:
        raise ValueError("vul een getal in")
    cleaned = raw.replace("€", "").replace("%", "").replace(" ", "").replace("\u00a0", "")
    if "," in cleaned:  # Dutch notation: the comma is the decimal sign, dots group thousands
        cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        value = float(cleaned)
    except ValueError:
        raise ValueError(f"‘{raw}’ is geen getal") from None
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"‘{raw}’ is geen getal")
    if value < 0:
        raise ValueError("een cijfer kan niet negatief zijn")
    if indicator.unit in WHOLE_UNITS and not value.is_integer():
        raise ValueError(f"{indicator.name} is een aantal: vul een heel getal in")
    if indicator.unit == "procent" and value > 100:
        raise ValueError("een percentage ligt tussen 0 en 100")
    if indicator.unit == "score" and value > SCORE_MAX:
        raise ValueError(f"een score ligt tussen 0 en {SCORE_MAX}")
    return value


def check_period(text: str, indicator: QualityIndicator, today: date) -> str:
    """The canonical period for ``indicator``; raises ValueError with a Dutch reason."""
    code = parse_period(text, indicator.period)
    if code is None:
        example = "2026-K3 (jaar, K, kwartaal)" if indicator.period == QUARTER else "2026"
        what = "kwartaal" if indicator.period == QUARTER else "jaar"
        raise ValueError(f"‘{(text or '').strip()}’ is geen {what}: schrijf bijvoorbeeld {example}")
    if period_end(code) > today:
        raise ValueError(f"{period_label(code)} is nog niet voorbij; lever het cijfer aan na afloop")
    return code


def check_entry(indicator: QualityIndicator | None, period: str, value: str, note: str, today: date) -> FigureInput:
    """One figure as typed in the form; raises FigureError naming the field."""
    if indicator is None or not indicator.active:
        raise FigureError("indicator", "Deze indicator vraagt de regio niet (meer) uit.")
    if indicator.derived_from:
        raise FigureError("indicator", f"{indicator.name} volgt uit het bewijsregister; u levert het niet aan.")
    try:
        code = check_period(period, indicator, today)
    except ValueError as exc:
        raise FigureError("periode", _sentence(str(exc))) from None
    try:
        number = parse_value(value, indicator)
    except ValueError as exc:
        raise FigureError(f"waarde_{indicator.key}", _sentence(str(exc))) from None
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise FigureError(
            f"toelichting_{indicator.key}", f"De toelichting mag ten hoogste {MAX_NOTE} tekens lang zijn."
        )
    return FigureInput(indicator=indicator, period=code, value=number, note=note)


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."


def parse_csv(content: bytes, indicators: dict[str, QualityIndicator], today: date) -> list[FigureInput]:
    """Every row of a CSV file (``indicator;periode;waarde;toelichting``, ``;`` or ``,`` separated, UTF-8) checked;
    all rows or none: any problem refuses the whole file with every problem named by row and column."""
    if len(content) > MAX_CSV_BYTES:
        raise CsvRefused([RowError(1, "bestand", f"het bestand is groter dan {MAX_CSV_BYTES // 1000} kB")])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvRefused(
            [RowError(1, "bestand", "het bestand is geen UTF-8-tekst; sla het op als CSV (UTF-8)")]
        ) from None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise CsvRefused([RowError(1, "bestand", "het bestand is leeg")])
    delimiter = ";" if lines[0].count(";") >= lines[0].count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in next(reader)]
    missing = [c for c in CSV_COLUMNS[:3] if c not in header]
    if missing:
        raise CsvRefused([RowError(1, c, "deze kolom ontbreekt in de eerste regel") for c in missing])
    unknown = [h for h in header if h and h not in CSV_COLUMNS]
    if unknown:
        return_errors = [RowError(1, h, f"onbekende kolom; toegestaan zijn {', '.join(CSV_COLUMNS)}") for h in unknown]
        raise CsvRefused(return_errors)
    position = {name: header.index(name) for name in CSV_COLUMNS if name in header}
    errors: list[RowError] = []
    entries: list[FigureInput] = []
    seen: dict[tuple[str, str], int] = {}
    for row_number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank lines (spreadsheets add them) carry nothing
        if row_number > MAX_CSV_ROWS + 1:
            errors.append(RowError(row_number, "bestand", f"ten hoogste {MAX_CSV_ROWS} regels per bestand"))
            break

        def cell(name: str, row=row) -> str:
            index = position.get(name)
            return row[index].strip() if index is not None and index < len(row) else ""

        key = cell("indicator")
        indicator = indicators.get(key)
        if not key:
            errors.append(RowError(row_number, "indicator", "vul de code van de indicator in"))
            continue
        if indicator is None or not indicator.active:
            errors.append(RowError(row_number, "indicator", f"‘{key}’ is geen indicator van deze regio"))
            continue
        if indicator.derived_from:
            errors.append(
                RowError(row_number, "indicator", f"‘{key}’ volgt uit het bewijsregister en levert u niet aan")
            )
            continue
        ok = True
        try:
            code = check_period(cell("periode"), indicator, today)
        except ValueError as exc:
            errors.append(RowError(row_number, "periode", str(exc)))
            ok = False
        try:
            number = parse_value(cell("waarde"), indicator)
        except ValueError as exc:
            errors.append(RowError(row_number, "waarde", str(exc)))
            ok = False
        note = cell("toelichting")
        if len(note) > MAX_NOTE:
            errors.append(RowError(row_number, "toelichting", f"ten hoogste {MAX_NOTE} tekens"))
            ok = False
        if not ok:
            continue
        if (key, code) in seen:
            errors.append(
                RowError(row_number, "indicator", f"‘{key}’ voor {code} staat ook al in rij {seen[(key, code)]}")
            )
            continue
        seen[(key, code)] = row_number
        entries.append(FigureInput(indicator=indicator, period=code, value=number, note=note))
    if errors:
        raise CsvRefused(errors)
    if not entries:
        raise CsvRefused([RowError(2, "bestand", "het bestand bevat geen cijfers onder de kopregel")])
    return entries


# --- storing ----------------------------------------------------------------------------------------------------


async def _current(scope: RegionScope, provider_id: UUID, indicator_id: UUID, period: str) -> QualityFigure | None:
    return (
        await scope.objects(QualityFigure)
        .where(
            (QualityFigure.provider == provider_id)
            & (QualityFigure.indicator == indicator_id)
            & (QualityFigure.period == period)
            & (QualityFigure.status == CURRENT)
        )
        .first()
    )


async def region_has_acted(scope: RegionScope, provider_id: UUID, indicator_id: UUID, period: str) -> bool:
    """The purchasing team triaged a signal about this figure: corrections go through them now."""
    rows = await scope.select(QualitySignal, QualitySignal.signal.status.as_alias("status")).where(
        (QualitySignal.provider == provider_id)
        & (QualitySignal.indicator == indicator_id)
        & (QualitySignal.period == period)
    )
    return any(row["status"] != SIGNAL_NEW for row in rows)


async def submit_figures(
    provider_scope: ProviderScope,
    region_id: UUID | str,
    entries: list[FigureInput],
    *,
    actor: Actor,
    source: str = "formulier",
    clock: Clock = system_clock,
) -> list[Stored]:
    """Store the figures of one provider in one region, all in one transaction (all or none)."""
    scope = provider_scope.region_scope(region_id)  # ScopeError when the provider has no contract there
    stored = []
    async with write_transaction():
        await _one_submission_at_a_time(scope, provider_scope.provider_id)
        for entry in entries:
            stored.append(
                await _store(scope, provider_scope.provider_id, entry, actor=actor, source=source, clock=clock)
            )
    return stored


async def _one_submission_at_a_time(scope: RegionScope, provider_id: UUID) -> None:
    """A double submit must not store twice: on PostgreSQL a transaction lock per provider and region makes the
    second submission wait and then find the first one's figures unchanged (SQLite's BEGIN IMMEDIATE already lets
    one writer at a time)."""
    engine = engine_finder()
    if engine.engine_type == "postgres":
        key = f"quality-figures:{scope.region_id}:{provider_id}"
        await engine.run_querystring(QueryString("SELECT pg_advisory_xact_lock(hashtext({}))", key))


async def _store(
    scope: RegionScope, provider_id: UUID, entry: FigureInput, *, actor: Actor, source: str, clock: Clock
) -> Stored:
    indicator = entry.indicator
    if indicator.region != scope.region_id:
        raise FigureError("indicator", "Deze indicator hoort niet bij deze regio.")
    current = await _current(scope, provider_id, indicator.id, entry.period)
    if current is not None and current.value == entry.value and current.note == entry.note:
        return Stored(current, indicator, unchanged=True)  # a double submit, or nothing changed
    if current is not None and await region_has_acted(scope, provider_id, indicator.id, entry.period):
        raise FigureError(
            f"waarde_{indicator.key}",
            f"De regio heeft het cijfer voor {indicator.name} ({period_label(entry.period)}) al in behandeling "
            "genomen; vraag het team inkoop om een correctie.",
        )
    due = due_on(entry.period, indicator.due_days)
    now = clock.now()
    late = current.late if current is not None else clock.today() > due
    if current is not None:
        await scope.update(QualityFigure, {QualityFigure.status: REPLACED}).where(
            (QualityFigure.id == current.id) & (QualityFigure.status == CURRENT)
        )
    figure = scope.new(
        QualityFigure, provider=provider_id, indicator=indicator.id, period=entry.period, value=entry.value,
        note=entry.note, status=CURRENT, replaces=current.id if current else None, due_on=due, late=late,
        source=source, submitted_by=actor.user_id, submitted_by_label=actor.label, submitted_at=now,
    )  # fmt: skip
    await figure.save()
    await audit(
        "quality.figure_corrected" if current else "quality.figure_submitted",
        region_id=scope.region_id, actor_id=actor.user_id, actor_label=actor.label, target_type="quality_figure",
        target_id=str(figure.id),
        detail={"indicator": indicator.key, "periode": entry.period, "waarde": entry.value, "te_laat": late,
                "bron": source, **({"vorige_waarde": current.value} if current else {})},
        clock=clock,
    )  # fmt: skip
    raised = await _signal_if_out_of_norm(scope, indicator, figure, clock)
    return Stored(figure, indicator, corrected=current is not None, signal_raised=raised)


async def _signal_if_out_of_norm(scope: RegionScope, indicator: QualityIndicator, figure: QualityFigure,
                                 clock: Clock) -> bool:  # fmt: skip
    norm = norm_of(indicator)
    if not indicator.signal_out_of_norm or norm is None or norm.holds(figure.value):
        return False
    description = (
        f"{indicator.name} over {period_label(figure.period)}: {fmt(figure.value, indicator.unit)}, buiten de norm "
        f"({norm.text(indicator.unit)})."
    )
    return await raise_signal(scope, indicator, figure.provider, figure.period, OUT_OF_NORM, description,
                              figure_id=figure.id, clock=clock)  # fmt: skip


async def raise_signal(
    scope: RegionScope, indicator: QualityIndicator, provider_id: UUID, period: str, reason: str, description: str,
    *, figure_id: UUID | None = None, clock: Clock = system_clock,
) -> bool:  # fmt: skip
    """A signal for triage, through the signal service, once per provider, indicator, period and reason."""
    already = await scope.exists(QualitySignal).where(
        (QualitySignal.provider == provider_id) & (QualitySignal.indicator == indicator.id)
        & (QualitySignal.period == period) & (QualitySignal.reason == reason)
    )  # fmt: skip
    if already:
        return False
    signal = await file_signal(
        scope, actor=SYSTEM, reported_by="Trede (kwaliteitscijfers)", description=description,
        provider_id=provider_id, source="indicator", clock=clock,
    )  # fmt: skip
    await scope.new(
        QualitySignal, provider=provider_id, indicator=indicator.id, period=period, reason=reason, figure=figure_id,
        signal=signal.id, created_at=clock.now(),
    ).save()  # fmt: skip
    return True


# --- reading -----------------------------------------------------------------------------------------------------


async def figure_with_history(scope: RegionScope, figure_id: UUID | str) -> dict | None:
    """A figure, every version of it (newest first) and the signals it raised: for the region's figure page."""
    figure = await scope.get(QualityFigure, figure_id)
    if figure is None:
        return None
    indicator = await scope.get(QualityIndicator, figure.indicator)
    versions = (
        await scope.objects(QualityFigure)
        .where(
            (QualityFigure.provider == figure.provider)
            & (QualityFigure.indicator == figure.indicator)
            & (QualityFigure.period == figure.period)
        )
        .order_by(QualityFigure.submitted_at, ascending=False)
    )
    signals = await scope.select(
        QualitySignal, QualitySignal.signal, QualitySignal.reason, QualitySignal.signal.status.as_alias("status"),
    ).where(
        (QualitySignal.provider == figure.provider) & (QualitySignal.indicator == figure.indicator)
        & (QualitySignal.period == figure.period)
    )  # fmt: skip
    provider = await Provider.objects().where(Provider.id == figure.provider).first()
    return {"figure": figure, "indicator": indicator, "versions": versions, "signals": signals, "provider": provider}


async def signal_links(scope: RegionScope, signal_id: UUID | str) -> list[dict]:
    """For the triage page: the figure (or the missing figure) a signal came from."""
    rows = await scope.select(
        QualitySignal, QualitySignal.figure, QualitySignal.period, QualitySignal.reason, QualitySignal.provider,
        QualitySignal.indicator.key.as_alias("indicator_key"), QualitySignal.indicator.name.as_alias("indicator_name"),
    ).where(QualitySignal.signal == UUID(str(signal_id)))  # fmt: skip
    return [
        {**row, "period_label": period_label(row["period"]), "reason_nl": REASONS_NL.get(row["reason"], row["reason"])}
        for row in rows
    ]


def describe_due(figure: QualityFigure) -> str:
    return f"uiterlijk {format_date_nl(figure.due_on)}" + (" (te laat aangeleverd)" if figure.late else "")


@dataclass
class SubmitSummary:
    stored: int = 0
    corrected: int = 0
    unchanged: int = 0
    late: int = 0
    signals: int = 0
    lines: list[str] = field(default_factory=list)


def summarise(results: list[Stored]) -> SubmitSummary:
    summary = SubmitSummary()
    for result in results:
        if result.unchanged:
            summary.unchanged += 1
            continue
        summary.stored += 1
        summary.corrected += int(result.corrected)
        summary.late += int(result.figure.late)
        summary.signals += int(result.signal_raised)
    return summary
