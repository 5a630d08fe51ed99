from apps.audit.tables import AuditEntry
from core.apps import app_config

APP_CONFIG = app_config("audit", [AuditEntry], depends_on=("tenancy", "accounts"))
