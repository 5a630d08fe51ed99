"""Verdicts on evidence delivered for an escalation (issue 18 point 4): the provider registers a VOG in its register
for an escalation that asks for evidence, which meets the term; the team rejects it from the escalation page (the
verdict is on both timelines, mailed to the provider, and reopens the term counted from the verdict), then accepts it
on the provider's evidence page after all (the term is met again). A term of an earlier step is never reopened."""

from __future__ import annotations

from datetime import timedelta

from apps.audit.tables import AuditEntry
from apps.escalations import services
from apps.escalations.context import load_context
from apps.escalations.deadlines import local_date
from apps.escalations.tables import Deadline, Escalation
from apps.evidence.tables import EvidenceDelivery, EvidenceItem, EvidenceReview
from apps.ladders import services as ladder_services
from apps.ladders.deadlines import due_date_for
from apps.ladders.schema import LadderSpec
from apps.notifications.tables import Notification
from core.actor import SYSTEM, Actor
from core.clock import FrozenClock, system_clock
from tests.accounts.support import app_client, login
from tests.browser_support import NuChecker
from tests.portal.support import PDF
from tests.workspace.support import ZL, events, field_error, post_form, provider, zl_scope

HERSTEL = {
    "key": "herstelbewijs", "name": "Herstel met bewijs", "order": "linear",
    "categories": [{"key": "vog", "title": "VOG ontbreekt", "start_step": "bewijs_gevraagd"}],
    "steps": [
        {"key": "bewijs_gevraagd", "title": "Bewijs gevraagd", "next": ["beoordelen", "afgesloten"],
         "on_enter": [{"action": "demand_document", "document": "bewijsstuk", "term": "bewijs_binnen"}],
         "terms": [{"key": "bewijs_binnen", "term": "2 weken", "title": "Bewijs binnen?",
                    "met_by": "document:bewijsstuk"}]},
        {"key": "beoordelen", "title": "Herstel beoordelen", "next": ["afgesloten"]},
        {"key": "afgesloten", "title": "Afgesloten", "final": True, "outcome": "hersteld"},
    ],
}  # fmt: skip


async def _escalation(start) -> tuple[Escalation, object]:
    """De Vlinder's escalation on a ladder whose first step wants evidence within two weeks, opened ``start``."""
    scope = await zl_scope()
    await ladder_services.publish(scope, LadderSpec.model_validate(HERSTEL), note="test")
    vlinder = await provider("90000001")
    escalation = await services.open_escalation(
        scope, provider=vlinder, ladder_key="herstelbewijs", category="vog", summary="VOG's ontbreken.",
        motivation="Signaal van de toegang.", actor=SYSTEM, clock=FrozenClock(start),
    )  # fmt: skip
    return escalation, vlinder


async def _deliver(http, escalation_id, person: str = "Anna de Boer"):
    return await http.post("/portaal/bewijs/nieuw", data={
        "_csrf_token": http.cookies.get("csrftoken"), "soort": "vog_medewerker", "persoon": person, "nummer": "",
        "datum": (system_clock.today() - timedelta(days=30)).isoformat(), "escalatie": str(escalation_id),
    }, files={"bestand": ("vog.pdf", PDF, "application/pdf")})  # fmt: skip


async def _term(escalation) -> Deadline:
    return await (await zl_scope()).objects(Deadline).where(Deadline.escalation == escalation.id).first()


async def test_evidence_delivered_for_a_term_is_judged_on_the_escalation(world, oidc_settings):
    start = system_clock.now() - timedelta(days=10)
    escalation, vlinder = await _escalation(start)
    async with app_client(oidc_settings) as vera:
        await login(vera, "vlinder-medewerker", "/portaal")
        page = await vera.get(f"/portaal/escalaties/{escalation.id}")
        assert f'href="/portaal/bewijs?escalatie={escalation.id}#nieuw"' in page.text
        form = await vera.get(f"/portaal/bewijs?escalatie={escalation.id}")
        assert f'<option value="{escalation.id}" selected>{escalation.reference}' in form.text
        assert "(vraagt om bewijs)" in form.text
        delivered = await _deliver(vera, escalation.id)
        assert delivered.status_code == 303, delivered.text[-800:]
        register = await vera.get("/portaal/bewijs")
        assert "aangeleverd voor de escalatie" in register.text and "termijn gehaald" in register.text
    item = await EvidenceItem.objects().where(EvidenceItem.person == "Anna de Boer").first()
    term = await _term(escalation)
    assert term.status == "met"
    [arrived] = await events(escalation.id, "bewijs_aangeleverd")
    assert arrived.visibility == "shared" and arrived.payload["naam"] == "VOG medewerker van Anna de Boer"
    scope = await zl_scope()
    told = await scope.objects(Notification).where(Notification.template == "document_ontvangen")
    assert {n.payload["soort"] for n in told if n.payload.get("escalation_id") == str(escalation.id)} == {
        "bewijsstuk (VOG medewerker van Anna de Boer)"}  # the team's mailbox and its people under the bell

    url = f"{ZL}/escalaties/{escalation.id}"
    reason = "De VOG is niet voor de functie van begeleider afgegeven."
    async with app_client(oidc_settings) as ilse:
        await login(ilse, "zl-inkoop", url)
        page = await ilse.get(url)
        assert "Bewijs voor deze escalatie" in page.text and f'id="bewijs-{item.id}"' in page.text
        empty = {"bewijs": str(item.id), "oordeel": "afgewezen", "reden": " "}
        refused = await post_form(ilse, f"{url}/bewijs-beoordeling", empty)
        assert refused.status_code == 422
        assert "Geef een reden" in field_error(refused.text, f"bewijs-{item.id}-reden")
        htmx = await post_form(ilse, f"{url}/bewijs-beoordeling", {**empty, "reden": ""}, htmx=True)
        assert htmx.status_code == 200 and htmx.headers["HX-Retarget"] == f"#bewijs-{item.id}"
        assert "<html" not in htmx.text and "Geef een reden" in htmx.text
        verdict_at = start + timedelta(days=8)
        ilse.app.state.clock = FrozenClock(verdict_at)
        answer = await post_form(ilse, f"{url}/bewijs-beoordeling",
                                 {"bewijs": str(item.id), "oordeel": "afgewezen", "reden": reason})  # fmt: skip
        assert answer.status_code == 303 and answer.headers["location"] == f"{url}?melding=bewijs_beoordeeld#melding"
        shown = await ilse.get(answer.headers["location"])
        assert "Uw oordeel over het bewijs staat in het bewijsregister en op de tijdlijn" in shown.text
        assert "Oordeel: <strong>Afgewezen</strong>" in shown.text and "Termijn heropend" in shown.text
        valid = NuChecker()  # the pages with the new parts are valid HTML (the browser tests do not reach them)
        valid.add(shown.text, "escalatiepagina met bewijs")
        valid.add(refused.text, "escalatiepagina met fout bij het bewijs")

    reopened = await _term(escalation)
    calendar = (await load_context(scope, escalation.id, system_clock)).calendar
    assert (reopened.status, reopened.met_at) == ("open", None)
    assert local_date(reopened.due_at) == due_date_for(verdict_at, "2 weken", calendar).due_date
    assert any(r.startswith("heropend: bewijs afgewezen op ") for r in reopened.reasons)
    [verdict] = await events(escalation.id, "bewijs_beoordeeld")
    assert verdict.motivation == reason and [t["termijn"] for t in verdict.payload["termijnen_heropend"]] == [
        "bewijs_binnen"]  # fmt: skip
    [mail] = await scope.objects(Notification).where(
        (Notification.template == "bewijs_beoordeeld") & (Notification.recipient == f"provider:{vlinder.id}")
    )  # fmt: skip
    assert mail.payload["reden"] == reason and mail.payload["oordeel_tekst"] == "Afgewezen"
    assert mail.payload["nieuwe_vervaldatum"] and mail.payload["pad"] == f"/portaal/escalaties/{escalation.id}"
    [review] = await scope.objects(EvidenceReview).where(EvidenceReview.evidence == item.id)
    assert review.verdict == "afgewezen" and review.reason == reason  # the register has the same verdict
    actions = {row["action"] for row in await scope.select(AuditEntry, AuditEntry.action)}
    assert {"evidence.deliver", "evidence.reject", "evidence.verdict"} <= actions

    async with app_client(oidc_settings) as vera:
        await login(vera, "vlinder-medewerker", "/portaal")
        portal = await vera.get(f"/portaal/escalaties/{escalation.id}")
        assert "Bewijs beoordeeld door de regio" in portal.text and reason in portal.text
        assert "De termijn loopt weer" in portal.text
        valid.add(portal.text, "portaal: escalatie")
        valid.add((await vera.get(f"/portaal/bewijs?escalatie={escalation.id}")).text, "portaal: bewijsregister")

    # On the provider's evidence page (the region's navigation, the escalation linked) the team accepts after all.
    evidence_page = f"{ZL}/aanbieders/{vlinder.id}/bewijs"
    async with app_client(oidc_settings) as ilse:
        await login(ilse, "zl-inkoop", evidence_page)
        page = await ilse.get(evidence_page)
        assert f'href="{ZL}/escalaties/{escalation.id}">escalatie {escalation.reference}</a>' in page.text
        assert f'href="{ZL}/escalaties"' in page.text  # the region's navigation
        refused = await post_form(ilse, f"{evidence_page}/{item.id}/beoordeling", {"oordeel": "", "reden": "Typfout"})
        assert refused.status_code == 422 and ">Typfout</textarea>" in refused.text  # nothing typed is lost
        accepted = await post_form(ilse, f"{evidence_page}/{item.id}/beoordeling", {"oordeel": "geaccepteerd"})
        assert accepted.status_code == 303
        page = await ilse.get(accepted.headers["location"])
        assert f"Ze staat ook op de tijdlijn van escalatie {escalation.reference}" in page.text
        valid.add(page.text, "bewijs van de aanbieder")
    assert valid.errors() == []
    again = await _term(escalation)
    assert again.status == "met"
    later = await events(escalation.id, "bewijs_beoordeeld")
    assert [e.payload["geaccepteerd"] for e in later] == [False, True]
    assert [t["termijn"] for t in later[-1].payload["termijnen_gehaald"]] == ["bewijs_binnen"]


async def test_a_term_of_an_earlier_step_is_not_reopened(world, oidc_settings):
    escalation, vlinder = await _escalation(system_clock.now() - timedelta(days=3))
    async with app_client(oidc_settings) as vera:
        await login(vera, "vlinder-medewerker", "/portaal")
        assert (await _deliver(vera, escalation.id)).status_code == 303
    scope = await zl_scope()
    lead = Actor(label="Luuk Leider", roles=frozenset({"inkoop_lead"}))
    await services.transition(scope, escalation.id, to_step="beoordelen", motivation="Bewijs is binnen.", actor=lead)
    item = await EvidenceItem.objects().where(EvidenceItem.person == "Anna de Boer").first()
    url = f"{ZL}/escalaties/{escalation.id}"
    async with app_client(oidc_settings) as ilse:
        await login(ilse, "zl-inkoop", url)
        form = {"bewijs": str(item.id), "oordeel": "afgewezen", "reden": "Verlopen VOG."}
        answer = await post_form(ilse, f"{url}/bewijs-beoordeling", form)
        assert answer.status_code == 303
        page = await ilse.get(url)
        assert "De termijn hoorde bij een eerdere stap en loopt niet opnieuw." in page.text
    assert (await _term(escalation)).status == "met"
    [verdict] = await events(escalation.id, "bewijs_beoordeeld")
    assert verdict.payload["termijnen_heropend"] == []
    assert [t["termijn"] for t in verdict.payload["termijnen_eerdere_stap"]] == ["bewijs_binnen"]


async def test_only_the_own_escalation_and_only_the_team(world, oidc_settings):
    escalation, vlinder = await _escalation(system_clock.now())
    samen = await provider("90000002")
    others = await services.open_escalation(
        await zl_scope(), provider=samen, ladder_key="herstelbewijs", category="vog", summary="Andere aanbieder.",
        motivation="Test", actor=SYSTEM,
    )  # fmt: skip
    async with app_client(oidc_settings) as vera:
        await login(vera, "vlinder-medewerker", "/portaal")
        refused = await _deliver(vera, others.id, person="Bert Bakker")
        assert refused.status_code == 422
        assert "Kies een escalatie van uw organisatie" in field_error(refused.text, "escalatie")
        assert 'value="Bert Bakker"' in refused.text  # nothing typed is lost
        assert (await _deliver(vera, escalation.id)).status_code == 303
    assert not await EvidenceItem.exists().where(EvidenceItem.person == "Bert Bakker")  # all or nothing
    assert await EvidenceDelivery.count() == 1
    item = await EvidenceItem.objects().where(EvidenceItem.person == "Anna de Boer").first()
    form = {"bewijs": str(item.id), "oordeel": "afgewezen", "reden": "Niet goed."}
    url = f"{ZL}/escalaties/{escalation.id}"
    async with app_client(oidc_settings) as observer:
        await login(observer, "zl-waarnemer", url)
        page = await observer.get(url)
        assert "Bewijs voor deze escalatie" in page.text and f'id="bewijs-{item.id}"' not in page.text
        assert (await post_form(observer, f"{url}/bewijs-beoordeling", form)).status_code in (403, 404)
    async with app_client(oidc_settings) as ilse:
        await login(ilse, "zl-inkoop", url)
        other_url = f"{ZL}/escalaties/{others.id}/bewijs-beoordeling"  # not delivered for that escalation
        assert (await post_form(ilse, other_url, form)).status_code == 404
    assert await events(escalation.id, "bewijs_beoordeeld") == []
    assert (await _term(escalation)).status == "met"
