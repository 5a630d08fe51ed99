"""The outbox: every notification is a row written with the change that causes it; workers deliver it."""

from piccolo.columns import JSONB, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from apps.accounts.tables import User
from apps.tenancy.tables import Region
from core.models import created_at, uuid_pk


class Notification(Table, tablename="notification"):
    id = uuid_pk()
    region = ForeignKey(Region, null=True, default=None, index=True)
    recipient = Varchar(length=254)  # an e-mail address, or a user id for in-app
    recipient_user = ForeignKey(User, null=True, default=None, index=True)
    channel = Varchar(length=10)  # email, inapp
    template = Varchar(length=80)
    payload = JSONB(default={})
    idempotency_key = Varchar(length=200, unique=True)
    status = Varchar(length=10, default="pending", index=True)  # pending, sending, sent, failed
    attempts = Integer(default=0)
    last_error = Text(default="")  # the reason in Dutch, for the people on the delivery pages
    error_detail = Text(default="")  # the technical detail (exception, server answer): the platform admin's page
    next_attempt_at = Timestamptz(null=True, default=None, index=True)
    claimed_at = Timestamptz(null=True, default=None)  # when a worker took it to send ("sending")
    created_at = created_at()
    sent_at = Timestamptz(null=True, default=None)
    read_at = Timestamptz(null=True, default=None)
