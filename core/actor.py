"""Who does something: a person in a role, or the system (workers, CLI). Services take an Actor."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID


@dataclass(frozen=True)
class Actor:
    label: str  # shown on the timeline: a name, or "Systeem"
    user_id: UUID | None = None
    roles: frozenset[str] = field(default_factory=frozenset)  # roles in the region (or provider) at hand
    provider_id: UUID | None = None  # set for provider users
    is_system: bool = False

    def has_any(self, roles: frozenset[str] | set[str]) -> bool:
        return self.is_system or bool(self.roles & set(roles))


SYSTEM = Actor(label="Systeem", is_system=True)
