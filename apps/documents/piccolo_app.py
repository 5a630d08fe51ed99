from apps.documents.tables import Document, DossierRequest
from core.apps import app_config

APP_CONFIG = app_config(
    "documents", [Document, DossierRequest], depends_on=("tenancy", "providers", "accounts", "escalations")
)
