from apps.providers.tables import Contract, Provider
from core.apps import app_config

APP_CONFIG = app_config("providers", [Provider, Contract], depends_on=("tenancy",))
