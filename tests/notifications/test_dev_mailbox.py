"""Issue 17 point 2: mail in the embedded default. `make run` keeps every outgoing mail in var/mail and shows it
on /ontwikkeling/post (never in production); a failed send is never reported as sent."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import httpx
import pytest

from apps.accounts import invitations
from apps.accounts.roles import Role
from apps.accounts.services import load_person
from apps.accounts.tables import User
from apps.notifications.services import deliver, transports_from_settings
from apps.notifications.tables import Notification
from apps.notifications.transports import EmailTransport, InAppTransport, MailFolderTransport
from apps.providers.tables import Provider
from core.app import create_app
from core.clock import FrozenClock
from core.settings import ConfigError, embedded_defaults, load_settings
from core.tenancy import RegionScope
from tests.notifications.test_hardening import PAYLOADS, _bare
from tests.support import free_port, make_settings_env

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def embedded_settings(tmp_path):
    env = {**embedded_defaults(tmp_path / "var"), "DATABASE_URL": os.environ["DATABASE_URL"]}
    return load_settings(env)


async def test_the_embedded_default_delivers_into_the_dev_mailbox_with_a_clickable_link(synced, tmp_path):
    settings = embedded_settings(tmp_path)
    assert settings.dev_mailbox == tmp_path / "var" / "mail"
    transports = transports_from_settings(settings)
    assert isinstance(transports["email"], MailFolderTransport)
    link = "http://127.0.0.1:8000/uitnodiging/rABC123"
    region_id, notification_id = await _bare("zuid-limburg", "nieuw@zuid-limburg.example", "invitation:dev",
                                             "uitnodiging", {**PAYLOADS["uitnodiging"], "link": link})  # fmt: skip
    assert await deliver(region_id, notification_id, transports, FrozenClock(NOW)) == "sent"
    [stored] = list(settings.dev_mailbox.glob("*.eml"))
    assert b"Message-ID: <" in stored.read_bytes() and b"Reply-To: inkoop@zuid-limburg.example" in stored.read_bytes()

    app = create_app(settings, start_background=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        home = await http.get("/")
        assert 'href="/ontwikkeling/post"' in home.text  # the footer points a newcomer to it
        page = await http.get("/ontwikkeling/post")  # no login: the newcomer has no account yet
    assert page.status_code == 200
    assert "Uitnodiging voor Trede: Inkoper bij Jeugdhulp Zuid-Limburg" in page.text
    assert "nieuw@zuid-limburg.example" in page.text
    assert f'<a class="utrecht-link" href="{link}">{link}</a>' in page.text


async def test_no_dev_mailbox_with_a_real_mail_server_nor_in_production(db, tmp_path):
    settings = load_settings(make_settings_env(tmp_path))  # smtp://: a real server, no mailbox page
    assert settings.dev_mailbox is None
    assert isinstance(transports_from_settings(settings)["email"], EmailTransport)
    app = create_app(settings, start_background=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        assert (await http.get("/ontwikkeling/post")).status_code == 404
        assert "/ontwikkeling/post" not in (await http.get("/")).text
    with pytest.raises(ConfigError, match="SMTP_URL file:// keeps mail in a folder and sends none: not in production"):
        load_settings(make_settings_env(tmp_path, TREDE_ENV="production", SMTP_URL=f"file://{tmp_path}/mail"))


async def test_a_failed_invitation_mail_is_not_reported_as_sent(world, tmp_path):
    """Nothing listens on the mail port: the list of open invitations says so in Dutch, the exception text
    stays on the platform admin's delivery page."""
    admin = await load_person((await User.objects().where(User.subject == "vlinder-beheerder").first()).id)
    provider = await Provider.objects().where(Provider.kvk_number == "90000001").first()
    invitation = await invitations.invite(email="nina@devlinder.localhost", role=Role.AANBIEDER_MEDEWERKER,
                                          invited_by=admin, provider_id=provider.id, base_url="http://testserver")
    mail = await Notification.objects().where(Notification.idempotency_key == f"invitation:{invitation.id}").first()
    dead = {"email": EmailTransport(f"smtp://127.0.0.1:{free_port()}", "noreply@trede.localhost", timeout=2),
            "inapp": InAppTransport()}  # fmt: skip
    assert await deliver(mail.region, mail.id, dead, FrozenClock(NOW)) == "pending"
    [state] = (await invitations.mail_states([invitation], provider_id=provider.id)).values()
    assert state == "e-mail wacht op verzending (De mailserver was niet bereikbaar; Trede probeert het later opnieuw.)"
    scope = RegionScope(mail.region)
    await scope.update(Notification, {Notification.status: "failed"}).where(Notification.id == mail.id)
    [state] = (await invitations.mail_states([invitation], provider_id=provider.id)).values()
    assert state.startswith("e-mail niet verstuurd: De mailserver was niet bereikbaar") and "Error" not in state
    row = await scope.get(Notification, mail.id)
    assert "Error" in row.error_detail  # the technical detail is kept, for /beheer/meldingen only
