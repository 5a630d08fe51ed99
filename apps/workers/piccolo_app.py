from core.apps import app_config
from core.ledger import JobRun
from core.snapshots import MetricSnapshot

APP_CONFIG = app_config("workers", [JobRun, MetricSnapshot])
