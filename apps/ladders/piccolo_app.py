from apps.ladders.tables import Ladder, LadderVersion
from core.apps import app_config

APP_CONFIG = app_config("ladders", [Ladder, LadderVersion], depends_on=("tenancy",))
