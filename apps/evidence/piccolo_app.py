from apps.evidence.tables import EvidenceDelivery, EvidenceItem, EvidenceReview
from core.apps import app_config

APP_CONFIG = app_config(
    "evidence",
    [EvidenceItem, EvidenceReview, EvidenceDelivery],
    depends_on=("tenancy", "providers", "accounts", "escalations"),
)
