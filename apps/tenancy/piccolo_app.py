from apps.tenancy.tables import Municipality, Region, RegionMailbox
from core.apps import app_config

APP_CONFIG = app_config("tenancy", [Region, Municipality, RegionMailbox])
