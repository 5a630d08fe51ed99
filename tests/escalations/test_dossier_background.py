"""Issue 16 point 5: the dossier is built in the background. "Dossier maken" answers at once; the worker builds the
PDF/A, stores it as a document of the escalation (never the provider's), audits the export and puts a notice with
the link under the requester's bell; the page shows that it is being made and then the download. Without
JavaScript and with htmx; the old dossier.pdf address downloads the newest one."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

import anyio.to_thread
import pytest

from apps.accounts.tables import User
from apps.audit.tables import AuditEntry
from apps.documents.tables import Document, DossierRequest
from apps.escalations import dossier
from apps.escalations.dossier_requests import request_dossier
from apps.notifications.tables import Notification
from core.actor import Actor
from core.broker import configure_broker
from core.clock import AMSTERDAM, FrozenClock
from tests.accounts.support import app_client, login
from tests.records import pdfa_facts, queued, run_dossier_builds
from tests.workspace.support import ZL, escalation_of, post_form, zl_scope

ON_8_DECEMBER = datetime(2026, 12, 8, 10, 0, tzinfo=AMSTERDAM)


@pytest.fixture
def broker():
    """The app's in-process broker (``stub://``), empty: what the requests hand to the worker stays visible."""
    broker = configure_broker("stub://")  # what the app configures too (the test settings' BROKER_URL)
    broker.flush_all()
    yield broker
    broker.flush_all()


async def dossiers_of(escalation_id) -> list[Document]:
    scope = await zl_scope()
    return await scope.objects(Document).where((Document.escalation == escalation_id) & (Document.kind == "dossier"))


async def requests_of(escalation_id) -> list[DossierRequest]:
    return await (await zl_scope()).objects(DossierRequest).where(DossierRequest.escalation == escalation_id)


async def test_asking_answers_at_once_and_the_worker_stores_notifies_and_audits(world, oidc_settings, broker):
    escalation = await escalation_of("90000001")
    url = f"{ZL}/escalaties/{escalation.id}"
    clock = FrozenClock(ON_8_DECEMBER)
    async with app_client(oidc_settings) as http:
        http.app.state.clock = clock
        await login(http, "zl-lead", url)
        page = await http.get(url)
        assert f'action="{url}/dossier"' in page.text and ">Dossier maken</button>" in page.text
        assert 'id="dossier-download"' not in page.text  # nothing built yet
        early = await http.get(f"{url}/dossier.pdf")  # the old address: leads to the block, builds nothing
        assert early.status_code == 303 and early.headers["location"] == f"{url}#dossier"

        asked = await post_form(http, f"{url}/dossier", {})
        assert asked.status_code == 303 and asked.headers["location"] == f"{url}?melding=dossier#dossier"
        assert await dossiers_of(escalation.id) == []  # the request did not build it
        [request] = await requests_of(escalation.id)
        assert request.status == "requested" and request.requested_by_label == "Luuk Leider"
        assert queued(broker, "build_dossier") == [(str(request.region), str(request.id))]  # after the commit
        again = await post_form(http, f"{url}/dossier", {})  # a double click: the same request
        assert again.status_code == 303 and len(await requests_of(escalation.id)) == 1
        assert len(queued(broker, "build_dossier")) == 1

        page = await http.get(asked.headers["location"])
        assert "Het dossier wordt gemaakt. U krijgt een melding als het klaar is" in page.text
        assert "Aangevraagd: het dossier wordt zo gemaakt." in page.text and "door Luuk Leider" in page.text
        assert f'data-hx-get="{url}/dossier" data-hx-trigger="every 5s"' in page.text  # htmx asks until it is ready
        assert 'id="dossier-maken"' not in page.text  # no second request while one is waiting

        [document] = await run_dossier_builds(broker, clock)  # the worker takes the message
        assert [d.id for d in await run_dossier_builds(broker, clock)] == []  # nothing left: built once
        [stored] = await dossiers_of(escalation.id)
        assert stored.id == document.id and stored.provider is None  # the portal never lists it: internal notes
        assert re.fullmatch(r"dossiers/[0-9a-f]{32}", stored.object_key)  # generated, not from a name
        assert stored.original_filename == f"dossier-{escalation.reference}-2026-12-08.pdf"
        data = b"".join(http.app.state.storage.open(stored.object_key))
        assert hashlib.sha256(data).hexdigest() == stored.sha256 and stored.size == len(data)
        [request] = await requests_of(escalation.id)
        assert request.status == "ready" and request.document == stored.id

        page = await http.get(url)
        assert f'href="{ZL}/documenten/{stored.id}" download id="dossier-download"' in page.text
        assert stored.sha256 in page.text and 'data-hx-trigger="every 5s"' not in page.text
        assert ">Nieuw dossier maken</button>" in page.text
        download = await http.get(f"{url}/dossier.pdf")  # the old address: the newest built dossier
        assert download.status_code == 200 and download.content == data
        assert download.headers["content-disposition"].startswith("attachment;")

        notices = await http.get("/meldingen")  # the requester's notice, with the link to the dossier
        assert f"Dossier {escalation.reference} is klaar om te downloaden" in notices.text
        [notice] = await (await zl_scope()).objects(Notification).where(Notification.template == "dossier_klaar")
        assert notice.channel == "inapp" and notice.recipient_user == request.requested_by
        opened = await http.get(f"/meldingen/{notice.id}")
        assert opened.status_code == 303 and opened.headers["location"] == url

    facts = pdfa_facts(data)  # an archived record: PDF/A-3a with its metadata
    assert (facts["part"], facts["conformance"]) == ("3", "A") and facts["tagged"] and facts["marked"]
    assert facts["title"] == f"Dossier {escalation.reference}: Jeugdzorg De Vlinder B.V."
    assert facts["language"] == ["nl"] and facts["lang"] == "nl" and facts["creator"] == ["Jeugdhulp Zuid-Limburg"]
    assert facts["created"].replace(tzinfo=None) == datetime(2026, 12, 8, 9, 0)  # 10:00 in Amsterdam, in UTC
    [(subtype, has_profile, condition)] = facts["intents"]
    assert subtype == "/GTS_PDFA1" and has_profile and "sRGB" in condition

    [entry] = await AuditEntry.objects().where(AuditEntry.action == "dossier.export").output(load_json=True)
    assert entry.target_id == str(escalation.id) and entry.actor_label == "Luuk Leider"
    assert entry.detail["sha256"] == stored.sha256 and entry.detail["document_id"] == str(stored.id)


async def test_with_htmx_the_block_swaps_itself_and_asks_until_the_dossier_is_ready(world, oidc_settings, broker):
    escalation = await escalation_of("90000001")
    url = f"{ZL}/escalaties/{escalation.id}"
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", url)
        asked = await post_form(http, f"{url}/dossier", {}, htmx=True)
        assert asked.status_code == 200 and asked.text.lstrip().startswith('<section id="dossier"')
        assert "Aangevraagd: het dossier wordt zo gemaakt." in asked.text and 'data-hx-trigger="every 5s"' in asked.text
        waiting = await http.get(f"{url}/dossier", headers={"HX-Request": "true"})
        assert "Aangevraagd" in waiting.text
        await run_dossier_builds(broker, FrozenClock(ON_8_DECEMBER))
        ready = await http.get(f"{url}/dossier", headers={"HX-Request": "true"})
        [stored] = await dossiers_of(escalation.id)
        assert f"/documenten/{stored.id}" in ready.text and "every 5s" not in ready.text  # polling stops
        plain = await http.get(f"{url}/dossier")  # not htmx: the page at the block
        assert plain.status_code == 303 and plain.headers["location"] == f"{url}#dossier"


async def test_readers_may_ask_others_get_404_and_the_provider_never_sees_the_dossier(world, oidc_settings, broker):
    escalation = await escalation_of("90000001")
    url = f"{ZL}/escalaties/{escalation.id}"
    async with app_client(oidc_settings) as http:
        await login(http, "zl-waarnemer", url)  # the observer reads, so may export
        without_token = await http.post(f"{url}/dossier", data={})
        assert without_token.status_code == 403 and await requests_of(escalation.id) == []  # CSRF
        assert (await post_form(http, f"{url}/dossier", {})).status_code == 303
        [document] = await run_dossier_builds(broker, FrozenClock(ON_8_DECEMBER))
    for account in ("lek-inkoop", "zl-toegang"):  # another region's team; a municipality without read rights
        async with app_client(oidc_settings) as http:
            await login(http, account)
            assert (await post_form(http, f"{url}/dossier", {})).status_code == 404
            assert (await http.get(f"{url}/dossier.pdf")).status_code == 404
            own = "/regio/lekstroom" if account == "lek-inkoop" else ZL
            assert (await post_form(http, f"{own}/escalaties/{escalation.id}/dossier", {})).status_code == 404
    assert len(await requests_of(escalation.id)) == 1  # the refused requests asked for nothing
    async with app_client(oidc_settings) as http:
        await login(http, "vlinder-beheerder", "/portaal")
        assert (await http.get(f"/portaal/documenten/{document.id}")).status_code == 404
        portal_page = await http.get(f"/portaal/escalaties/{escalation.id}")
        assert portal_page.status_code == 200 and document.original_filename not in portal_page.text


async def test_a_failed_build_says_so_leaves_nothing_behind_and_may_be_asked_again(
    world, oidc_settings, broker, monkeypatch
):
    escalation = await escalation_of("90000001")
    url = f"{ZL}/escalaties/{escalation.id}"

    async def broken(_dossier):
        raise RuntimeError("pango is away")

    async with app_client(oidc_settings) as http:
        storage = http.app.state.storage
        keys_before = set(storage.list_keys())
        await login(http, "zl-lead", url)
        await post_form(http, f"{url}/dossier", {})
        monkeypatch.setattr(dossier, "dossier_pdf", broken)
        assert await run_dossier_builds(broker, FrozenClock(ON_8_DECEMBER)) == [None]
        monkeypatch.undo()
        [request] = await requests_of(escalation.id)
        assert request.status == "failed" and await dossiers_of(escalation.id) == []
        assert set(storage.list_keys()) == keys_before
        page = await http.get(url)
        assert "Het dossier kon niet worden gemaakt. Vraag het opnieuw aan" in page.text
        assert ">Dossier maken</button>" in page.text
        await post_form(http, f"{url}/dossier", {})  # asked again: a new request, and this time it works
        assert len(await requests_of(escalation.id)) == 2
        [document] = await run_dossier_builds(broker, FrozenClock(ON_8_DECEMBER))
        assert document is not None and len(await dossiers_of(escalation.id)) == 1
    assert await AuditEntry.count().where(AuditEntry.action == "dossier.export") == 1


async def test_the_sweep_hands_on_a_lost_request_and_a_build_that_was_cut_off(world, oidc_settings, broker):
    # why: the actors' module binds to the broker set when it is imported (by apps.wiring, once the app is made)
    from apps.escalations.dossier_jobs import hand_on_stale_dossier_requests

    escalation = await escalation_of("90000001")
    url = f"{ZL}/escalaties/{escalation.id}"
    async with app_client(oidc_settings) as http:
        await login(http, "zl-lead", url)
        await post_form(http, f"{url}/dossier", {})
    broker.flush_all()  # the in-process broker restarted: the message is gone
    [request] = await requests_of(escalation.id)
    soon = FrozenClock(request.requested_at + timedelta(seconds=30))
    assert await hand_on_stale_dossier_requests(soon) == {}  # a fresh request waits for its own message
    later = FrozenClock(request.requested_at + timedelta(minutes=3))
    assert await hand_on_stale_dossier_requests(later) == {"dossiers_handed_on": 1}
    assert queued(broker, "build_dossier") == [(str(request.region), str(request.id))]
    broker.flush_all()

    scope = await zl_scope()  # a worker took it and stopped halfway
    halfway = {DossierRequest.status: "building", DossierRequest.started_at: later.now()}
    await scope.update(DossierRequest, halfway).where(DossierRequest.id == request.id)
    assert await hand_on_stale_dossier_requests(FrozenClock(later.now() + timedelta(minutes=5))) == {}
    cut_off = FrozenClock(later.now() + timedelta(minutes=16))
    assert await hand_on_stale_dossier_requests(cut_off) == {"dossiers_handed_on": 1}
    assert (await scope.get(DossierRequest, request.id)).status == "requested"
    [document] = await run_dossier_builds(broker, cut_off)
    assert document is not None and (await scope.get(DossierRequest, request.id)).status == "ready"


async def test_in_embedded_mode_the_in_process_worker_builds_it(world, oidc_settings, broker):
    """The stub broker's own worker (as ``create_app`` starts it in embedded mode) takes the message."""
    from core.workers import start_worker  # why: only this test runs a real worker

    escalation = await escalation_of("90000001")
    url = f"{ZL}/escalaties/{escalation.id}"
    async with app_client(oidc_settings) as http:
        await login(http, "zl-lead", url)
        assert (await post_form(http, f"{url}/dossier", {})).status_code == 303
        worker = start_worker(broker, threads=1)
        try:
            await anyio.to_thread.run_sync(lambda: broker.join("trede", timeout=120_000))
        finally:
            worker.stop(timeout=10_000)
        [request] = await requests_of(escalation.id)
        assert request.status == "ready"
        download = await http.get(f"{url}/dossier.pdf")
        assert download.status_code == 200 and pdfa_facts(download.content)["part"] == "3"


async def test_who_asked_before_the_build_started_is_served_by_it_who_asked_later_gets_a_fresh_one(
    world, oidc_settings, broker, monkeypatch
):
    escalation = await escalation_of("90000001")
    url = f"{ZL}/escalaties/{escalation.id}"
    clock = FrozenClock(ON_8_DECEMBER)
    for account in ("zl-lead", "zl-inkoop"):  # two people ask before a worker takes either message
        async with app_client(oidc_settings) as http:
            http.app.state.clock = clock
            await login(http, account, url)
            assert (await post_form(http, f"{url}/dossier", {})).status_code == 303
    first, second = queued(broker, "build_dossier")
    assert first != second  # one request each: each is told
    broker.flush_all()

    scope = await zl_scope()
    wim = await User.objects().where(User.name == "Wim Waarnemer").first()
    render = dossier.dossier_pdf

    async def someone_asks_while_it_is_made(made):  # the observer asks a minute after the build started
        observer = Actor(label=wim.name, user_id=wim.id)
        await request_dossier(scope, escalation.id, observer, FrozenClock(ON_8_DECEMBER + timedelta(minutes=1)))
        return await render(made)

    monkeypatch.setattr(dossier, "dossier_pdf", someone_asks_while_it_is_made)
    built = await dossier.build_requested(*first, clock)
    monkeypatch.undo()
    assert await dossier.build_requested(*second, clock) is None  # already served by the first build
    assert [d.id for d in await dossiers_of(escalation.id)] == [built.id]
    served = [r for r in await requests_of(escalation.id) if r.requested_by != wim.id]
    assert {r.status for r in served} == {"ready"} and {r.document for r in served} == {built.id}
    notices = await scope.objects(Notification).where(Notification.template == "dossier_klaar")
    assert sorted(n.recipient_user for n in notices) == sorted(r.requested_by for r in served)

    [late] = [r for r in await requests_of(escalation.id) if r.requested_by == wim.id]
    assert late.status == "requested"  # the events may have changed since the build started: a build of its own
    [again] = await run_dossier_builds(broker, clock)
    assert again is not None and again.id != built.id and len(await dossiers_of(escalation.id)) == 2
    assert (await scope.get(DossierRequest, late.id)).status == "ready"
