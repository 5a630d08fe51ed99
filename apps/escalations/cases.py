"""A dispute about one case (a ladder with ``[case]``, seed 001): what opening one records, the checks that keep it
pseudonymous, and who of the municipality hears of it.

- ``checked_case``: the municipality (one of the region's today), the access team's case reference (never a BSN:
  nine digits that pass the elfproef; never a text that looks like a name), the discussion point (the category's
  subcategory) and the professionals involved (one line). Refusals are Dutch ``EscalationError`` s naming the field.
- ``case_out``: the case as the escalation page and the API show it ("pseudoniem kenmerk"), with the mark of a
  financial disagreement (never discussed with the family).
- ``municipality_addresses``: where a case ladder's notices to "toegang" / "lokale_aanstuurder" go: the people of
  that municipality (``Membership.municipality``), else the municipality's contacts in the region file.

This module imports no other step-engine module (context.py's error only).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from apps.accounts.tables import Membership, User
from apps.escalations.context import EscalationError
from apps.ladders.schema import CategorySpec, DisputeSpec, LadderSpec
from apps.tenancy.tables import Municipality
from core.tenancy import RegionScope
from core.text import ONE_LINE_NL, control_character

REFERENCE_MAX = 40
PROFESSIONALS_MAX = 300
REFERENCE_LABEL = "Kenmerk van de toegang (pseudoniem)"
# The reference is a code: letters, digits and the separators references use.
REFERENCE_CHARACTERS = re.compile(r"^[A-Za-z0-9 ._/:#-]+$")
# Nine digits, also written in groups with spaces or dots ("1234 56 782", "123.456.782").
NINE_DIGITS = re.compile(r"(?<![0-9])(?:[0-9][ .]?){8}[0-9](?![0-9])")
# A run of letters: two or more with a lower-case one ("Jansen", "de", "jeugd") is a word or a name, not a code.
LETTERS = re.compile(r"[A-Za-z]+")


class CaseError(EscalationError):
    """A case field refused; ``field`` names it (gemeente, kenmerk, discussiepunt, professionals)."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Case:
    municipality: Municipality
    reference: str
    professionals: str
    financial: bool = False  # a financial disagreement: never discussed with the family (seed 001 §2.1)


def passes_elfproef(digits: str) -> bool:
    """The BSN's check (elfproef): 9·d1 + 8·d2 + … + 2·d8 − 1·d9 is a multiple of 11 (and not all zeros)."""
    if len(digits) != 9 or not digits.isdigit() or digits == "000000000":
        return False
    total = sum(int(d) * weight for d, weight in zip(digits[:8], range(9, 1, -1), strict=True)) - int(digits[8])
    return total % 11 == 0


def reference_problem(reference: str) -> str | None:
    """Why ``reference`` cannot be a pseudonymous case reference (Dutch), or None."""
    if not reference:
        return "Vul het kenmerk van de toegang in: het pseudonieme casusnummer, nooit een BSN of naam."
    if len(reference) > REFERENCE_MAX:
        return f"Het kenmerk mag ten hoogste {REFERENCE_MAX} tekens lang zijn."
    if control_character(reference):
        return f"Het kenmerk {ONE_LINE_NL}."
    for found in NINE_DIGITS.finditer(reference):
        if passes_elfproef(re.sub(r"[ .]", "", found.group())):
            return ("Dit kenmerk lijkt een burgerservicenummer (BSN): negen cijfers die de elfproef doorstaan. "
                    "Gebruik het pseudonieme kenmerk van de toegang, nooit het BSN.")  # fmt: skip
    words = [run for run in LETTERS.findall(reference) if len(run) > 1 and run != run.upper()]
    if words:
        return (f"‘{words[0]}’ lijkt een naam of woord: een kenmerk bestaat uit hoofdletters en cijfers, zoals "
                "RSD-2026-0413. Noem de jeugdige nooit bij naam.")  # fmt: skip
    if not REFERENCE_CHARACTERS.match(reference) or not any(c.isdigit() for c in reference):
        return ("Een kenmerk is een code met cijfers, zoals RSD-2026-0413 (hoofdletters, cijfers en de tekens "
                "- . / : #): gebruik het pseudonieme kenmerk van de toegang, nooit een naam.")  # fmt: skip
    return None


def professionals_problem(text: str) -> str | None:
    if not text:
        return "Vul de betrokken professionals in, bijvoorbeeld ‘jeugdprofessional toegang, gedragswetenschapper’."
    if len(text) > PROFESSIONALS_MAX:
        return f"De betrokken professionals passen in ten hoogste {PROFESSIONALS_MAX} tekens."
    if control_character(text):
        return f"De betrokken professionals {ONE_LINE_NL}: één regel tekst."
    for found in NINE_DIGITS.finditer(text):
        if passes_elfproef(re.sub(r"[ .]", "", found.group())):
            return "Hier staat iets dat op een burgerservicenummer (BSN) lijkt: laat het weg."
    return None


async def municipality_of_region(scope: RegionScope, value: str | UUID, day: date) -> Municipality | None:
    """The region's municipality by CBS code or id, only if it belongs to the region on ``day``."""
    text = str(value).strip()
    if re.match(r"^GM\d{4}$", text):
        condition = Municipality.cbs_code == text
    else:
        try:
            condition = Municipality.id == UUID(text)
        except ValueError:
            return None
    found = await scope.objects(Municipality).where(condition).first()
    if found is None:
        return None
    if (found.valid_from and day < found.valid_from) or (found.valid_until and found.valid_until < day):
        return None
    return found


async def checked_case(
    scope: RegionScope,
    spec: LadderSpec,
    category: CategorySpec,
    *,
    subcategory: str,
    municipality: str | UUID | None,
    reference: str,
    professionals: str,
    day: date,
    financial: bool = False,
) -> Case | None:
    """The case to record when opening on ``spec``, or None (no case: a ladder without ``[case]``, or an optional
    case left empty). Refuses what is missing (when ``[case] required``) and anything that is not pseudonymous."""
    reference, professionals = (reference or "").strip(), (professionals or "").strip()
    municipality = str(municipality or "").strip()
    if spec.case is None:
        if municipality or reference or professionals or financial:
            raise CaseError(f"De ladder ‘{spec.name}’ gaat niet over één casus: laat gemeente, kenmerk en "
                            "professionals leeg.", "gemeente")  # fmt: skip
        return None
    if not spec.case.required and not (municipality or reference or professionals):
        return None
    if not subcategory:
        raise CaseError(f"Kies het discussiepunt van het geschil ({category.title}).", "discussiepunt")
    if not municipality:
        raise CaseError("Kies de gemeente waarvan de toegang bij deze casus betrokken is.", "gemeente")
    found = await municipality_of_region(scope, municipality, day)
    if found is None:
        raise CaseError("Kies een gemeente die nu tot deze regio hoort.", "gemeente")
    if problem := reference_problem(reference):
        raise CaseError(problem, "kenmerk")
    if problem := professionals_problem(professionals):
        raise CaseError(problem, "professionals")
    financial = bool(financial) or (spec.dispute is not None and subcategory in spec.dispute.financial)
    return Case(municipality=found, reference=reference, professionals=professionals, financial=financial)


def discussion_point_title(spec: LadderSpec, category_key: str, subcategory: str) -> str:
    category = next((c for c in spec.categories if c.key == category_key), None)
    return category.subcategories.get(subcategory, subcategory) if category else subcategory


def _contacts(municipality: Municipality) -> list[dict]:
    value = municipality.contacts
    if isinstance(value, str):  # Piccolo may hand JSON back as text
        value = json.loads(value or "[]")
    return [c for c in (value or []) if isinstance(c, dict)]


async def case_out(scope: RegionScope, escalation, spec: LadderSpec) -> dict | None:
    """The case of an escalation for the page and the API; None when it is not about one case."""
    if not escalation.case_municipality:
        return None
    municipality = await scope.get(Municipality, escalation.case_municipality)
    return {
        "municipality": {"cbs_code": municipality.cbs_code, "name": municipality.name} if municipality else None,
        "contacts": [
            {"function": c.get("function", ""), "email": c.get("email", ""), "phone": c.get("phone", "")}
            for c in _contacts(municipality)
        ]
        if municipality
        else [],  # fmt: skip
        "reference": escalation.case_reference,
        "reference_label": REFERENCE_LABEL,
        "pseudonymous": True,
        "discussion_point": {
            "key": escalation.subcategory,
            "title": discussion_point_title(spec, escalation.category, escalation.subcategory),
        },
        "professionals": escalation.case_professionals,
        # Shown wherever the case is shown: a financial disagreement is never discussed with the family.
        "financial": bool(escalation.case_financial),
        "financial_notice": financial_notice(spec) if escalation.case_financial else "",
    }


def financial_notice(spec: LadderSpec) -> str:
    """The ladder's words for a financial disagreement (``[dispute] financial_notice``)."""
    from_spec = spec.dispute.financial_notice if spec.dispute else ""
    return from_spec or DisputeSpec.model_fields["financial_notice"].default


async def municipality_people(scope: RegionScope, municipality_id: UUID) -> list[tuple[UUID, str]]:
    """(user id, e-mail) of the active people who hold a region role for that municipality."""
    rows = await scope.select(Membership, Membership.user).where(Membership.municipality == municipality_id)
    user_ids = sorted({row["user"] for row in rows}, key=str)
    if not user_ids:
        return []
    users = await User.select(User.id, User.email).where(User.id.is_in(user_ids) & (User.active == True))  # noqa: E712
    return sorted((user["id"], user["email"]) for user in users)


async def municipality_addresses(scope: RegionScope, municipality_id: UUID, role: str) -> list[str]:
    """Where a case ladder's notice to ``role`` ("toegang" or "lokale_aanstuurder") goes: the people of the
    municipality; without any, its lokale aanstuurder's mailboxes from the region file ("lokale_aanstuurder"),
    or the access team's mailbox ("toegang", and when the file names no contact)."""
    people = [email for _, email in await municipality_people(scope, municipality_id) if email]
    if people:
        return people
    municipality = await scope.get(Municipality, municipality_id)
    if municipality is None:
        return []
    contacts = sorted({c["email"] for c in _contacts(municipality) if c.get("email")})
    if role == "lokale_aanstuurder" and contacts:
        return contacts
    return [municipality.access_team_email] if municipality.access_team_email else contacts
