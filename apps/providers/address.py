"""A provider's postal address: where the region's letters go by post (issue 16 point 2). The region team that has
a contract with the provider, or the provider's own admin in the portal, sets it; each change is audited.

The provider record is global (one organisation, several regions), so a region may change it only while it has a
contract with that provider; the portal changes only the signed-in organisation's own record."""

from __future__ import annotations

import re
from dataclasses import dataclass
from uuid import UUID

from apps.providers.tables import Contract, Provider
from core.audit import audit
from core.clock import Clock, system_clock
from core.tenancy import RegionScope
from core.text import ONE_LINE_NL, control_character

POSTCODE = re.compile(r"^([1-9][0-9]{3}) ?([A-Za-z]{2})$")
# Letter pairs PostNL never gives out (SA, SD and SS are not used)
NOT_ISSUED = {"SA", "SD", "SS"}
FIELDS = {"straat": "postal_street", "postcode": "postal_code", "plaats": "postal_city"}


class AddressError(Exception):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class PostalAddress:
    street: str  # street and house number
    postcode: str  # "1234 AB"
    city: str

    @property
    def complete(self) -> bool:
        return bool(self.street and self.postcode and self.city)


def normal_postcode(value: str) -> str | None:
    """A Dutch postcode as ``1234 AB`` (four digits, not starting with 0, and two letters), or None."""
    found = POSTCODE.match(value.strip())
    if not found or found.group(2).upper() in NOT_ISSUED:
        return None
    return f"{found.group(1)} {found.group(2).upper()}"


def check_address(values: dict[str, str]) -> PostalAddress:
    """The form's street and number, postcode and city, checked; ``AddressError`` with Dutch messages per field
    (``straat``, ``postcode``, ``plaats``). All three empty clears the address."""
    street, code, city = (str(values.get(k) or "").strip() for k in ("straat", "postcode", "plaats"))
    if not (street or code or city):
        return PostalAddress("", "", "")
    errors: dict[str, str] = {}
    if not street:
        errors["straat"] = "Vul de straat en het huisnummer in, bijvoorbeeld ‘Voorbeeldstraat 12 A’."
    elif control_character(street):
        errors["straat"] = f"De straat {ONE_LINE_NL}."
    elif len(street) > 200:
        errors["straat"] = "De straat en het huisnummer zijn samen te lang (hoogstens 200 tekens)."
    elif not re.search(r"\d", street):
        errors["straat"] = "Vul ook het huisnummer in, bijvoorbeeld ‘Voorbeeldstraat 12 A’ of ‘Postbus 123’."
    postcode = normal_postcode(code)
    if not code:
        errors["postcode"] = "Vul de postcode in, bijvoorbeeld ‘1234 AB’."
    elif postcode is None:
        errors["postcode"] = (
            f"‘{code}’ is geen Nederlandse postcode: schrijf vier cijfers en twee letters, zoals ‘1234 AB’."
        )
    if not city:
        errors["plaats"] = "Vul de plaats in."
    elif control_character(city):
        errors["plaats"] = f"De plaats {ONE_LINE_NL}."
    elif len(city) > 100:
        errors["plaats"] = "De plaatsnaam is te lang (hoogstens 100 tekens)."
    if errors:
        raise AddressError(errors)
    return PostalAddress(street, postcode or "", city)


def address_of(provider: Provider) -> PostalAddress:
    return PostalAddress(provider.postal_street or "", provider.postal_code or "", provider.postal_city or "")


async def region_may_edit(region_id: UUID, provider_id: UUID) -> bool:
    """A region changes a provider's record only while it has a contract (also an ended one) with it."""
    return await RegionScope(region_id).exists(Contract).where(Contract.provider == provider_id)


async def set_address(
    provider_id: UUID,
    values: dict[str, str],
    *,
    actor_id: UUID | None,
    actor_label: str,
    region_id: UUID | None = None,
    clock: Clock = system_clock,
) -> PostalAddress:
    """Check and store the postal address; audited as ``provider.address`` (in the region that changed it, or
    without a region when the provider's admin did)."""
    address = check_address(values)
    await Provider.update({
        Provider.postal_street: address.street, Provider.postal_code: address.postcode,
        Provider.postal_city: address.city,
    }).where(Provider.id == provider_id)  # fmt: skip
    await audit(
        "provider.address", region_id=region_id, actor_id=actor_id, actor_label=actor_label, target_type="provider",
        target_id=str(provider_id), detail={"straat": address.street, "postcode": address.postcode,
                                             "plaats": address.city}, clock=clock,
    )  # fmt: skip
    return address
