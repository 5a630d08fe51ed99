"""The region workspace's request context: the region of the path, the person and their actor in it (``Here``),
who may do what (role tuples for the guards), and the small form helpers every workspace page uses.

Shared by the controllers in ``controllers/`` and by the view models, the dashboard and the dossier, which take a
``Here`` to read through its ``RegionScope``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.exceptions import NotFoundException

from apps.accounts.guards import PERSON, region_of_request
from apps.accounts.roles import DECIDES, IMPOSES_MEASURES, Role
from apps.tenancy.tables import Region
from core.actor import Actor
from core.clock import Clock, system_clock
from core.tenancy import RegionScope

R = Role
TEAM = (R.INKOOP_MEDEWERKER, R.INKOOP_LEAD)
READERS = (*TEAM, R.WAARNEMER)  # the escalation pages (the observer reads, never decides)
FILERS = (*TEAM, R.GEMEENTE_MEDEWERKER)  # may file a signal
MEMBERS = (*READERS, R.GEMEENTE_MEDEWERKER)  # every member of the region: the register of intake stops


@dataclass
class Here:
    """The region of the path, the person and their actor in it."""

    region: Region
    scope: RegionScope
    person: Any
    actor: Actor
    clock: Clock = system_clock  # the app's clock (``app.state.clock``): tests move time instead of sleeping

    @property
    def can_decide(self) -> bool:
        return self.actor.has_any(DECIDES)

    @property
    def is_lead(self) -> bool:
        return self.actor.has_any(IMPOSES_MEASURES)

    @property
    def reads_escalations(self) -> bool:
        return bool(self.actor.roles & set(READERS))

    @property
    def municipal(self) -> bool:
        """One of a municipality's people (a role held for a municipality of this region): a party to its disputes."""
        return bool((getattr(self.person, "region_municipalities", None) or {}).get(self.region.id))

    def base(self) -> str:
        return f"/regio/{self.region.slug}"

    def context(self, section: str, **extra: Any) -> dict[str, Any]:
        return {
            "region": self.region,
            "section": section,
            "base": self.base(),
            "can_decide": self.can_decide,
            "is_lead": self.is_lead,
            "reads_escalations": self.reads_escalations,
            "can_file": bool(self.actor.roles & set(FILERS)),
            "municipal": self.municipal,
            **extra,
        }


async def here(request: Request, region_slug: str) -> Here:
    region = await region_of_request(request, region_slug)  # the guard read it already
    person = request.scope["state"].get(PERSON)
    actor = person.region_actor(region.id) if region is not None and person is not None else None
    if region is None or actor is None:  # the guard already said so; never answer more than 404
        raise NotFoundException()
    clock = getattr(request.app.state, "clock", None) or system_clock
    return Here(region=region, scope=RegionScope(region.id), person=person, actor=actor, clock=clock)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def form_value(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def new_key() -> str:
    return uuid.uuid4().hex
