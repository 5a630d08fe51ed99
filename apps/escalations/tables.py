"""Signals, escalations and what hangs off them: deadlines, the append-only timeline, measures."""

from piccolo.columns import JSONB, UUID, Boolean, ForeignKey, Integer, OnDelete, Text, Timestamptz, Varchar
from piccolo.table import Table

from apps.accounts.tables import User
from apps.ladders.tables import LadderVersion
from apps.providers.tables import Contract, Provider
from apps.tenancy.tables import Municipality, Region
from core.models import created_at, utcnow, uuid_pk


class Escalation(Table, tablename="escalation"):
    """One provider's path up one ladder version in one region."""

    id = uuid_pk()
    region = ForeignKey(Region, null=False, index=True)
    reference = Varchar(length=40)  # human reference, e.g. ZL-2026-0007
    provider = ForeignKey(Provider, null=False, index=True)
    contract = ForeignKey(Contract, null=True, default=None)
    ladder_version = ForeignKey(LadderVersion, null=False)  # kept for life, whatever later versions say
    category = Varchar(length=40)  # veiligheid / niet_veiligheid / geschil / contract / continuiteit
    subcategory = Varchar(length=60, default="")  # e.g. vog_werknemers, doeltreffendheid, PIC-dispute kind
    current_step = Varchar(length=64, index=True)
    status = Varchar(length=20, default="open", index=True)  # open, paused, closed
    outcome = Varchar(length=60, default="")
    summary = Text(default="")
    # A dispute about one case (a ladder with [case], seed 001): the municipality whose access team is party to it,
    # the access team's pseudonymous case reference (never a BSN or a name: apps.escalations.cases) and the
    # professionals involved. The discussion point is the subcategory. Empty for every other escalation.
    case_municipality = ForeignKey(Municipality, null=True, default=None, on_delete=OnDelete.no_action)
    case_reference = Varchar(length=40, default="")
    case_professionals = Varchar(length=300, default="")
    # A financial disagreement (seed 001 §2.1): never discussed with the young person or the family. Set when opening:
    # the ladder's financial discussion points always, any other when the opener marks it (``[dispute] financial``).
    case_financial = Boolean(default=False)
    opened_at = Timestamptz(default=utcnow, index=True)
    closed_at = Timestamptz(null=True, default=None)
    # The earliest due moment of its open deadlines (None: none running), kept by deadlines.refresh_next_due
    # whenever a deadline is made, met, missed, cancelled, suspended, resumed or moved: lists sort on it.
    next_due_at = Timestamptz(null=True, default=None)
    # unique index escalation_reference_key on ["region", "reference"] (made in the migration)
    # indexes escalation_region_next_due on ["region", "next_due_at", "id"] and escalation_region_opened on
    # ["region", "opened_at", "id"]: the lists' orders (made in the migration); escalation_provider_closed on
    # ["provider", "closed_at", "id"]: the portal's archive, newest closed first
    # index escalation_region_case_opened on ["region", "case_municipality", "opened_at", "id"]: the list of disputes
    # (a municipality's people read their municipality's, newest first)


class Signal(Table, tablename="signal"):
    """A report that may touch a provider's contract ("raakt het de DVO?"), triaged by the purchasing team."""

    id = uuid_pk()
    region = ForeignKey(Region, null=False, index=True)
    provider = ForeignKey(Provider, null=True, default=None, index=True)
    municipality = ForeignKey(Municipality, null=True, default=None)
    reported_by = Varchar(length=200)
    description = Text()
    received_at = Timestamptz(default=utcnow, index=True)
    touches_contract = Boolean(null=True, default=None)  # None: not triaged yet
    status = Varchar(length=20, default="nieuw")  # nieuw, teruggelegd, geëscaleerd, gekoppeld
    escalation = ForeignKey(Escalation, null=True, default=None)
    source = Varchar(length=40, default="handmatig")  # handmatig, evidence_watch, indicator
    # who filed it in Trede (none for a watcher's signal): the access team's own list of its signals and their status
    filed_by = ForeignKey(User, null=True, default=None, on_delete=OnDelete.set_null)
    # index signal_escalation on ["escalation"] (made in the migration): the escalation page lists its signals
    # indexes signal_region_received on ["region", "received_at", "id"] and signal_region_status_received on
    # ["region", "status", "received_at", "id"] (made in the migration): the signals list, newest first;
    # signal_region_filed_by_received on ["region", "filed_by", "received_at", "id"]: a person's own signals


class Deadline(Table, tablename="deadline"):
    """A term running on an escalation. Claimed by workers with a compare-and-set on ``status``."""

    id = uuid_pk()
    region = ForeignKey(Region, null=False, index=True)
    escalation = ForeignKey(Escalation, null=False, index=True)
    step = Varchar(length=64)
    key = Varchar(length=64)  # the ladder's term key within the step
    term = Varchar(length=40)  # as written: "2 weken", "10 werkdagen"
    met_by = Varchar(length=80, default="", index=True)  # the ladder's met_by: "document:plan_van_aanpak", "step:x"
    # When the term starts: "step" (on entering it), "letter" (the receipt of the step's letter, expected and then
    # as recorded), "document:KIND" (when such a document is delivered),
    # "date:YYYY-MM-DD", or "contract_end" (counted back from the contract's end date). A term waiting on
    # its event has status "waiting" and no due date yet.
    starts = Varchar(length=80, default="step")
    starts_at = Timestamptz(null=True, default=None)
    # A term counted from a letter's receipt (starts "letter", BW 3:37 lid 3): the ``letter_delivery`` row of the
    # letter its step sent; a receipt recorded for that letter later than expected moves the term on.
    letter_delivery = UUID(null=True, default=None)
    due_at = Timestamptz(null=True, default=None, index=True)
    remind_at = Timestamptz(null=True, default=None, index=True)
    status = Varchar(length=20, default="open", index=True)  # waiting, open, suspended, met, missed, cancelled
    reasons = JSONB(default=[])  # why the due date moved ("verschoven: Tweede Paasdag (6 april 2026)")
    calendar_version = Varchar(length=40, default="")
    suspended_at = Timestamptz(null=True, default=None)
    met_at = Timestamptz(null=True, default=None)
    ended_at = Timestamptz(null=True, default=None)  # when it stopped running: met, missed or cancelled
    claimed_by = Varchar(length=80, default="")
    claimed_at = Timestamptz(null=True, default=None)


class TimelineEvent(Table, tablename="timeline_event"):
    """Append-only history of an escalation. Never updated, never deleted."""

    id = uuid_pk()
    region = ForeignKey(Region, null=False, index=True)
    # no index of its own: the unique (escalation, sequence) below serves every lookup by escalation
    escalation = ForeignKey(Escalation, null=False)
    sequence = Integer()  # 1, 2, 3, ... per escalation: the order both sides see
    kind = Varchar(length=60)
    visibility = Varchar(length=10, default="shared")  # shared (provider sees it) or internal
    actor = ForeignKey(User, null=True, default=None)
    actor_label = Varchar(length=200, default="")  # "Systeem", a name, a role
    occurred_at = Timestamptz(default=utcnow, index=True)
    motivation = Text(default="")
    payload = JSONB(default={})
    idempotency_key = Varchar(length=100, null=True, default=None, unique=True)
    # unique index timeline_event_sequence_key on ["escalation", "sequence"] (made in the migration)


class Measure(Table, tablename="measure"):
    """A measure in force against a provider, such as an instroomstop, with its scope of municipalities."""

    id = uuid_pk()
    region = ForeignKey(Region, null=False, index=True)
    escalation = ForeignKey(Escalation, null=False, index=True)
    provider = ForeignKey(Provider, null=False, index=True)
    kind = Varchar(length=40)  # instroomstop, clientenstop, overdracht, terugvordering, boete, ontbinding
    scope = JSONB(default=[])  # CBS codes of the municipalities that must follow it
    started_at = Timestamptz(default=utcnow)
    ended_at = Timestamptz(null=True, default=None)
    start_motivation = Text(default="")
    end_motivation = Text(default="")
    created_at = created_at()


class StepProposal(Table, tablename="step_proposal"):
    """A step the ladder proposes, for a person to decide: the "Te beoordelen" work list. The sweep never takes a
    step that sends a letter or imposes a measure on its own; it proposes it here (with the letter's draft on the
    escalation page), and the proposal ends when a person takes a step or closes the escalation."""

    id = uuid_pk()
    region = ForeignKey(Region, null=False, index=True)
    escalation = ForeignKey(Escalation, null=False, index=True)
    step = Varchar(length=64)  # the proposed step's key
    step_title = Varchar(length=300, default="")
    letter = Varchar(length=64, default="")  # the letter the step would send: its draft is shown for review
    reason = Text(default="")  # Dutch: why ("termijn 'Plan van aanpak binnen?' (2 weken) is verlopen")
    proposed_at = Timestamptz(default=utcnow)
    status = Varchar(length=20, default="open")  # open, followed (that step was taken), set_aside
    resolved_at = Timestamptz(null=True, default=None)
    resolved_by = Varchar(length=200, default="")  # who decided, as the timeline names them
    # partial index step_proposal_open on ["region", "proposed_at"] WHERE status = 'open' (made in the migration)


class LetterDelivery(Table, tablename="letter_delivery"):
    """How one formal letter went to the provider and when it reached them (BW 3:37 lid 3: a declaration works
    from its receipt). Made with the letter (``letters.issue_letter``); ``received_at`` is set once, by the
    provider's acknowledgement in the portal or by the team recording a registered-mail or hand-delivery receipt
    (``letter_receipts``). The timeline keeps the history; this row is what the work list and the API read."""

    id = uuid_pk()
    region = ForeignKey(Region, null=False, index=True)
    escalation = ForeignKey(Escalation, null=False, index=True)
    event = ForeignKey(TimelineEvent, null=False, unique=True)  # the letter's "brief_verstuurd" event
    document = UUID(null=True, default=None)  # the letter's PDF (apps.documents imports this module: no FK back)
    letter = Varchar(length=64)  # the ladder's letter key, e.g. "ingebrekestelling"
    title = Varchar(length=300, default="")
    method = Varchar(length=20, default="portaal")  # portaal (portal + e-mail), aangetekend, hand
    sent_at = Timestamptz(default=utcnow)
    # The end of the 5th working day after sending (the region's calendar): unacknowledged after it, the letter
    # is on the work list "Te beoordelen".
    acknowledge_by = Timestamptz(default=utcnow)
    received_at = Timestamptz(null=True, default=None)
    received_how = Varchar(length=20, default="")  # bevestigd (in the portal), aangetekend, hand
    received_by = Varchar(length=200, default="")  # who acknowledged or recorded it, as the timeline names them
    tracking_code = Varchar(length=60, default="")  # the registered mail's track-and-trace code
    # partial index letter_delivery_unconfirmed on ["region", "acknowledge_by"] WHERE received_at IS NULL
    # (made in the migration): the work list's unacknowledged letters


class EscalationTally(Table, tablename="escalation_tally"):
    """How many escalations a region has per ladder version, step, category, subcategory and status.

    Kept by database triggers on every insert, update and delete of ``escalation``, in the writing transaction
    (migration escalations_2026_12_07t16_50_00_000001), so every web process reads the same numbers and no code
    path can forget it: the dashboard, the home page and the overview count from here instead of reading the
    region's escalations (issue 20). ``apps.escalations.tally`` reads it.
    """

    region = ForeignKey(Region, null=False)
    ladder_version = UUID()
    current_step = Varchar(length=64)
    category = Varchar(length=40)
    subcategory = Varchar(length=60, default="")
    status = Varchar(length=20)
    escalations = Integer(default=0)
    # unique index escalation_tally_key on the six columns above (made in the migration): the triggers' upsert
