"""Onboarding and maintaining regions on the admin pages (/beheer/regios), without a developer.

Every change builds the region *file* (``apps.tenancy.schema.RegionFile``) and puts it through the same loader as
``tenants/`` (``apps.tenancy.export.check_region_document``), so the admin pages refuse exactly what
``trede tenants validate`` refuses; it is then applied by the same code as ``trede tenants sync``
(``apps.tenancy.services.apply_region``), in one transaction with its audit entry.

Regions made here are marked ``Region.source_file = MANAGED_IN_ADMIN``: they live in the database, sync never
touches them, and ``trede tenants export`` writes them out for review. Regions that come from a file in
``tenants/`` are changed in that file; here only their ladders can be edited (the ladder editor).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import EmailStr, TypeAdapter, ValidationError

from apps.accounts.services import Person
from apps.ladders import services as ladder_services
from apps.ladders.schema import LadderSpec, Notify
from apps.ladders.tables import Ladder
from apps.providers.tables import Contract, Provider
from apps.tenancy import national
from apps.tenancy.export import check_region_document, check_region_file, region_document
from apps.tenancy.loader import ROLES_WITHOUT_MAILBOX, Problem, load_templates
from apps.tenancy.schema import MAILBOX_ROLES, SLUG_PATTERN, contrast_ratio
from apps.tenancy.services import MANAGED_IN_ADMIN, SyncRefused, apply_region
from apps.tenancy.tables import Region
from core import keyset
from core.audit import audit
from core.clock import Clock, system_clock
from core.formatting import format_date_nl
from core.tenancy import RegionScope
from core.text import ONE_LINE_NL, control_character
from core.transactions import write_transaction

EMAIL = TypeAdapter(EmailStr)
MAILBOX_LABELS = {
    "inkoop": "Team inkoop",
    "gi": "Gecertificeerde instellingen (GI's)",
    "inspectie": "Inspectie Gezondheidszorg en Jeugd",
    "zi2t": "Zorginstituut / ZI2T",
    "account_houdende_regio": "Accounthoudende regio",
    "ozj": "Ondersteuningsteam Zorg voor de Jeugd (OZJ)",
    "jeugdautoriteit": "Jeugdautoriteit",
    "geschillencommissie": "Geschillencommissie",
}
TEMPLATE_LABELS = {
    "kwaliteitsmodel-zuid-limburg": "Kwaliteitsmodel Zuid-Limburg",
    "escalatieroute-west-brabant-west": "Geschillenroute West-Brabant West",
    "contractladder": "Contractladder",
    "kwaliteitsartikel-lekstroom": "Kwaliteitsartikel Lekstroom",
    "continuiteitsladder-vng": "Continuïteitsladder VNG",
}
THEME_FIELDS = {"primary": "Hoofdkleur (knoppen en links)", "accent": "Accentkleur (lijn onder de kop, regionavigatie)"}
MIN_CONTRAST = 4.5


class AdminRefused(Exception):
    """Dutch messages per form field ("" for the form as a whole); nothing was changed."""

    def __init__(self, errors: dict[str, str], problems: list[Problem] | None = None):
        self.errors = errors
        self.problems = problems or []
        super().__init__("; ".join(errors.values()))


@dataclass
class RegionOverview:
    region: Region
    managed_here: bool
    municipalities: int
    ladders: list[dict] = field(default_factory=list)


def templates(tenants_dir: Path) -> dict[str, LadderSpec]:
    return load_templates(tenants_dir, [])


def template_options(tenants_dir: Path) -> list[tuple[str, str]]:
    return [(name, TEMPLATE_LABELS.get(name, spec.name)) for name, spec in sorted(templates(tenants_dir).items())]


def roles_needed(spec: LadderSpec) -> list[str]:
    """The mailboxes a ladder sends notices to (besides the access teams and the provider)."""
    roles = {"inkoop"}
    for step in spec.steps:
        for action in [*step.on_enter, *(a for t in step.terms for a in t.on_missed)]:
            if isinstance(action, Notify):
                roles |= set(action.roles) - ROLES_WITHOUT_MAILBOX
    return [r for r in MAILBOX_ROLES if r in roles]


def is_managed_here(region: Region) -> bool:
    return region.source_file == MANAGED_IN_ADMIN


# Optional letter settings (``LetterSettings``): empty means "not set" and is left out of the region file.
OPTIONAL_LETTER_FIELDS = {
    "signatory_name": "De naam van de ondertekenaar",
    "signatory_function": "De functie van de ondertekenaar",
    "mandate": "Het mandaat",
    "contact_name": "De naam van de contactpersoon",
    "contact_phone": "Het telefoonnummer van de contactpersoon",
    "contact_email": "Het e-mailadres van de contactpersoon",
    "font": "Het lettertype",
}


def _letter_settings(values, errors: dict[str, str]) -> dict[str, str]:
    """The letter settings of the form (sender, city, signature, reply address; signatory, mandate, contact
    person and font when given); problems go into ``errors``."""
    letters = {k: values.get(f"brief_{k}", "").strip() for k in ("sender", "city", "signature", "reply_email")}
    for key, label in (("sender", "afzender"), ("city", "plaats"), ("signature", "ondertekening")):
        if not letters[key]:
            errors[f"brief_{key}"] = f"Vul de {label} van de brieven in."
        elif control_character(letters[key]):
            errors[f"brief_{key}"] = f"De {label} {ONE_LINE_NL}."
    if message := _email_error(letters["reply_email"]):
        errors["brief_reply_email"] = message
    for key, label in OPTIONAL_LETTER_FIELDS.items():  # who signs, on whose behalf, whom to contact (issue 16)
        value = values.get(f"brief_{key}", "").strip()
        if not value:
            continue
        if control_character(value):
            errors[f"brief_{key}"] = f"{label} {ONE_LINE_NL}."
        elif key == "contact_email" and (message := _email_error(value)):
            errors[f"brief_{key}"] = message
        elif key == "contact_phone" and not re.fullmatch(r"[0-9 +()-]{6,40}", value):
            errors[f"brief_{key}"] = "Schrijf het telefoonnummer met cijfers, spaties, + of -, zoals ‘043 000 00 00’."
        elif key == "font" and not re.fullmatch(r"[A-Za-z0-9 -]{1,80}", value):
            errors[f"brief_{key}"] = (
                "Schrijf de naam van het lettertype met letters, cijfers en spaties, zoals ‘DejaVu Sans’."
            )
        elif len(value) > (300 if key == "mandate" else 200):
            errors[f"brief_{key}"] = f"{label} is te lang."
        letters[key] = value
    return letters


def _email_error(value: str) -> str | None:
    if not value:
        return "Vul een e-mailadres in."
    try:
        EMAIL.validate_python(value)
    except ValidationError:
        return f"‘{value}’ is geen geldig e-mailadres, zoals naam@gemeente.nl."
    return None


def chosen_municipalities(youth_region: str, codes: list[str]) -> tuple[list[national.NationalMunicipality], str]:
    """The municipalities of a whole youth-care region and/or picked one by one; an error in Dutch or ""."""
    by_code = {m.cbs_code: m for m in national.municipalities()}
    chosen: dict[str, national.NationalMunicipality] = {}
    if youth_region:
        region = national.youth_regions().get(youth_region)
        if region is None:
            return [], "Kies een jeugdregio uit de lijst."
        chosen.update({m.cbs_code: m for m in region.municipalities})
    for code in codes:
        if code not in by_code:
            return [], f"Onbekende gemeentecode ‘{code}’."
        chosen[code] = by_code[code]
    if not chosen:
        return [], "Kies een jeugdregio of minstens één gemeente."
    return sorted(chosen.values(), key=lambda m: m.cbs_code), ""


def _loader_errors(problems: list[Problem], fields: dict[str, str]) -> dict[str, str]:
    """The loader's ``file: path: reason`` problems, on the form field they concern where there is one."""
    errors: dict[str, str] = {}
    for problem in problems:
        target = ""
        for prefix, name in fields.items():
            if problem.path.startswith(prefix):
                target = name
                break
        errors[target] = (errors.get(target, "") + " " if target in errors else "") + str(problem)
    return errors


async def _apply(document: dict, tenants_dir: Path, *, fields: dict[str, str], clock: Clock) -> Region:
    loaded, problems = check_region_document(document, tenants_dir)
    if loaded is None:
        raise AdminRefused(_loader_errors(problems, fields), problems)
    loaded.file = MANAGED_IN_ADMIN
    try:
        await apply_region(loaded, clock=clock)
    except SyncRefused as exc:
        raise AdminRefused({"": " ".join(p.reason for p in exc.problems)}, exc.problems) from None
    return await Region.objects().where(Region.slug == document["slug"]).first()


async def _audit(action: str, region: Region, person: Person, detail: dict[str, Any], clock: Clock) -> None:
    await audit(action, region_id=region.id, actor_id=person.user_id, actor_label=person.label,
                target_type="region", target_id=region.slug, detail=detail, clock=clock)  # fmt: skip


async def create_region(values: dict[str, Any], *, person: Person, tenants_dir: Path,
                        clock: Clock = system_clock) -> Region:  # fmt: skip
    """A new region from one of the ladder templates. ``values``: the form's fields (see beheer/nieuw.html)."""
    errors: dict[str, str] = {}
    name, slug = values.get("naam", "").strip(), values.get("slug", "").strip()
    if not name:
        errors["naam"] = "Vul de naam van de regio in, bijvoorbeeld ‘Holland Rijnland’."
    elif control_character(name):
        errors["naam"] = f"De naam {ONE_LINE_NL}."
    elif len(name) > 200:
        errors["naam"] = "De naam is te lang (ten hoogste 200 tekens)."
    if not re.match(SLUG_PATTERN, slug) or len(slug) > 64:
        errors["slug"] = ("Gebruik kleine letters, cijfers en streepjes, bijvoorbeeld ‘holland-rijnland’: zo komt de "
                          "regio in de adressen (/regio/holland-rijnland).")  # fmt: skip
    elif await Region.exists().where(Region.slug == slug):
        errors["slug"] = f"De korte naam ‘{slug}’ is al in gebruik door een andere regio."
    available = templates(tenants_dir)
    template_name = values.get("sjabloon", "")
    template = available.get(template_name)
    if template is None:
        errors["sjabloon"] = "Kies een van de ladders om mee te beginnen."
    municipalities, problem = chosen_municipalities(values.get("jeugdregio", ""), values.get("gemeenten", []))
    if problem:
        errors["gemeenten"] = problem
    access_email = values.get("toegang_email", "").strip()
    if message := _email_error(access_email):
        errors["toegang_email"] = message
    mailboxes = []
    needed = roles_needed(template) if template else ["inkoop"]
    for role in MAILBOX_ROLES:
        address = values.get(f"postbus_{role}", "").strip()
        if not address and role not in needed:
            continue
        if not address:
            errors[f"postbus_{role}"] = (
                f"De ladder ‘{template.name}’ stuurt meldingen aan {MAILBOX_LABELS[role]}: vul dit e-mailadres in."
                if template and role != "inkoop"
                else "Vul het e-mailadres van het team inkoop in: daar gaan de meldingen van de ladders heen."
            )
        elif message := _email_error(address):
            errors[f"postbus_{role}"] = message
        else:
            mailboxes.append({"role": role, "name": f"{MAILBOX_LABELS[role]} {name}".strip(), "email": address})
    letters = _letter_settings(values, errors)
    if errors:
        raise AdminRefused(errors)
    document = {
        "slug": slug, "name": name,
        "description": f"Aangemaakt op de beheerpagina's door {person.label} op {clock.today().isoformat()}.",
        "sources": [f"Gemeenten: CBS, Gebiedsindelingen {national.REFERENCE_DATE.year} (CC BY 4.0)"],
        "municipalities": [{"cbs_code": m.cbs_code, "name": m.name, "access_team_email": access_email}
                           for m in municipalities],
        "mailboxes": mailboxes,
        "letters": letters,
        "ladders": {template.key: {"template": template_name}},
    }  # fmt: skip
    fields = {"slug": "slug", "name": "naam", "municipalities": "gemeenten", "letters": "brief_sender"}
    async with write_transaction():
        if await Region.exists().where(Region.slug == slug):  # a second click on "Regio aanmaken"
            raise AdminRefused({"slug": f"De korte naam ‘{slug}’ is al in gebruik door een andere regio."})
        region = await _apply(document, tenants_dir, fields=fields, clock=clock)
        await _audit("admin.region.create", region, person, {
            "template": template_name, "municipalities": [m.cbs_code for m in municipalities],
            "mailboxes": [m["role"] for m in mailboxes],
        }, clock)  # fmt: skip
    return region


async def _ladder_specs(region: Region) -> list[LadderSpec]:
    scope = RegionScope(region.id)
    specs = []
    for ladder in await scope.objects(Ladder):
        latest = await ladder_services.latest_version(scope, ladder)
        if latest is not None:
            specs.append(ladder_services.spec_of(latest))
    return specs


async def _document(region: Region, tenants_dir: Path) -> dict:
    if not is_managed_here(region):
        raise AdminRefused({"": f"Deze regio komt uit {region.source_file}: wijzig dat bestand en voer "
                                "‘trede tenants sync’ uit. Hier kunt u alleen de ladders bewerken."})  # fmt: skip
    return await region_document(region, templates(tenants_dir))


async def update_region(region: Region, section: str, values: dict[str, Any], *, person: Person, tenants_dir: Path,
                        clock: Clock = system_clock) -> Region:  # fmt: skip
    """Change one section of a region made here: "postbussen", "brieven", "kleuren", "gesloten_dagen",
    "gesloten_dag_weg", "gemeenten". The whole region is checked again before anything is written."""
    async with write_transaction():
        document = await _document(region, tenants_dir)
        errors: dict[str, str] = {}
        detail: dict[str, Any] = {}
        if section == "postbussen":
            mailboxes = []
            for role in MAILBOX_ROLES:
                address = values.get(f"postbus_{role}", "").strip()
                if not address:
                    continue
                if message := _email_error(address):
                    errors[f"postbus_{role}"] = message
                mailboxes.append({"role": role, "name": f"{MAILBOX_LABELS[role]} {region.name}", "email": address})
            given = {m["role"] for m in mailboxes}
            for spec in await _ladder_specs(region):
                for role in roles_needed(spec):
                    if role not in given and f"postbus_{role}" not in errors:
                        errors[f"postbus_{role}"] = (f"De ladder ‘{spec.name}’ stuurt meldingen aan "
                                                     f"{MAILBOX_LABELS[role]}: dit e-mailadres is nodig.")  # fmt: skip
            document["mailboxes"] = mailboxes
            detail = {"mailboxes": {m["role"]: m["email"] for m in mailboxes}}
            fields = {"mailboxes": "postbus_inkoop", "ladders": "postbus_inkoop"}
        elif section == "brieven":
            letters = _letter_settings(values, errors)
            logo = document["letters"].get("logo")
            document["letters"] = {**letters, **({"logo": logo} if logo else {})}
            detail = {"letters": letters}
            fields = {"letters": "brief_sender"}
        elif section == "kleuren":
            theme = {}
            for key, label in THEME_FIELDS.items():
                colour = values.get(f"kleur_{key}", "").strip()
                if not colour:
                    continue
                if not re.match(r"^#[0-9a-fA-F]{6}$", colour):
                    errors[f"kleur_{key}"] = f"{label}: schrijf de kleur als #rrggbb, bijvoorbeeld #00468c."
                    continue
                ratio = contrast_ratio(colour, "#ffffff")
                if ratio < MIN_CONTRAST:
                    errors[f"kleur_{key}"] = (f"{label}: {colour} heeft met wit een contrast van {ratio:.1f}:1; voor "
                                              f"WCAG AA is minstens {MIN_CONTRAST}:1 nodig. "
                                              "Kies een donkerdere kleur.")  # fmt: skip
                    continue
                theme[key] = colour.lower()
            document["theme"] = theme
            detail = {"theme": theme}
            fields = {"theme": "kleur_primary"}
        elif section == "gesloten_dagen":
            raw_day, label = values.get("dag", "").strip(), values.get("omschrijving", "").strip()
            try:
                day = date.fromisoformat(raw_day)
            except ValueError:
                day = None
                errors["dag"] = "Vul een datum in als jjjj-mm-dd, bijvoorbeeld 2026-12-24."
            if not label:
                errors["omschrijving"] = "Zeg waarom de regio die dag dicht is, bijvoorbeeld ‘Kerstavond’."
            elif control_character(label):
                errors["omschrijving"] = f"De omschrijving {ONE_LINE_NL}."
            days = document.setdefault("calendar", {}).setdefault("extra_closed_days", [])
            if day and any(d["date"] == day for d in days):
                errors["dag"] = f"{format_date_nl(day)} staat al in de lijst."
            if day:
                days.append({"date": day, "label": label})
                days.sort(key=lambda d: d["date"])
            detail = {"added": raw_day, "label": label}
            fields = {"calendar": "dag"}
        elif section == "gesloten_dag_weg":
            raw_day = values.get("dag", "")
            days = document.setdefault("calendar", {}).setdefault("extra_closed_days", [])
            document["calendar"]["extra_closed_days"] = [d for d in days if d["date"].isoformat() != raw_day]
            detail = {"removed": raw_day}
            fields = {}
        elif section == "gemeenten":
            municipalities, problem = chosen_municipalities(values.get("jeugdregio", ""), values.get("gemeenten", []))
            if problem:
                errors["gemeenten"] = problem
            existing = {m["cbs_code"]: m for m in document["municipalities"]}
            default_email = next(iter(existing.values()))["access_team_email"] if existing else ""
            document["municipalities"] = [
                existing.get(m.cbs_code) or {"cbs_code": m.cbs_code, "name": m.name, "access_team_email": default_email}
                for m in municipalities
            ]
            detail = {"municipalities": [m.cbs_code for m in municipalities]}
            fields = {"municipalities": "gemeenten"}
        else:
            raise AdminRefused({"": "Onbekend onderdeel."})
        if errors:
            raise AdminRefused(errors)
        region = await _apply(document, tenants_dir, fields=fields, clock=clock)
        await _audit(f"admin.region.{section}", region, person, detail, clock)
    return region


async def set_logo(region: Region, key: str, *, person: Person, tenants_dir: Path, detail: dict,
                   clock: Clock = system_clock) -> str | None:  # fmt: skip
    """Keep the uploaded logo's storage key in ``letters.logo``; returns the key of the logo it replaces."""
    async with write_transaction():
        document = await _document(region, tenants_dir)
        previous = document["letters"].get("logo")
        document["letters"]["logo"] = key
        region = await _apply(document, tenants_dir, fields={"letters": "logo"}, clock=clock)
        await _audit("admin.region.logo", region, person, {**detail, "key": key}, clock)
    return previous


async def import_region(content: bytes, file_name: str, *, person: Person, tenants_dir: Path,
                        clock: Clock = system_clock) -> tuple[Region, bool]:  # fmt: skip
    """A region file uploaded on the admin pages: checked like ``tenants/`` and applied whole, or not at all.
    Returns the region and whether it was new. A region that comes from ``tenants/`` cannot be replaced here."""
    result = check_region_file(content, file_name, tenants_dir)
    if result.problems or not result.regions:
        raise AdminRefused({"bestand": "Het bestand is niet ingelezen; er is niets veranderd."}, result.problems)
    loaded = result.regions[0]
    async with write_transaction():
        existing = await Region.objects().where(Region.slug == loaded.region.slug).first()
        if existing is not None and not is_managed_here(existing):
            raise AdminRefused({"bestand": f"De regio ‘{loaded.region.slug}’ komt uit {existing.source_file}. Wijzig "
                                           "dat bestand in tenants/; importeren kan hier niet."})  # fmt: skip
        loaded.file = MANAGED_IN_ADMIN
        try:
            await apply_region(loaded, clock=clock)
        except SyncRefused as exc:
            raise AdminRefused(
                {"bestand": "Het bestand is niet ingelezen; er is niets veranderd."}, exc.problems
            ) from None
        region = await Region.objects().where(Region.slug == loaded.region.slug).first()
        await _audit("admin.region.import", region, person,
                     {"file": file_name, "new": existing is None, "sha256": loaded.sha256}, clock)  # fmt: skip
    return region, existing is None


async def record_export(region: Region, *, person: Person, clock: Clock = system_clock) -> None:
    async with write_transaction():
        await _audit("admin.region.export", region, person, {}, clock)


async def add_contract(region: Region, values: dict[str, Any], *, person: Person,
                       clock: Clock = system_clock) -> Contract:  # fmt: skip
    """A provider's contract with the region (a provider unknown to Trede is added by its KvK number), so that
    signals about it can be filed and escalations opened."""
    errors: dict[str, str] = {}
    kvk = values.get("kvk", "").strip()
    name = values.get("aanbieder_naam", "").strip()
    reference = values.get("contract_kenmerk", "").strip()
    if not re.match(r"^\d{8}$", kvk):
        errors["kvk"] = "Een KvK-nummer heeft 8 cijfers, bijvoorbeeld 90000001."
    if not reference or len(reference) > 80:
        errors["contract_kenmerk"] = (
            "Vul het kenmerk van het contract in (ten hoogste 80 tekens), bijvoorbeeld DVO-2026-014."
        )
    elif control_character(reference):
        errors["contract_kenmerk"] = f"Het kenmerk {ONE_LINE_NL}."
    if control_character(name):
        errors["aanbieder_naam"] = f"De naam van de aanbieder {ONE_LINE_NL}."
    try:
        valid_from = date.fromisoformat(values.get("ingangsdatum", "").strip())
    except ValueError:
        valid_from = None
        errors["ingangsdatum"] = "Vul een datum in als jjjj-mm-dd."
    scope = RegionScope(region.id)
    async with write_transaction():
        provider = await Provider.objects().where(Provider.kvk_number == kvk).first() if not errors.get("kvk") else None
        if provider is None and not errors.get("kvk") and not name:
            errors["aanbieder_naam"] = f"Trede kent KvK-nummer {kvk} nog niet: vul de naam van de aanbieder in."
        if reference and await scope.exists(Contract).where(Contract.reference == reference):
            errors["contract_kenmerk"] = f"Er is al een contract met kenmerk ‘{reference}’ in deze regio."
        if errors:
            raise AdminRefused(errors)
        if provider is None:
            provider = Provider(kvk_number=kvk, name=name[:200])
            await provider.save()
        contract = scope.new(Contract, provider=provider.id, reference=reference, kind="dvo", valid_from=valid_from)
        await contract.save()
        await _audit("admin.region.contract", region, person,
                     {"kvk": kvk, "provider": provider.name, "reference": reference,
                      "valid_from": valid_from.isoformat()}, clock)  # fmt: skip
    return contract


CONTRACTS_PAGE = 50
CONTRACT_ORDER = [keyset.Segment("c", None, [(Contract.reference, True)])]  # unique per region: (region, reference)


async def contracts_of(region: Region, *, after: str = "", before: str = "") -> dict:
    """One page of the region's contracts by reference (keyset on the unique index), and how many there are, counted
    up to 1,000: a region with thousands of contracts costs what the page shows."""
    scope = RegionScope(region.id)
    page = await keyset.first_page_if_stale(keyset.select_fetch(lambda: scope.select(
        Contract, Contract.reference, Contract.valid_from, Contract.valid_until,
        Contract.provider.name.as_alias("provider_name"), Contract.provider.kvk_number.as_alias("kvk"),
    )), CONTRACT_ORDER, CONTRACTS_PAGE, after=after, before=before)  # fmt: skip
    count, capped = await keyset.capped_rows(scope, Contract)
    return {"rows": page.rows, "next": page.next, "previous": page.previous, "count_nl": keyset.count_nl(count, capped)}
