from apps.escalations.tables import (
    Deadline,
    Escalation,
    EscalationTally,
    LetterDelivery,
    Measure,
    Signal,
    StepProposal,
    TimelineEvent,
)
from core.apps import app_config

APP_CONFIG = app_config(
    "escalations",
    [Escalation, Signal, Deadline, TimelineEvent, Measure, StepProposal, LetterDelivery, EscalationTally],
    depends_on=("tenancy", "providers", "accounts", "ladders"),
)
