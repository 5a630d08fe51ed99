"""Quality data (issue 10): the region's indicators (from ``tenants/``), the figures providers submit per period, and
the ledger that ties a figure (or a missing one) to the signal it raised."""

from piccolo.columns import UUID, Boolean, Date, DoublePrecision, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from apps.accounts.tables import User
from apps.escalations.tables import Signal
from apps.providers.tables import Provider
from apps.tenancy.tables import Region
from core.models import created_at, utcnow, uuid_pk


class QualityIndicator(Table, tablename="quality_indicator"):
    """One indicator of a region, synced from the region file's ``[indicators.KEY]``. Never deleted: figures refer
    to it; an indicator that left the file is ``active = False``."""

    id = uuid_pk()
    region = ForeignKey(Region, null=False, index=True)
    key = Varchar(length=64)
    name = Varchar(length=200)
    description = Text(default="")
    unit = Varchar(length=20)  # aantal, procent, score, dagen, euro
    period = Varchar(length=10)  # kwartaal, jaar
    norm_min = DoublePrecision(null=True, default=None)
    norm_max = DoublePrecision(null=True, default=None)
    due_days = Integer(default=30)
    remind_days_before = Integer(default=7)
    signal_out_of_norm = Boolean(default=False)
    signal_missing = Boolean(default=False)
    derived_from = Varchar(length=20, default="")  # an evidence kind: computed, not submitted
    position = Integer(default=0)  # order in the region file
    active = Boolean(default=True)
    # unique index quality_indicator_key on ["region", "key"] (made in the migration)


class QualityFigure(Table, tablename="quality_figure"):
    """A provider's figure for one indicator and period. A correction is a new row that ``replaces`` the earlier
    one (which becomes ``vervangen``): the history stays. At most one ``actueel`` row per provider, indicator and
    period (partial unique index)."""

    id = uuid_pk()
    region = ForeignKey(Region, null=False, index=True)
    provider = ForeignKey(Provider, null=False, index=True)
    indicator = ForeignKey(QualityIndicator, null=False, index=True)
    period = Varchar(length=10)  # "2026-K3" or "2026"
    value = DoublePrecision()
    note = Text(default="")
    status = Varchar(length=12, default="actueel")  # actueel, vervangen
    # The figure this one corrects. A plain id, not a foreign key: the corrected row is updated (status) after the
    # correction was written, so a row-by-row restore (trede restore) may meet the correction first.
    replaces = UUID(null=True, default=None)
    due_on = Date()  # the last day the figure was due
    late = Boolean(default=False)  # submitted after ``due_on``
    source = Varchar(length=12, default="formulier")  # formulier, csv, demo
    submitted_by = ForeignKey(User, null=True, default=None)
    submitted_by_label = Varchar(length=200, default="")
    submitted_at = Timestamptz(default=utcnow, index=True)


class QualitySignal(Table, tablename="quality_signal"):
    """The signal a figure outside the norm, or a missing figure, raised: one per provider, indicator, period and
    reason (unique index), so a sweep or a correction never raises a second one."""

    id = uuid_pk()
    region = ForeignKey(Region, null=False, index=True)
    provider = ForeignKey(Provider, null=False, index=True)
    indicator = ForeignKey(QualityIndicator, null=False, index=True)
    period = Varchar(length=10)
    reason = Varchar(length=12)  # buiten_norm, ontbreekt
    figure = ForeignKey(QualityFigure, null=True, default=None)
    signal = ForeignKey(Signal, null=False, index=True)
    created_at = created_at()
    # unique index quality_signal_once on ["region", "provider", "indicator", "period", "reason"]
