from apps.notifications.tables import Notification
from core.apps import app_config

APP_CONFIG = app_config("notifications", [Notification], depends_on=("tenancy", "accounts"))
