from apps.evidence.tables import EvidenceItem, EvidenceReview
from core.apps import app_config

APP_CONFIG = app_config("evidence", [EvidenceItem, EvidenceReview], depends_on=("tenancy", "providers", "accounts"))
