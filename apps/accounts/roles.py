"""Roles a person can hold. Region roles are held per region, provider roles per provider organisation."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    PLATFORM_ADMIN = "platform_admin"
    # region roles
    INKOOP_MEDEWERKER = "inkoop_medewerker"  # purchasing team member: runs escalations
    INKOOP_LEAD = "inkoop_lead"  # purchasing team lead: may also impose and lift measures
    GEMEENTE_MEDEWERKER = "gemeente_medewerker"  # municipality / access team: reads notices, files signals
    WAARNEMER = "waarnemer"  # read-only observer
    # provider roles
    AANBIEDER_MEDEWERKER = "aanbieder_medewerker"  # provider user
    AANBIEDER_BEHEERDER = "aanbieder_beheerder"  # provider admin: also invites colleagues


REGION_ROLES = frozenset({Role.INKOOP_MEDEWERKER, Role.INKOOP_LEAD, Role.GEMEENTE_MEDEWERKER, Role.WAARNEMER})
PROVIDER_ROLES = frozenset({Role.AANBIEDER_MEDEWERKER, Role.AANBIEDER_BEHEERDER})
# Who may take decisions on an escalation (move steps, close, send letters).
DECIDES = frozenset({Role.INKOOP_MEDEWERKER, Role.INKOOP_LEAD})
# Who may impose or lift a measure such as an instroomstop.
IMPOSES_MEASURES = frozenset({Role.INKOOP_LEAD})

LABELS = {
    Role.PLATFORM_ADMIN: "Platformbeheerder",
    Role.INKOOP_MEDEWERKER: "Medewerker team inkoop",
    Role.INKOOP_LEAD: "Teamleider inkoop",
    Role.GEMEENTE_MEDEWERKER: "Medewerker gemeente / toegang",
    Role.WAARNEMER: "Waarnemer (alleen lezen)",
    Role.AANBIEDER_MEDEWERKER: "Medewerker aanbieder",
    Role.AANBIEDER_BEHEERDER: "Beheerder aanbieder",
}
