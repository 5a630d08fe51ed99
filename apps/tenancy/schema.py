"""The shape of a region file in ``tenants/`` (one TOML file per region), validated with pydantic.

A region's ladders are either inline (``[ladders.KEY]`` with steps) or taken from a shared template in
``tenants/templates/`` (``[ladders.KEY] template = "NAME"``), optionally renamed.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    EmailStr,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from apps.ladders.schema import KEY_PATTERN, LadderSpec

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
CBS_PATTERN = r"^GM\d{4}$"
MAILBOX_ROLES = (
    "inkoop",
    "gi",
    "inspectie",
    "zi2t",
    "account_houdende_regio",
    "ozj",
    "jeugdautoriteit",
    "geschillencommissie",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ContactSpec(_Strict):
    """Who a municipality's access team answers disputes about one case with: its *lokale aanstuurder* (seed 001
    "Contactgegevens": each municipality names the function differently). A function, never a person's name."""

    function: str = Field(min_length=1, max_length=200)  # "Coördinerend kwaliteitsmedewerker Jeugd"
    email: EmailStr
    phone: str = Field(default="", max_length=60)


class MunicipalitySpec(_Strict):
    cbs_code: Annotated[str, Field(pattern=CBS_PATTERN)]
    name: str = Field(min_length=1)
    access_team_email: EmailStr
    # the lokale aanstuurder's contact (one or more): notices of a case ladder go there when no person of the
    # municipality has an account
    contacts: list[ContactSpec] = Field(default_factory=list)
    valid_from: date | None = None
    valid_until: date | None = None  # inclusive; a merger ends a municipality on 31 December

    @model_validator(mode="after")
    def _period(self) -> MunicipalitySpec:
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError("valid_until is before valid_from")
        return self

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


class MailboxSpec(_Strict):
    role: Literal[MAILBOX_ROLES]  # type: ignore[valid-type]
    name: str = Field(min_length=1)
    email: EmailStr


class ClosedDay(_Strict):
    date: date
    label: str = Field(min_length=1)


class CalendarSpec(_Strict):
    # The national working-day calendar (Algemene termijnenwet) always applies; these are the region's own.
    extra_closed_days: list[ClosedDay] = Field(default_factory=list)


class EvidenceWatchSpec(_Strict):
    # An expired VOG/SKJ/BIG always becomes a signal for triage; with this on, it also opens an escalation in the
    # safety category of the region's quality ladder right away (seed 000: no valid VOG is a safety shortcoming).
    opens_escalation: bool = False
    ladder: str = "kwaliteit"
    remind_days_before: int = Field(default=60, ge=1, le=365)


class LetterSettings(_Strict):
    sender: str = Field(min_length=1)  # "Team inkoop Jeugdhulp Zuid-Limburg"
    city: str = Field(min_length=1)  # place in the letter's date line
    signature: str = Field(min_length=1)
    reply_email: EmailStr
    logo: str | None = None  # object key of an uploaded logo (set through the admin pages)
    # Who signs, and on whose behalf (the mandate): "namens het college van burgemeester en wethouders van …".
    # Empty by default so that older region files stay valid; the letter then signs with ``signature`` alone.
    signatory_name: str = Field(default="", max_length=200)
    signatory_function: str = Field(default="", max_length=200)
    mandate: str = Field(default="", max_length=300)
    # The contact person a provider calls or writes about the letter (the letter's contact block).
    contact_name: str = Field(default="", max_length=200)
    contact_phone: str = Field(default="", max_length=40, pattern=r"^[0-9 +()-]*$")
    contact_email: EmailStr | None = None
    # The letter's font (body and page numbers), a font installed on the server; WeasyPrint falls back to DejaVu Sans.
    font: str = Field(default="DejaVu Sans", min_length=1, max_length=80, pattern=r"^[A-Za-z0-9 -]+$")


def _luminance(hex_colour: str) -> float:
    """Relative luminance (WCAG 2.1) of ``#rrggbb``."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


HexColour = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]


class ThemeSpec(_Strict):
    """The region's colours on its pages, as NL Design System tokens (served as /regio/<slug>/thema.css).

    Each colour carries white text or sits on white, so each must reach WCAG AA (4.5:1) against white.
    """

    primary: HexColour | None = None  # buttons (white text) and links (on white)
    accent: HexColour | None = None  # the line under the header and the region's navigation

    @model_validator(mode="after")
    def _contrast(self) -> ThemeSpec:
        for name in ("primary", "accent"):
            colour = getattr(self, name)
            if colour and contrast_ratio(colour, "#ffffff") < 4.5:
                raise ValueError(
                    f"{name}: {colour} has contrast {contrast_ratio(colour, '#ffffff'):.1f}:1 with white; "
                    "WCAG AA needs at least 4.5:1 (choose a darker colour)"
                )
        return self


INDICATOR_UNITS = ("aantal", "procent", "score", "dagen", "euro")
INDICATOR_PERIODS = ("kwartaal", "jaar")
DERIVED_SOURCES = ("vog_medewerker", "vog_vrijwilliger", "skj", "big")  # kinds of the evidence register


class NormSpec(_Strict):
    min: float | None = None  # lowest acceptable figure (inclusive)
    max: float | None = None  # highest acceptable figure (inclusive)

    @model_validator(mode="after")
    def _bounds(self) -> NormSpec:
        if self.min is None and self.max is None:
            raise ValueError("a norm needs min, max or both")
        if self.min is not None and self.max is not None and self.max < self.min:
            raise ValueError("max is below min")
        return self


class IndicatorSpec(_Strict):
    """A quality indicator the region asks its providers for (apps/quality), or derives from the evidence register."""

    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    unit: Literal[INDICATOR_UNITS]  # type: ignore[valid-type]
    period: Literal[INDICATOR_PERIODS]  # type: ignore[valid-type]
    norm: NormSpec | None = None
    due_days: int = Field(default=30, ge=0, le=365)  # the figure is due this many days after the period ends
    remind_days_before: int = Field(default=7, ge=0, le=90)
    signal_out_of_norm: bool = False  # a figure outside the norm becomes a signal for triage
    signal_missing: bool = False  # no figure by the due date becomes a signal for triage
    derived_from: Literal[DERIVED_SOURCES] | None = None  # type: ignore[valid-type]  # not submitted

    @model_validator(mode="after")
    def _consistent(self) -> IndicatorSpec:
        if self.signal_out_of_norm and self.norm is None:
            raise ValueError("signal_out_of_norm needs a norm")
        if self.derived_from:
            if self.unit != "procent":
                raise ValueError("an indicator derived from the evidence register is a share: unit = 'procent'")
            if self.signal_missing or self.signal_out_of_norm:
                raise ValueError("a derived indicator raises no signals (the evidence watch signals expired evidence)")
        if self.unit == "procent" and self.norm is not None:
            for bound in (self.norm.min, self.norm.max):
                if bound is not None and not 0 <= bound <= 100:
                    raise ValueError("a norm in procent lies between 0 and 100")
        return self


class LadderTemplateRef(_Strict):
    template: str = Field(pattern=r"^[a-z0-9-]+$")
    name: str | None = None  # the region's own name for the ladder


def _ladder_kind(value: object) -> str:
    # A table with "template" refers to a shared template; anything else is an inline ladder. Choosing up
    # front keeps error messages about the one shape the author meant.
    if isinstance(value, dict):
        return "template" if "template" in value else "inline"
    return "template" if isinstance(value, LadderTemplateRef) else "inline"


LadderEntry = Annotated[
    Annotated[LadderTemplateRef, Tag("template")] | Annotated[LadderSpec, Tag("inline")],
    Discriminator(_ladder_kind),
]


class RegionFile(_Strict):
    slug: Annotated[str, Field(pattern=SLUG_PATTERN, max_length=64)]
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    sources: list[str] = Field(default_factory=list)  # where the data comes from (CBS list, seed documents)
    municipalities: list[MunicipalitySpec] = Field(min_length=1)
    mailboxes: list[MailboxSpec] = Field(default_factory=list)
    calendar: CalendarSpec = Field(default_factory=CalendarSpec)
    evidence_watch: EvidenceWatchSpec = Field(default_factory=EvidenceWatchSpec)
    letters: LetterSettings
    theme: ThemeSpec = Field(default_factory=ThemeSpec)
    ladders: dict[Annotated[str, Field(pattern=KEY_PATTERN)], LadderEntry] = Field(min_length=1)
    indicators: dict[Annotated[str, Field(pattern=KEY_PATTERN)], IndicatorSpec] = Field(default_factory=dict)

    @field_validator("municipalities")
    @classmethod
    def _unique_codes(cls, value: list[MunicipalitySpec]) -> list[MunicipalitySpec]:
        codes = [m.cbs_code for m in value]
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            raise ValueError(f"municipality listed twice: {', '.join(twice)}")
        return value

    @model_validator(mode="after")
    def _needs_purchasing_team(self) -> RegionFile:
        if not any(m.role == "inkoop" for m in self.mailboxes):
            raise ValueError("mailboxes: a region needs an 'inkoop' (purchasing team) mailbox for notices")
        for key, ladder in self.ladders.items():
            if isinstance(ladder, LadderSpec) and ladder.key != key:
                raise ValueError(f"ladders.{key}: key is {ladder.key!r}; it must equal the table name {key!r}")
        return self

    def municipalities_on(self, day: date) -> list[MunicipalitySpec]:
        return [m for m in self.municipalities if m.valid_on(day)]


def format_location(loc: tuple[str | int, ...]) -> str:
    """('ladders', 'kwaliteit', 'steps', 3, 'term') -> 'ladders.kwaliteit.steps[3].term'.

    Pydantic adds union members' names and tags to the path; that is noise for a reader.
    """
    if len(loc) > 2 and loc[0] == "ladders" and loc[2] in ("inline", "template"):
        loc = loc[:2] + loc[3:]  # the tag of the ladder entry's shape (see LadderEntry), not a field
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.match(r"^[A-Z]\w*$", part) or part.startswith(("function-", "union[")):
            continue
        else:
            out += f".{part}" if out else part
    return out
