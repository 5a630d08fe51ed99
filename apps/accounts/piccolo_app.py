from apps.accounts.tables import Membership, User
from core.apps import app_config

APP_CONFIG = app_config("accounts", [User, Membership], depends_on=("tenancy", "providers"))
