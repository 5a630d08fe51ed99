"""The triage form, one choice at a time (issue 18 point 2): "raakt het de DVO?", then what to do with the signal,
then the ladder, then only that ladder's categories, then only the fields that apply. ``triage_form`` says which
parts the page shows for what is chosen so far; the page posts back after each choice (htmx swaps the form, without
JavaScript a "Verder" button posts it) and keeps whatever was typed. The decision itself stays in ``signals``.
"""

from __future__ import annotations

from typing import Any

from apps.ladders.schema import LadderSpec

CASE_FIELDS = ("gemeente", "kenmerk", "professionals")
FIELDS = ("raakt_dvo", "besluit", "ladder", "categorie", "samenvatting", "escalatie", "motivering", "gemeente",
          "kenmerk", "professionals")  # fmt: skip


def chosen_ladder(values: dict[str, str], ladders: dict[str, LadderSpec]) -> str:
    """The ladder chosen: the field ``ladder``, else the one a category names ("kwaliteit/veiligheid/..."), else
    the region's only ladder."""
    for key in (values.get("ladder") or "", (values.get("categorie") or "").split("/")[0]):
        if key in ladders:
            return key
    return next(iter(ladders)) if len(ladders) == 1 else ""


def category_groups(spec: LadderSpec) -> list[dict[str, Any]]:
    """The ladder's categories as radio groups: a category with subcategories offers each of them."""
    groups = []
    for category in spec.categories:
        if category.subcategories:
            options = [{"value": f"{spec.key}/{category.key}/{sub}", "title": title}
                       for sub, title in category.subcategories.items()]  # fmt: skip
            groups.append({"title": category.title, "options": options})
        else:
            groups.append({"title": "", "options": [{"value": f"{spec.key}/{category.key}", "title": category.title}]})
    return groups


def triage_form(values: dict[str, str], ladders: dict[str, LadderSpec], has_open: bool) -> dict[str, Any]:
    """What the form shows now. ``has_open``: the provider has a running escalation to attach the signal to; without
    one, "yes" means a new escalation."""
    touches = values.get("raakt_dvo") or ""
    decision = values.get("besluit") or ("" if has_open else "nieuw")
    key = chosen_ladder(values, ladders) if touches == "ja" and decision == "nieuw" else ""
    spec = ladders.get(key)
    groups = category_groups(spec) if spec else []
    category = values.get("categorie") or ""
    category_ok = any(option["value"] == category for group in groups for option in group["options"])
    parts = {
        "besluit": touches == "ja" and has_open,
        "ladder": touches == "ja" and decision == "nieuw" and len(ladders) > 1,
        "categorie": spec is not None,
        "koppelen": touches == "ja" and decision == "koppelen",
        "openen": spec is not None and category_ok,
        "terugleggen": touches == "nee",
    }
    shown = {"raakt_dvo"}
    shown |= {"besluit"} if parts["besluit"] else set()
    shown |= {"ladder"} if parts["ladder"] else set()
    shown |= {"categorie"} if parts["categorie"] else set()
    shown |= {"escalatie", "motivering"} if parts["koppelen"] else set()
    shown |= {"samenvatting", "motivering"} if parts["openen"] else set()
    shown |= {"gemeente", "kenmerk", "professionals"} if parts["openen"] and spec and spec.case else set()
    shown |= {"motivering"} if parts["terugleggen"] else set()
    return {
        **parts,
        "decision": decision,
        "ladders": [{"key": k, "name": s.name} for k, s in sorted(ladders.items(), key=lambda item: item[1].name)],
        "ladder_key": key,
        "ladder_name": spec.name if spec else "",
        "case": spec.case if spec else None,
        "groups": groups,
        "shown": shown,
        # what was typed or chosen in a part not shown now goes along unseen, so nothing typed is lost; a case's
        # fields only while the ladder chosen may be a case ladder (another ladder refuses them)
        "kept": {name: values[name] for name in FIELDS
                 if name not in shown and values.get(name) and not (name in CASE_FIELDS and spec and not spec.case)},
    }  # fmt: skip
