"""Run against a running `trede serve --embedded` database (DATABASE_URL in the environment): opens the escalations
of tests.portal.support and prints their ids and references as JSON (used by the browser test); with
``link <e-mail>`` prints the link of the newest invitation mailed to that address."""

from __future__ import annotations

import asyncio
import json


async def main() -> None:
    from apps.providers.tables import Provider
    from tests.portal.support import VLINDER_KVK, open_vlinder_escalations

    opened = await open_vlinder_escalations()
    vlinder = await Provider.objects().where(Provider.kvk_number == VLINDER_KVK).first()
    print(json.dumps({"provider_id": str(vlinder.id),
                      **{k: {"id": str(e.id), "reference": e.reference} for k, e in opened.items()}}))  # fmt: skip


async def invitation_link(email: str) -> None:
    """The link in the outbox e-mail of the newest invitation to ``email`` (what the invited person would click)."""
    from apps.accounts.tables import Invitation
    from apps.notifications.tables import Notification

    invitation = await Invitation.objects().where(Invitation.email == email).order_by(
        Invitation.created_at, ascending=False
    ).first()  # fmt: skip
    mail = await Notification.objects().where(Notification.idempotency_key == f"invitation:{invitation.id}").output(
        load_json=True
    ).first()  # fmt: skip
    print(json.dumps({"link": mail.payload["link"]}))


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["link"]:
        asyncio.run(invitation_link(sys.argv[2]))
    else:
        asyncio.run(main())
