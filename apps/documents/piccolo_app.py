from apps.documents.tables import Document
from core.apps import app_config

APP_CONFIG = app_config("documents", [Document], depends_on=("tenancy", "providers", "accounts", "escalations"))
