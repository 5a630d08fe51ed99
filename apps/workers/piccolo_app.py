from apps.workers.tables import JobRun
from core.apps import app_config

APP_CONFIG = app_config("workers", [JobRun])
