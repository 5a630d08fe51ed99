"""Issue 21.1 and 17.4: no notice stays in "sending", every error ends in a retry or in "failed" with a Dutch
reason, and mail carries the headers mail clients expect (checked on what a real SMTP server receives)."""

from __future__ import annotations

import asyncio
import contextlib
import re
from datetime import UTC, datetime, timedelta

import pytest

from apps.notifications.messages import MESSAGES
from apps.notifications.services import MAX_ATTEMPTS, deliver, due_for_delivery, release_claims
from apps.notifications.tables import Notification
from apps.notifications.transports import EmailTransport, InAppTransport
from core import worker_stop
from core.broker import configure_broker
from core.clock import FrozenClock
from core.tenancy import RegionScope
from tests.notifications.test_delivery import _notification

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
BASE = "https://trede.example"

# A complete payload for every kind of mail, as the code that writes them fills it.
PAYLOADS = {
    "ladder_notify": {"escalatie": "ZL-2026-0001", "aanbieder": "Zorg B.V.", "stap_titel": "Signaal",
                      "bericht": "Download de brief via https://trede.example/portaal/documenten/1"},
    "instroomstop_gestart": {"provider_name": "Zorg B.V.", "kvk_number": "90000001", "start_date": "24 november 2026",
                             "municipalities": ["Maastricht"]},
    "instroomstop_beeindigd": {"provider_name": "Zorg B.V.", "kvk_number": "90000001", "end_date": "1 december 2026"},
    "termijn_herinnering": {"wat": "Plan van aanpak", "vervaldatum": "8 december 2026", "escalatie": "ZL-2026-0001"},
    "termijn_verlopen": {"wat": "Plan van aanpak", "vervaldatum": "8 december 2026", "escalatie": "ZL-2026-0001"},
    "termijn_herberekend": {"wat": "Gebreken verholpen", "vervaldatum": "2 april 2026", "escalatie": "L-2026-0001",
                            "termijn": "4 weken", "brief_titel": "Ingebrekestelling", "ontvangen_op": "5 maart 2026",
                            "oude_vervaldatum": "31 maart 2026", "pad": "/portaal/escalaties/1"},
    "document_ontvangen": {"escalatie": "ZL-2026-0001", "soort": "plan van aanpak", "aanbieder": "Zorg B.V.",
                           "bestandsnaam": "plan.pdf"},
    "bewijs_verloopt": {"wat": "VOG", "vervaldatum": "8 december 2026"},
    "dagoverzicht": {"datum": "24 november 2026", "aantal": 1, "regio": "Jeugdhulp Zuid-Limburg",
                     "items": [{"vervaldatum": "25 november 2026", "verlopen": False, "escalatie": "ZL-2026-0001",
                                "aanbieder": "Zorg B.V.", "termijn": "plan van aanpak"}]},
    "uitnodiging": {"link": "https://trede.example/uitnodiging/abc", "organisatie": "Jeugdhulp Zuid-Limburg",
                    "soort": "regio", "rol": "Inkoper", "uitgenodigd_door": "Ilse", "geldig_tot": "8 december 2026"},
    "kwaliteit_herinnering": {"periode": "2026 kwartaal 4", "vervaldatum": "8 december 2026", "indicatoren": ["x"]},
    "escalatie_gesloten": {"escalatie": "ZL-2026-0001", "aanbieder": "Zorg B.V.", "uitkomst": "hersteld",
                           "rol": "aanbieder", "pad": "/portaal/escalaties/1"},
    "bericht_ontvangen": {"escalatie": "ZL-2026-0001", "aanbieder": "Zorg B.V.", "van": "Ilse Inkoop",
                          "tekst": "Zie https://trede.example/x", "pad": "/regio/zuid-limburg/escalaties/1"},
    "kwaliteit_ontbreekt": {"periode": "2026 kwartaal 4", "vervaldatum": "8 december 2026", "indicatoren": ["x"]},
    "dossier_klaar": {"escalatie": "ZL-2026-0001", "bestandsnaam": "dossier-ZL-2026-0001-2026-12-08.pdf",
                      "pad": "/regio/zuid-limburg/escalaties/1#dossier"},
    "document_beoordeeld": {"escalatie": "ZL-2026-0001", "regio": "Jeugdhulp Zuid-Limburg",
                            "document_naam": "plan van aanpak", "bestandsnaam": "plan.pdf",
                            "oordeel_tekst": "Niet akkoord", "reden": "De maatregelen missen.",
                            "nieuwe_vervaldatum": "8 december 2026", "pad": "/portaal/escalaties/1"},
    "bewijs_beoordeeld": {"escalatie": "ZL-2026-0001", "regio": "Jeugdhulp Zuid-Limburg",
                          "naam": "VOG medewerker van J. Jansen", "oordeel_tekst": "Afgewezen",
                          "reden": "De VOG is ouder dan drie jaar.", "nieuwe_vervaldatum": "8 december 2026",
                          "pad": "/portaal/escalaties/1"},
    "geschil_bijgewerkt": {"escalatie": "WBW-2026-0001", "aanbieder": "Zorg B.V.", "gemeente": "Roosendaal",
                           "wat": "de lokale aanstuurder besliste", "tekst": "PIC 3, zie https://trede.example/x",
                           "financieel": "Financieel knelpunt: nooit met het gezin bespreken.",
                           "pad": "/regio/west-brabant-west/geschillen/1"},
}


def transports(url: str) -> dict:
    email = EmailTransport(url, "Trede <noreply@trede.localhost>", timeout=5, base_url=BASE)
    return {"email": email, "inapp": InAppTransport()}


async def _bare(slug: str, recipient: str, key: str, template: str, payload: dict):
    from apps.tenancy.tables import Region

    region = await Region.objects().where(Region.slug == slug).first()
    row = RegionScope(region.id).new(Notification, recipient=recipient, channel="email", template=template,
                                     idempotency_key=key, payload=payload)  # fmt: skip
    await row.save()
    return region.id, row.id


def test_every_kind_of_mail_has_a_full_payload_here():
    assert set(PAYLOADS) == set(MESSAGES)


@pytest.mark.parametrize("template", sorted(PAYLOADS))
async def test_headers_of_each_mail_kind(synced, smtp_sink, template):
    region_id, notification_id = await _bare("zuid-limburg", "iemand@zuid-limburg.example", f"kind:{template}",
                                             template, PAYLOADS[template])  # fmt: skip
    assert await deliver(region_id, notification_id, transports(smtp_sink.url), FrozenClock(NOW)) == "sent"
    [message] = smtp_sink.messages
    assert message["Reply-To"] == "inkoop@zuid-limburg.example"  # answers reach the region's team
    assert re.search(r" [+-]0[12]00$", message["Date"]), message["Date"]  # Amsterdam, not "-0000"
    assert re.fullmatch(r"<[0-9a-f]{32}\.trede@trede\.localhost>", message["Message-ID"])
    assert message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "…" not in message["Subject"] + text + html
    if template == "dagoverzicht":
        assert message["List-Unsubscribe"] == f"<{BASE}/account>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert f'<a href="{BASE}/account">' in html and f"{BASE}/account" in text
    else:
        assert message["List-Unsubscribe"] is None  # a notice about one's work is not a newsletter
    if template == "ladder_notify":
        assert '<a href="https://trede.example/portaal/documenten/1"' in html  # the link in the message: clickable
    if template == "uitnodiging":
        assert '<a href="https://trede.example/uitnodiging/abc">' in html
    if "pad" in PAYLOADS[template]:  # the page the notice is about, as a link
        assert f'<a href="{BASE}{PAYLOADS[template]["pad"]}">' in html and f"{BASE}{PAYLOADS[template]['pad']}" in text


async def test_the_message_id_is_the_same_when_a_notice_is_resent(synced, smtp_sink):
    smtp_sink.refuse.add("later@zuid-limburg.example")
    region_id, notification_id = await _bare("zuid-limburg", "later@zuid-limburg.example", "resend:1",
                                             "bewijs_verloopt", PAYLOADS["bewijs_verloopt"])  # fmt: skip
    clock = FrozenClock(NOW)
    assert await deliver(region_id, notification_id, transports(smtp_sink.url), clock) == "failed"
    smtp_sink.refuse.clear()
    first = transports(smtp_sink.url)["email"].message("later@zuid-limburg.example",
                                                        _rendered(), "resend:1")["Message-ID"]  # fmt: skip
    scope = RegionScope(region_id)
    await scope.update(Notification, {Notification.status: "pending"}).where(Notification.id == notification_id)
    assert await deliver(region_id, notification_id, transports(smtp_sink.url), clock) == "sent"  # the resend
    [message] = smtp_sink.messages
    assert message["Message-ID"] == first
    _, other = await _bare("zuid-limburg", "later@zuid-limburg.example", "resend:2", "bewijs_verloopt",
                           PAYLOADS["bewijs_verloopt"])  # fmt: skip
    await deliver(region_id, other, transports(smtp_sink.url), clock)
    assert smtp_sink.messages[1]["Message-ID"] != first  # one per notification


def _rendered():
    from apps.notifications.messages import render

    return render("bewijs_verloopt", {**PAYLOADS["bewijs_verloopt"], "region_name": "Jeugdhulp Zuid-Limburg"})


async def test_a_line_break_in_a_name_is_folded_into_the_subject_not_a_stuck_notice(synced, smtp_sink):
    payload = {**PAYLOADS["instroomstop_gestart"], "provider_name": "Zorg\r\nBcc: x@evil.example B.V."}
    region_id, notification_id = await _bare("zuid-limburg", "a@zuid-limburg.example", "crlf:1",
                                             "instroomstop_gestart", payload)  # fmt: skip
    assert await deliver(region_id, notification_id, transports(smtp_sink.url), FrozenClock(NOW)) == "sent"
    [message] = smtp_sink.messages
    assert message["Subject"].strip() == "Instroomstop voor Zorg Bcc: x@evil.example B.V. (vanaf 24 november 2026)"
    assert message["Bcc"] is None


async def test_an_address_with_a_line_break_fails_with_a_dutch_reason(synced, smtp_sink):
    region_id, notification_id = await _bare("zuid-limburg", "a@zuid-limburg.example\r\nBcc: x@evil.example",
                                             "crlf:2", "bewijs_verloopt", PAYLOADS["bewijs_verloopt"])  # fmt: skip
    assert await deliver(region_id, notification_id, transports(smtp_sink.url), FrozenClock(NOW)) == "failed"
    row = await RegionScope(region_id).get(Notification, notification_id)
    assert row.last_error.startswith("Het e-mailadres is ongeldig") and "control character" in row.error_detail
    assert smtp_sink.messages == []


async def test_a_missing_payload_field_fails_with_its_name_instead_of_sending_dots(synced, smtp_sink):
    payload = {k: v for k, v in PAYLOADS["termijn_herinnering"].items() if k != "vervaldatum"}
    region_id, notification_id = await _bare("zuid-limburg", "a@zuid-limburg.example", "missing:1",
                                             "termijn_herinnering", payload)  # fmt: skip
    assert await deliver(region_id, notification_id, transports(smtp_sink.url), FrozenClock(NOW)) == "failed"
    row = await RegionScope(region_id).get(Notification, notification_id)
    assert "‘vervaldatum’" in row.last_error and "MissingField" in row.error_detail
    payload = {k: v for k, v in PAYLOADS["document_ontvangen"].items() if k != "bestandsnaam"}  # body, not subject
    _, second = await _bare("zuid-limburg", "a@zuid-limburg.example", "missing:2", "document_ontvangen", payload)
    assert await deliver(region_id, second, transports(smtp_sink.url), FrozenClock(NOW)) == "failed"
    assert "‘bestandsnaam’" in (await RegionScope(region_id).get(Notification, second)).last_error
    assert smtp_sink.messages == []


class Exploding:
    """A transport with a bug: neither a temporary nor a permanent failure."""

    def __init__(self, error: BaseException):
        self.error = error

    async def send(self, recipient, rendered, idempotency_key):
        raise self.error


async def test_an_unexpected_error_is_retried_with_its_error_then_failed(synced):
    region_id, notification_id = await _notification("zuid-limburg", "b@zuid-limburg.example", "boom:1")
    clock = FrozenClock(NOW)
    broken = {"email": Exploding(RuntimeError("kapot")), "inapp": InAppTransport()}
    assert await deliver(region_id, notification_id, broken, clock) == "pending"
    row = await RegionScope(region_id).get(Notification, notification_id)
    assert row.status == "pending" and row.next_attempt_at == NOW + timedelta(minutes=1)
    assert row.last_error.startswith("Onverwachte fout") and row.error_detail == "RuntimeError: kapot"
    for _ in range(MAX_ATTEMPTS - 1):
        clock.advance(hours=7)
        status = await deliver(region_id, notification_id, broken, clock)
    assert status == "failed"
    row = await RegionScope(region_id).get(Notification, notification_id)
    assert row.status == "failed" and row.last_error.startswith(f"na {MAX_ATTEMPTS} pogingen niet verstuurd")


async def test_a_send_cancelled_at_worker_shutdown_goes_back_to_the_queue_at_once(synced):
    region_id, notification_id = await _notification("zuid-limburg", "c@zuid-limburg.example", "cancel:1")
    stopped = {"email": Exploding(asyncio.CancelledError()), "inapp": InAppTransport()}
    with pytest.raises(asyncio.CancelledError):
        await deliver(region_id, notification_id, stopped, FrozenClock(NOW))
    row = await RegionScope(region_id).get(Notification, notification_id)
    assert row.status == "pending"  # not "sending" until the lease runs out
    assert await due_for_delivery(FrozenClock(NOW)) == [(region_id, notification_id)]


class Hanging:
    """A mail server that takes the connection and never answers (until the test lets go)."""

    def __init__(self):
        self.reached = asyncio.Event()

    async def send(self, recipient, rendered, idempotency_key):
        self.reached.set()
        await asyncio.sleep(60)


async def test_a_worker_that_stops_gives_its_sends_in_progress_back_at_once(synced):
    """At a stop in order (SIGTERM) the worker runs its stop hooks: what it claimed is pending again at once,
    not after the sending lease."""
    region_id, notification_id = await _notification("zuid-limburg", "d@zuid-limburg.example", "stop:1")
    hanging = Hanging()
    sending = asyncio.create_task(deliver(region_id, notification_id, {"email": hanging, "inapp": InAppTransport()},
                                          FrozenClock(NOW)))  # fmt: skip
    await asyncio.wait_for(hanging.reached.wait(), 10)
    scope = RegionScope(region_id)
    assert (await scope.get(Notification, notification_id)).status == "sending"
    # The actor modules load with the broker (apps.wiring), and register their stop hooks then. Importing them at
    # this module's top would bind the actors to dramatiq's default broker before any test configured one.
    configure_broker("stub://")
    assert ("notices in progress", release_claims) in worker_stop.STOP_HOOKS  # registered
    assert await release_claims() == 1
    assert (await scope.get(Notification, notification_id)).status == "pending"
    assert await due_for_delivery(FrozenClock(NOW)) == [(region_id, notification_id)]
    sending.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sending


async def test_no_notice_stays_in_sending(synced, smtp_sink):
    """The stuck-notice test: whatever goes wrong, after the sweep's lease nothing is left in "sending"."""
    clock = FrozenClock(NOW)
    cases = [
        ({**PAYLOADS["instroomstop_gestart"], "provider_name": "A\nB"}, {"email": None}),
        ({"provider_name": "zonder de rest"}, {"email": None}),
        (PAYLOADS["instroomstop_gestart"], {"email": Exploding(ValueError("header"))}),
        (PAYLOADS["instroomstop_gestart"], {"email": Exploding(asyncio.CancelledError())}),
    ]
    made = []
    for index, (payload, transport) in enumerate(cases):
        region_id, notification_id = await _bare("zuid-limburg", f"s{index}@zuid-limburg.example", f"stuck:{index}",
                                                 "instroomstop_gestart", payload)  # fmt: skip
        chosen = transport["email"] or transports(smtp_sink.url)["email"]
        with contextlib.suppress(asyncio.CancelledError):
            await deliver(region_id, notification_id, {"email": chosen, "inapp": InAppTransport()}, clock)
        made.append(notification_id)
    scope = RegionScope(region_id)
    statuses = [(await scope.get(Notification, n)).status for n in made]
    assert statuses == ["sent", "failed", "pending", "pending"]
    assert all([(await scope.get(Notification, n)).last_error for n in made[1:3]])  # a reason with each error


async def test_the_invitation_link_leaves_the_outbox_once_sent(synced, smtp_sink):
    region_id, notification_id = await _bare("zuid-limburg", "nieuw@zuid-limburg.example", "invitation:x",
                                             "uitnodiging", PAYLOADS["uitnodiging"])  # fmt: skip
    assert await deliver(region_id, notification_id, transports(smtp_sink.url), FrozenClock(NOW)) == "sent"
    assert "https://trede.example/uitnodiging/abc" in smtp_sink.messages[0].get_body(("plain",)).get_content()
    row = await RegionScope(region_id).get(Notification, notification_id)
    assert row.payload["link"] == "" and row.payload["organisatie"] == "Jeugdhulp Zuid-Limburg"
