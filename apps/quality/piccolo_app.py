from apps.quality.tables import QualityFigure, QualityIndicator, QualitySignal
from core.apps import app_config

APP_CONFIG = app_config(
    "quality",
    [QualityIndicator, QualityFigure, QualitySignal],
    depends_on=("tenancy", "providers", "accounts", "escalations"),
)
