"""How a formal letter goes to the provider and when it is expected to reach them (BW 3:37 lid 3: a declaration works
from its receipt). A leaf below the deadlines of a term a letter sets (``deadlines``), the receipts
(``letter_receipts``) and the letters' texts (``letters``).

When it is expected to arrive:

- through the portal with an e-mail: the moment it is sent (it is in the provider's portal and mailbox at once);
- by registered post: the next working day after posting, in the region's calendar (the start of that day);
- by hand: the moment it is handed over, which is the day it is issued unless the team records a later day.

A recorded receipt later than expected (the team's registered-mail receipt or hand-over date, or the provider's
acknowledgement) moves a term counted from the letter on; an earlier one never shortens it. A letter through the
portal reached the provider when it was sent: a later click to acknowledge proves the receipt, it does not delay it.
"""

from __future__ import annotations

from datetime import datetime, time

from apps.escalations.context import EscalationError
from apps.ladders.calendar import AMSTERDAM, DutchCalendar

PORTAL = "portaal"
REGISTERED = "aangetekend"
HAND = "hand"

# How a letter goes (the decider chooses it when sending; the portal and the e-mail notice go in every case).
METHODS = {
    PORTAL: "via het portaal, met een bericht per e-mail",
    REGISTERED: "aangetekend per post (en via het portaal)",
    HAND: "persoonlijk afgegeven (en via het portaal)",
}
# The same, short, in a sentence about a term ("gerekend vanaf de ontvangst van de brief, aangetekend verstuurd").
SENT_NL = {PORTAL: "via het portaal verstuurd", REGISTERED: "aangetekend verstuurd", HAND: "persoonlijk afgegeven"}
# Ways whose receipt the team records (or the provider acknowledges) as a day of its own: until then the receipt is
# expected, and a later recorded day moves a term counted from the letter on.
RECORDED_WAYS = frozenset({REGISTERED, HAND})


def method_or_default(method: str | None) -> str:
    """The way of sending the decider chose; an empty choice is the default (portal and e-mail)."""
    method = (method or "").strip() or PORTAL
    if method not in METHODS:
        raise EscalationError("Kies hoe de brief wordt verstuurd.")
    return method


def expected_receipt(method: str, sent_at: datetime, calendar: DutchCalendar) -> datetime:
    """When a letter sent at ``sent_at`` is expected to reach the provider (see the module's words)."""
    if method == REGISTERED:
        day = calendar.add_working_days(sent_at.astimezone(AMSTERDAM).date(), 1)
        return datetime.combine(day, time(0), AMSTERDAM)
    return sent_at


def counted_from(method: str, expected: datetime, received_at: datetime | None) -> datetime:
    """The moment a term the letter sets counts from: the recorded receipt when it is later than expected (never
    earlier: a term already stated is not shortened), else the expected receipt. A letter through the portal was
    received when it was sent."""
    if method in RECORDED_WAYS and received_at is not None and received_at > expected:
        return received_at
    return expected
