"""The outbox: every notification is a row written with the change that causes it; workers deliver it."""

from piccolo.columns import JSONB, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.table import Table

from apps.accounts.tables import User
from apps.tenancy.tables import Region
from core.messages import send_by_name
from core.models import created_at, uuid_pk
from core.transactions import after_commit


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
    # When the sweep last handed it to the broker (None: not since a worker last took it): a pending row is handed
    # over again only after notifications.services.REQUEUE_AFTER (the broker lost it), not every minute.
    queued_at = Timestamptz(null=True, default=None)
    created_at = created_at()
    sent_at = Timestamptz(null=True, default=None)
    read_at = Timestamptz(null=True, default=None)
    # (made in the migration) indexes notification_region_created on ["region", "created_at", "id"] and
    # notification_region_status_created on ["region", "status", "created_at", "id"]: the delivery overview;
    # partial indexes notification_inapp on ["recipient_user", "created_at", "id"] WHERE channel = 'inapp': a
    # person's notices, and notification_unread on ["recipient_user", "region"] WHERE read_at IS NULL AND
    # channel = 'inapp': the bell; notification_pending_created on ["created_at"] WHERE status = 'pending': the
    # sweep's outbox, across regions; notification_status_created on ["status", "created_at", "id"]: the platform
    # admin's notices of one status, across regions

    def save(self, columns=None):
        """A new row to send is handed to a worker as soon as its transaction commits (not on a rollback);
        the minute's sweep stays the safety net for a lost message or a row written outside a transaction."""
        query = super().save(columns)
        if not self._exists_in_db and self.status == "pending" and self.channel != "inapp":
            region, row = str(self.region), str(self.id)
            after_commit(lambda: send_by_name("deliver_notification", region, row))
        return query
