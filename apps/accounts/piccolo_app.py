from apps.accounts.tables import CalendarFeed, Invitation, Membership, RateLimitCounter, User, WebSession
from core.apps import app_config

APP_CONFIG = app_config(
    "accounts",
    [User, Membership, WebSession, RateLimitCounter, Invitation, CalendarFeed],
    depends_on=("tenancy", "providers"),
)
