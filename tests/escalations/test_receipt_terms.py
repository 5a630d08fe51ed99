"""A term a formal letter sets counts from the letter's receipt (BW 3:37 lid 3 with 6:82; issue 16 point 3): until
the receipt is recorded from the expected receipt for the way of sending (registered post: the next working day), then
from the recorded day when that is later (never shorter); verzuim waits for the term counted so, and a notice by
registered post without a recorded receipt needs the decider's reason why it counts as received."""

from __future__ import annotations

from datetime import date

import pytest

from apps.audit.tables import AuditEntry
from apps.escalations import services
from apps.escalations.context import load_context
from apps.escalations.letter_receipts import acknowledge, record_letter_receipt
from apps.escalations.letter_sending import expected_receipt
from apps.escalations.letters import previews
from apps.escalations.preconditions import ReceiptUnproved, step_options
from apps.escalations.tables import Deadline, LetterDelivery
from apps.ladders.calendar import DutchCalendar
from apps.notifications.messages import render
from apps.providers.tables import Contract
from core.tenancy import ProviderScope
from tests.escalations.conftest import at, due_day, events, notices
from tests.escalations.test_letter_kinds import _opened, _sent_text
from tests.letter_fields import LETTER_FIELDS

TERM = "herstel_na_ingebrekestelling"  # the contract ladder's reasonable term of the ingebrekestelling (4 weken)


def test_registered_post_is_expected_the_next_working_day_of_the_atw_calendar():
    """Posted on Thursday 2 April 2026, before Good Friday, the weekend and Easter Monday: expected on Tuesday 7 April;
    through the portal and by hand at the moment it goes."""
    calendar, sent = DutchCalendar(), at(2026, 4, 2, 15)
    assert expected_receipt("aangetekend", sent, calendar) == at(2026, 4, 7, 0)
    assert expected_receipt("portaal", sent, calendar) == sent == expected_receipt("hand", sent, calendar)


async def _notice(lek, provider, medewerker, clock, sending: str):
    """A contract escalation whose ingebrekestelling went ``sending`` now: (escalation, its term, its letter)."""
    escalation = await _opened(lek, provider, medewerker, clock)
    await services.transition(lek, escalation.id, "ingebrekestelling", actor=medewerker, motivation="Ernstig.",
                              clock=clock, delivery=sending,
                              letter_fields=LETTER_FIELDS["ingebrekestelling"])  # fmt: skip
    term = await lek.objects(Deadline).where((Deadline.escalation == escalation.id) & (Deadline.key == TERM)).first()
    letter = await lek.objects(LetterDelivery).where(
        (LetterDelivery.escalation == escalation.id) & (LetterDelivery.letter == "ingebrekestelling")
    ).first()  # fmt: skip
    return escalation, term, letter


async def _term(lek, deadline) -> Deadline:
    return await lek.get(Deadline, deadline.id)


async def _verzuim(lek, escalation, actor, clock, **kwargs):
    return await services.transition(lek, escalation.id, "verzuim", actor=actor, motivation="Niet hersteld.",
                                     clock=clock, **kwargs)  # fmt: skip


async def test_a_registered_notice_counts_from_its_receipt_and_says_so(scopes, provider, medewerker, clock):
    """Sent the same Monday, 2 March 2026: through the portal the 4 weeks end on Monday 30 March, by registered post
    (expected on Tuesday 3 March) on Tuesday 31 March; each letter states its term in a way that is true for it."""
    lek = scopes["lekstroom"]
    _, portal, _ = await _notice(lek, provider, medewerker, clock, "portaal")
    escalation, registered, letter = await _notice(lek, provider, medewerker, clock, "aangetekend")
    assert due_day(portal) == date(2026, 3, 30) and due_day(registered) == date(2026, 3, 31)
    assert registered.starts == "letter" and registered.letter_delivery == letter.id
    assert registered.reasons == ["gerekend vanaf de verwachte ontvangst van de brief op 3 maart 2026 (aangetekend "
                                  "verstuurd)"]  # fmt: skip
    text = await _sent_text(lek, escalation.id)
    assert ("binnen een redelijke termijn van 4 weken na ontvangst van deze brief. Deze brief komt aangetekend per "
            "post: ontvangt u hem op 3 maart 2026, dan eindigt de termijn op 31 maart 2026. Ontvangt u hem later, dan "
            "eindigt de termijn 4 weken na de dag van ontvangst; wij laten u die datum dan weten.") in text
    # the preview of a registered notice counts the same way before anything goes
    other = await _opened(lek, provider, medewerker, clock)
    [draft] = await previews(lek, other.id, "ingebrekestelling", "Ernstig.", clock, sending="aangetekend")
    assert "ontvangt u hem op 3 maart 2026, dan eindigt de termijn op <strong>31 maart 2026</strong>" in draft.body_html


async def test_a_later_receipt_moves_the_term_on_an_earlier_one_never_shortens_it(
    scopes, provider, provider_user, medewerker, clock
):
    lek = scopes["lekstroom"]
    late, late_term, late_letter = await _notice(lek, provider, medewerker, clock, "aangetekend")
    early, early_term, early_letter = await _notice(lek, provider, medewerker, clock, "aangetekend")
    portal, portal_term, portal_letter = await _notice(lek, provider, medewerker, clock, "portaal")

    # the provider acknowledges the registered letter the day it went, before the post comes: nothing shortens
    await lek.new(Contract, provider=provider.id, reference="LEK-2026-042", valid_from=date(2026, 1, 1)).save()
    mine = await ProviderScope.for_provider(provider.id)
    clock.set(at(2026, 3, 2, 16))
    await acknowledge(mine, early.id, early_letter.id, actor=provider_user, clock=clock)
    assert due_day(await _term(lek, early_term)) == date(2026, 3, 31)
    # through the portal the letter reached the provider when it went: a later click does not delay the term
    clock.set(at(2026, 3, 4, 11))
    await acknowledge(mine, portal.id, portal_letter.id, actor=provider_user, clock=clock)
    assert due_day(await _term(lek, portal_term)) == date(2026, 3, 30)

    # the registered letter's receipt shows Thursday 5 March: 4 weeks from then
    clock.set(at(2026, 3, 6, 9))
    await record_letter_receipt(lek, late.id, late_letter.id, received_on=date(2026, 3, 5), how="aangetekend",
                                actor=medewerker, clock=clock)  # fmt: skip
    moved = await _term(lek, late_term)
    assert due_day(moved) == date(2026, 4, 2) and moved.status == "open"
    assert moved.reasons[-1] == "herberekend vanaf de ontvangst van de brief op 5 maart 2026 (aangetekend verstuurd)"
    *_, received, recounted = await events(lek, late.id)
    assert (received.kind, recounted.kind, recounted.visibility) == ("brief_ontvangen", "termijn_herberekend", "shared")
    assert recounted.payload["oude_vervaldatum"] == "2026-03-31" and recounted.payload["vervaldatum"] == "2026-04-02"
    assert recounted.payload["ontvangen_op"] == "2026-03-05"
    [told] = await notices(lek, recounted.id)
    assert told.recipient == f"provider:{provider.id}" and told.template == "termijn_herberekend"
    mail = render(told.template, {"region_name": "Jeugdhulp Lekstroom", **told.payload})
    assert mail.subject == (f"Nieuwe einddatum: Gebreken verholpen binnen de termijn van de ingebrekestelling "
                            f"uiterlijk 2 april 2026 ({late.reference})")  # fmt: skip
    assert "eindigt daarom op 2 april 2026 in plaats van op 31 maart 2026" in mail.text
    for other in (early, portal):
        assert "termijn_herberekend" not in [e.kind for e in await events(lek, other.id)]


async def test_verzuim_waits_for_the_term_counted_from_receipt(scopes, provider, medewerker, clock):
    """Refused while the term counted from the recorded receipt runs, with until when; a registered notice without a
    recorded receipt whose term passed needs the decider's reason why it counts as received (BW 3:37 lid 3, second
    sentence), which is stored with the decision; a missed term reopens when the receipt proves it still runs."""
    lek = scopes["lekstroom"]
    received, _, received_letter = await _notice(lek, provider, medewerker, clock, "aangetekend")
    silent, silent_term, _ = await _notice(lek, provider, medewerker, clock, "aangetekend")
    missed, missed_term, missed_letter = await _notice(lek, provider, medewerker, clock, "aangetekend")
    clock.set(at(2026, 3, 6, 9))
    await record_letter_receipt(lek, received.id, received_letter.id, received_on=date(2026, 3, 5),
                                how="aangetekend", actor=medewerker, clock=clock)  # fmt: skip

    clock.set(at(2026, 4, 1, 9))  # the terms counted from the expected receipt ended on 31 March
    running = "loopt nog tot en met 2 april 2026, gerekend vanaf de ontvangst van de brief op 5 maart 2026."
    with pytest.raises(services.EscalationError, match=running):
        await _verzuim(lek, received, medewerker, clock)
    options = {o.key: o for o in await step_options(await load_context(lek, received.id, clock))}
    assert not options["verzuim"].open and options["verzuim"].reason.endswith(running)

    options = {o.key: o for o in await step_options(await load_context(lek, silent.id, clock))}
    unreceived = ("De ontvangst van de brief ‘Ingebrekestelling’ (aangetekend verstuurd op 2 maart 2026) is niet "
                  "vastgelegd.")  # fmt: skip
    assert options["verzuim"].open and options["verzuim"].receipt.startswith(unreceived)
    with pytest.raises(ReceiptUnproved, match="motiveer waarom de brief toch als ontvangen geldt"):
        await _verzuim(lek, silent, medewerker, clock)
    assert (await lek.get(Deadline, silent_term.id)).status == "open"  # a refusal leaves no trace
    why = "PostNL meldt dat de aanbieder de aangetekende brief niet heeft afgehaald."
    result = await _verzuim(lek, silent, medewerker, clock, receipt_motivation=why)
    stored = {"tekst": why, "brief": "Ingebrekestelling", "verzending": "aangetekend", "verzonden_op": "2026-03-02"}
    assert result.event.payload["ontvangst"] == stored
    [entry] = [e for e in await lek.objects(AuditEntry).where(AuditEntry.action == "escalation.transition")
               .output(load_json=True) if e.target_id == str(silent.id) and e.detail["naar"] == "verzuim"]  # fmt: skip
    assert entry.detail["ontvangst"] == stored

    # the sweep marked a registered notice's term missed; its receipt, recorded now, shows that it still runs
    assert await services.act_on_missed_deadline(lek, missed_term.id, clock)
    await record_letter_receipt(lek, missed.id, missed_letter.id, received_on=date(2026, 3, 5), how="aangetekend",
                                actor=medewerker, clock=clock)  # fmt: skip
    reopened = await lek.get(Deadline, missed_term.id)
    assert reopened.status == "open" and due_day(reopened) == date(2026, 4, 2) and reopened.ended_at is None
    assert (await events(lek, missed.id))[-1].payload["loopt_weer"] is True

    clock.set(at(2026, 4, 3, 9))  # the term counted from the receipt has passed: verzuim, no reason needed
    await _verzuim(lek, received, medewerker, clock)
    text = await _sent_text(lek, received.id)
    assert ("Bij onze brief van 2 maart 2026 (‘Ingebrekestelling’), die u op 5 maart 2026 heeft ontvangen, hebben wij "
            "u tot en met 2 april 2026 (4 weken) de gelegenheid gegeven") in text
