"""What the escalation page leads with (issue 18 point 1): the step, who must act, what is due next and when, and
what waits for a person of the team (the ladder's proposals, delivered documents and evidence without a verdict,
letters whose receipt is not confirmed). Pure functions over what ``views.escalation_context`` already read: no
query of their own, so the page costs what it cost before.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from apps.ladders.schema import DOCUMENT_NAMES, LadderSpec, StepSpec, TermSpec
from core.formatting import days_until_nl

# Who acts, as the ladder names the parties (apps.ladders.schema.ACTORS); the provider and the region by name.
ACTOR_NL = {
    "regio": "het team inkoop",
    "aanbieder": "de aanbieder",
    "gemeente": "de gemeente (toegang)",
    "gezin": "het gezin",
    "extern": "een externe partij",
}


def who_acts(actor: str, provider_name: str, region_name: str) -> str:
    """"Jeugdzorg De Vlinder B.V. (de aanbieder)", "het team inkoop van Jeugdhulp Zuid-Limburg"."""
    if actor == "aanbieder" and provider_name:
        return f"{provider_name} (de aanbieder)"
    if actor == "regio" and region_name:
        return f"het team inkoop van {region_name}"
    return ACTOR_NL.get(actor, "het team inkoop")


def term_task(term: TermSpec | None, fallback: str) -> str:
    """What meets the term, in a few words: "plan van aanpak aanleveren", else the term's title without its "?"."""
    if term is not None and term.met_by.startswith("document:"):
        kind = term.met_by.split(":", 1)[1]
        return f"{DOCUMENT_NAMES.get(kind, kind.replace('_', ' '))} aanleveren"
    title = term.title if term is not None and term.title else fallback
    return title.rstrip(" ?")


def find_term(spec: LadderSpec, step: str, key: str) -> TermSpec | None:
    try:
        return next((t for t in spec.step(step).terms if t.key == key), None)
    except KeyError:
        return None


def current_step(spec: LadderSpec, key: str) -> StepSpec | None:
    try:
        return spec.step(key)
    except KeyError:
        return None


def now_summary(
    *, spec: LadderSpec, current: str, closed: bool, deadlines: list[dict], provider_name: str, region_name: str,
    today: date, documents: list[dict], evidence: list[dict], letters: list[dict],
) -> dict[str, Any]:  # fmt: skip
    """The page's first block. ``deadlines``: the page's rows (``views.escalation_context``), each with ``due_day``
    (the Dutch day it falls due), ``task`` and ``responsible``; open ones with a due date come first by due date."""
    step = current_step(spec, current)
    running = [d for d in deadlines if d["status"] == "open" and d["due_day"] is not None]
    next_term = running[0] if running else None
    waiting = [d for d in deadlines if d["status"] == "waiting"]
    suspended = [d for d in deadlines if d["status"] == "suspended"]
    actor = (next_term or {}).get("responsible") or (step.actor if step else "regio")
    return {
        "step_title": step.title if step else current,
        "who": who_acts(actor, provider_name, region_name),
        "next": {
            "task": next_term["task"],
            "who": who_acts(next_term["responsible"] or "aanbieder", provider_name, region_name),
            "due": next_term["due"],
            "due_iso": next_term["due_iso"],
            "when": days_until_nl(next_term["due_day"], today),
            "overdue": next_term["overdue"],
        } if next_term else None,
        "other_terms": len(running) - 1 if running else 0,
        "waiting": [d["due"] for d in waiting],  # "wacht op levering van het plan van aanpak"
        "suspended": [d["title"] for d in suspended],
        # For a person of the team: what waits for their verdict or their check, each linked to its form (opened).
        "to_judge": [
            *({"text": f"{doc['kind'].capitalize()} ({doc['filename']}), aangeleverd {doc['when']}",
               "href": opening(f"beoordeling-{doc['id']}")}
              for doc in documents if doc["judgeable"] and not doc["verdict"]),
            *({"text": f"{item['name']}, aangeleverd {item['when']}", "href": opening(f"bewijs-{item['id']}")}
              for item in evidence if item["judgeable"] and not item["review"]),
        ] if not closed else [],
        "unreceived": [{"text": f"{x['title']}, verstuurd {x['sent_nl']}", "href": opening("brief-ontvangst")}
                       for x in letters if not x["received_at"]] if not closed else [],
    }  # fmt: skip


def opening(form_id: str) -> str:
    """A link on the page that opens the form ``form_id`` (a ``<details>``; the page opens it for ``?open=``)."""
    return f"?open={form_id}#{form_id}"


def actions_first(options: list[dict]) -> list[dict]:
    """The next steps in the order a person weighs them: what the ladder proposed, then what is possible now, then
    what is not possible yet; within each, the ladder's own order."""
    return sorted(options, key=lambda a: (not a["proposal"], not (a["open"] and a["allowed"])))
