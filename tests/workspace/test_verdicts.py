"""Verdicts on a delivered plan van aanpak (issue 18 point 4): the team judges it akkoord, or niet akkoord with a
reason, from the escalation page; the verdict is on both timelines and told to the provider, and niet akkoord
reopens the term the plan had met, counted again from the verdict."""

from __future__ import annotations

import re
from datetime import timedelta

from apps.documents.services import deliver
from apps.documents.uploads import ReceivedFile
from apps.escalations import services
from apps.escalations.context import load_context
from apps.escalations.deadlines import local_date
from apps.escalations.tables import Deadline
from apps.ladders.deadlines import due_date_for
from apps.notifications.tables import Notification
from core.actor import Actor
from core.clock import FrozenClock, system_clock
from core.tenancy import ProviderScope
from tests.accounts.support import app_client, login
from tests.letter_fields import opening
from tests.workspace.support import ZL, events, field_error, post_form, provider, zl_scope


async def _plan_delivered(start=None):
    """De Vlinder's non-safety escalation in Zuid-Limburg (opened ``start``), its plan van aanpak delivered in the
    portal two days later."""
    start = start or system_clock.now()
    scope = await zl_scope()
    vlinder = await provider("90000001")
    escalation = await services.open_escalation(
        scope, provider=vlinder, ladder_key="kwaliteit", category="niet_veiligheid", subcategory="administratief",
        summary="Kwartaalrapportages ontbreken.", motivation="Signaal van de toegang.",
        actor=Actor(label="Demo", is_system=True), clock=FrozenClock(start),
        letter_fields=opening("niet_veiligheid"),
    )  # fmt: skip
    received = ReceivedFile(key="documents/plan-test", size=1200, sha256="a" * 64, content_type="application/pdf",
                            original_filename="plan-van-aanpak.pdf")  # fmt: skip
    delivery = await deliver(await ProviderScope.for_provider(vlinder.id), escalation.id, kind="plan_van_aanpak",
                             received=received, actor=Actor(label="Vera Vlinder", provider_id=vlinder.id),
                             clock=FrozenClock(start + timedelta(days=2)))  # fmt: skip
    [plan] = delivery.met
    return escalation, delivery.document, plan, vlinder


async def _verdict_mails(vlinder) -> list[Notification]:
    scope = await zl_scope()
    return await scope.objects(Notification).where(
        (Notification.template == "document_beoordeeld") & (Notification.recipient == f"provider:{vlinder.id}")
    )


async def test_akkoord_is_on_the_timeline_told_to_the_provider_and_leaves_the_term_met(world, oidc_settings):
    escalation, document, plan, vlinder = await _plan_delivered()
    url = f"{ZL}/escalaties/{escalation.id}"
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", url)
        page = await http.get(url)
        assert f'id="beoordeling-{document.id}"' in page.text and "Beoordelen: plan van aanpak" in page.text
        assert f'href="{ZL}/aanbieders/{vlinder.id}/bewijs"' in page.text  # the evidence review page is linked
        answer = await post_form(http, f"{url}/beoordeling", {"document": str(document.id), "oordeel": "akkoord"})
        assert answer.status_code == 303 and answer.headers["location"] == f"{url}?melding=beoordeeld#melding"
        page = await http.get(answer.headers["location"])
        assert "Uw oordeel over het document staat op de tijdlijn" in page.text
        assert re.search(r"Oordeel: <strong>Akkoord</strong> door [^<]+ op \d+ \w+ \d{4}", page.text)
    [verdict] = await events(escalation.id, "document_beoordeeld")
    assert verdict.visibility == "shared" and verdict.payload["oordeel"] == "akkoord"
    assert verdict.payload["termijnen_heropend"] == []
    scope = await zl_scope()
    assert (await scope.get(Deadline, plan.id)).status == "met"
    [mail] = await _verdict_mails(vlinder)
    assert mail.payload["oordeel_tekst"] == "Akkoord" and mail.payload["pad"] == f"/portaal/escalaties/{escalation.id}"


async def test_niet_akkoord_needs_a_reason_shown_next_to_the_field(world, oidc_settings):
    escalation, document, plan, vlinder = await _plan_delivered()
    url = f"{ZL}/escalaties/{escalation.id}"
    form = {"document": str(document.id), "oordeel": "niet_akkoord", "reden": "  "}
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", url)
        refused = await post_form(http, f"{url}/beoordeling", form)
        assert refused.status_code == 422
        assert "Geef een reden" in field_error(refused.text, f"beoordeling-{document.id}-reden")
        assert f'id="beoordeling-{document.id}" open' in refused.text
        htmx = await post_form(http, f"{url}/beoordeling", form, htmx=True)
        assert htmx.status_code == 200 and htmx.headers["HX-Retarget"] == f"#beoordeling-{document.id}"
        assert "<html" not in htmx.text and "Geef een reden" in htmx.text
        nothing = await post_form(http, f"{url}/beoordeling", {"document": str(document.id)})
        assert nothing.status_code == 422
        assert "Kies akkoord of niet akkoord" in field_error(nothing.text, f"beoordeling-{document.id}-oordeel")
    assert await events(escalation.id, "document_beoordeeld") == []
    assert (await (await zl_scope()).get(Deadline, plan.id)).status == "met"
    assert await _verdict_mails(vlinder) == []


async def test_niet_akkoord_reopens_the_term_and_the_provider_sees_it(world, oidc_settings):
    start = system_clock.now() - timedelta(days=10)
    escalation, document, plan, vlinder = await _plan_delivered(start)
    url = f"{ZL}/escalaties/{escalation.id}"
    reason = "De maatregelen per rapportage ontbreken; geef per kwartaal aan wat u doet."
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", url)
        verdict_at = start + timedelta(days=8)
        http.app.state.clock = FrozenClock(verdict_at)
        answer = await post_form(http, f"{url}/beoordeling",
                                 {"document": str(document.id), "oordeel": "niet_akkoord", "reden": reason},
                                 htmx=True)  # fmt: skip
        assert answer.status_code == 200 and "Termijn heropend" in answer.text and "niet akkoord" in answer.text
    scope = await zl_scope()
    reopened = await scope.get(Deadline, plan.id)
    calendar = (await load_context(scope, escalation.id, system_clock)).calendar
    expected = due_date_for(verdict_at, plan.term, calendar)  # counted again from the verdict: "2 weken"
    assert (reopened.status, reopened.met_at, reopened.ended_at) == ("open", None, None)
    assert local_date(reopened.due_at) == expected.due_date
    assert local_date(reopened.due_at) > local_date(plan.due_at)  # not the first term's end: 8 days later
    assert any(r.startswith("heropend: document niet akkoord op ") for r in reopened.reasons)
    [verdict] = await events(escalation.id, "document_beoordeeld")
    assert verdict.motivation == reason and [t["termijn"] for t in verdict.payload["termijnen_heropend"]] == [plan.key]
    [mail] = await _verdict_mails(vlinder)
    assert mail.payload["reden"] == reason and mail.payload["oordeel_tekst"] == "Niet akkoord"
    assert mail.payload["nieuwe_vervaldatum"]
    async with app_client(oidc_settings) as http:
        await login(http, "vlinder-medewerker", "/portaal")
        portal = await http.get(f"/portaal/escalaties/{escalation.id}")
        assert portal.status_code == 200
        assert "Document beoordeeld door de regio" in portal.text and reason in portal.text
        assert "Termijn heropend" in portal.text
    # The provider delivers again: the reopened term is met once more.
    again = ReceivedFile(key="documents/plan-test-2", size=1300, sha256="b" * 64, content_type="application/pdf",
                         original_filename="plan-van-aanpak-2.pdf")  # fmt: skip
    delivery = await deliver(await ProviderScope.for_provider(vlinder.id), escalation.id, kind="plan_van_aanpak",
                             received=again, actor=Actor(label="Vera Vlinder", provider_id=vlinder.id))  # fmt: skip
    assert [d.id for d in delivery.met] == [plan.id]


async def test_observer_and_another_region_cannot_judge(world, oidc_settings):
    escalation, document, plan, vlinder = await _plan_delivered()
    url = f"{ZL}/escalaties/{escalation.id}"
    form = {"document": str(document.id), "oordeel": "niet_akkoord", "reden": "Niet goed."}
    async with app_client(oidc_settings) as http:
        await login(http, "zl-waarnemer", url)
        page = await http.get(url)
        assert page.status_code == 200 and "plan-van-aanpak.pdf" in page.text
        assert f'id="beoordeling-{document.id}"' not in page.text
        assert (await post_form(http, f"{url}/beoordeling", form)).status_code in (403, 404)
    async with app_client(oidc_settings) as http:
        await login(http, "lek-inkoop", "/regio/lekstroom")
        assert (await post_form(http, f"{url}/beoordeling", form)).status_code in (403, 404)
        # nor through its own region's path: the escalation is not Lekstroom's
        other = f"/regio/lekstroom/escalaties/{escalation.id}/beoordeling"
        assert (await post_form(http, other, form)).status_code == 404
    assert await events(escalation.id, "document_beoordeeld") == []
    assert (await (await zl_scope()).get(Deadline, plan.id)).status == "met"


async def test_the_evidence_page_has_the_region_navigation(world, oidc_settings):
    vlinder = await provider("90000001")
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", ZL)
        page = await http.get(f"{ZL}/aanbieders/{vlinder.id}/bewijs")
        assert page.status_code == 200
        assert 'aria-label="Werkruimte Jeugdhulp Zuid-Limburg"' in page.text or 'class="trede-region-nav"' in page.text
        assert f'href="{ZL}/escalaties"' in page.text and "Kruimelpad" in page.text


async def test_niet_akkoord_on_a_plan_a_newer_one_replaced_reopens_nothing(world, oidc_settings):
    """The provider sent a second plan before the team judged the first: niet akkoord on the first leaves the term
    met (the second stands for it, and the timeline says so); niet akkoord on the second reopens it."""
    start = system_clock.now() - timedelta(days=10)
    escalation, first, plan, vlinder = await _plan_delivered(start)
    newer = ReceivedFile(key="documents/plan-test-newer", size=1400, sha256="c" * 64, content_type="application/pdf",
                         original_filename="plan-van-aanpak-v2.pdf")  # fmt: skip
    second = await deliver(await ProviderScope.for_provider(vlinder.id), escalation.id, kind="plan_van_aanpak",
                           received=newer, actor=Actor(label="Vera Vlinder", provider_id=vlinder.id),
                           clock=FrozenClock(start + timedelta(days=3)))  # fmt: skip
    assert second.met == []  # the term was met by the first
    url = f"{ZL}/escalaties/{escalation.id}"
    async with app_client(oidc_settings) as http:
        await login(http, "zl-inkoop", url)
        answer = await post_form(http, f"{url}/beoordeling", {"document": str(first.id), "oordeel": "niet_akkoord",
                                                             "reden": "Verouderd."})  # fmt: skip
        assert answer.status_code == 303
        page = await http.get(url)
        assert "Er is sindsdien een nieuwere versie aangeleverd; de termijn blijft daarmee gehaald." in page.text
        scope = await zl_scope()
        assert (await scope.get(Deadline, plan.id)).status == "met"
        answer = await post_form(http, f"{url}/beoordeling", {"document": str(second.document.id),
                                                             "oordeel": "niet_akkoord", "reden": "Ook onvolledig."})
        assert answer.status_code == 303
    assert (await scope.get(Deadline, plan.id)).status == "open"
    on_first, on_second = sorted(await events(escalation.id, "document_beoordeeld"), key=lambda e: e.sequence)
    assert on_first.payload["termijnen_heropend"] == [] and on_first.payload["nieuwer_document"] is True
    assert [t["termijn"] for t in on_second.payload["termijnen_heropend"]] == [plan.key]
