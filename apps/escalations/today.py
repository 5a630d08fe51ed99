"""What needs a person of the team today, on the region's home page (issue 18 point 1): the terms that ran out or
run out today, the ladder's proposals a person must decide, and the letters whose receipt is not confirmed after the
working days to acknowledge. The terms come from the dashboard's lists (no query of their own); the proposals and
letters are one short query each, the first few by age, next to the counts the home page already reads.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from apps.escalations.letter_receipts import unconfirmed_query
from apps.escalations.tables import StepProposal
from apps.escalations.workspace import Here
from core.formatting import local_day, nl_date

TODAY_LIST = 5  # per part: the first few; the counts are complete and each part links to its full list


def due_today(dashboard: dict[str, Any], today: date) -> list[dict]:
    """The overdue terms (oldest first) and then those due today, from the dashboard's lists."""
    overdue = [{**row, "overdue": True} for row in dashboard["overdue"]["rows"]]
    today_rows = [{**row, "overdue": False} for row in dashboard["due_this_week"]["rows"]
                  if local_day(row["due_iso"]) == today]  # fmt: skip
    return [*overdue, *today_rows]


async def needs_me_today(h: Here, dashboard: dict[str, Any], counts: dict[str, int]) -> dict[str, Any]:
    now = h.clock.now()
    terms = due_today(dashboard, local_day(now))
    proposals = await h.scope.select(
        StepProposal, StepProposal.escalation, StepProposal.step_title, StepProposal.proposed_at,
        StepProposal.escalation.reference.as_alias("reference"),
        StepProposal.escalation.provider.name.as_alias("provider"),
    ).where(StepProposal.status == "open").order_by(StepProposal.proposed_at).limit(TODAY_LIST)  # fmt: skip
    letters = await unconfirmed_query(h.scope, now, TODAY_LIST) if counts.get("ontvangst_open") else []
    return {
        "terms": terms[:TODAY_LIST],
        "overdue_total": dashboard["overdue"]["total"],
        "today_total": len([t for t in terms if not t["overdue"]]),
        # every listed term of this week falls today and the week has more: today's count is a lower bound
        "today_more": bool(dashboard["due_this_week"]["more"]) and all(
            local_day(row["due_iso"]) == local_day(now) for row in dashboard["due_this_week"]["rows"]),
        "proposals": [{**p, "since": nl_date(p["proposed_at"]),
                       "url": f"{h.base()}/escalaties/{p['escalation']}#te-beoordelen"} for p in proposals],
        "proposals_total": counts.get("te_beoordelen", 0),
        "letters": [{**x, "sent_nl": nl_date(x["sent_at"]), "url": f"{h.base()}/escalaties/{x['escalation']}#brieven"}
                    for x in letters],
        "letters_total": counts.get("ontvangst_open", 0),
    }  # fmt: skip
