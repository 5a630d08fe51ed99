from core.apps import app_config
from core.ledger import JobRun

APP_CONFIG = app_config("workers", [JobRun])
