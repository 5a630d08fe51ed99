from apps.accounts.tables import Membership, RateLimitCounter, User, WebSession
from core.apps import app_config

APP_CONFIG = app_config(
    "accounts", [User, Membership, WebSession, RateLimitCounter], depends_on=("tenancy", "providers")
)
