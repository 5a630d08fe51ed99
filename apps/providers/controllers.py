"""The provider's postal address pages: the region team (/regio/<slug>/aanbieders/<id>/postadres, for a provider
with a contract in the region) and the provider's admin (/portaal/gegevens). The rules are in
``apps.providers.address``."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from apps.accounts.guards import PERSON, region_role
from apps.accounts.roles import DECIDES
from apps.documents.controllers import REGION_READERS, region_scope_of
from apps.portal.controllers import ADMIN_GUARD, PORTAL_GUARD, portal_context, set_flash, take_flash
from apps.providers import address
from apps.providers.tables import Provider
from apps.tenancy.tables import Region
from core.transactions import write_transaction

SAVED = "Het postadres is opgeslagen. Nieuwe brieven gaan naar dit adres."


def _values(provider: Provider) -> dict[str, str]:
    found = address.address_of(provider)
    return {"straat": found.street, "postcode": found.postcode, "plaats": found.city}


async def _form_values(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: str(form.get(k) or "") for k in address.FIELDS}


class RegionProviderAddressController(Controller):
    path = "/regio/{region_slug:str}/aanbieders/{provider_id:uuid}/postadres"
    include_in_schema = False
    guards = [region_role(*REGION_READERS)]

    async def _provider(self, region_slug: str, provider_id: UUID) -> tuple[Region, Provider]:
        scope = await region_scope_of(region_slug)
        if not await address.region_may_edit(scope.region_id, provider_id):
            raise NotFoundException()  # no contract with this region: not the region's provider
        region = await Region.objects().where(Region.id == scope.region_id).first()
        provider = await Provider.objects().where(Provider.id == provider_id).first()
        if region is None or provider is None:
            raise NotFoundException()
        return region, provider

    def _template(self, request: Request, region: Region, provider: Provider, values: dict, errors: dict,
                  status_code: int = 200) -> Template:  # fmt: skip
        actor = request.scope["state"][PERSON].region_actor(region.id)
        return Template("aanbieder/regio_postadres.html", context={
            "region": region, "provider": provider, "values": values, "errors": errors,
            "flash": take_flash(request) if status_code == 200 else "", "may_edit": actor.has_any(DECIDES),
        }, status_code=status_code)  # fmt: skip

    @get("/")
    async def page(self, request: Request, region_slug: FromPath[str], provider_id: FromPath[UUID]) -> Template:
        region, provider = await self._provider(region_slug, provider_id)
        return self._template(request, region, provider, _values(provider), {})

    @post("/", guards=[region_role(*DECIDES)], status_code=HTTP_303_SEE_OTHER)
    async def save(self, request: Request, region_slug: FromPath[str], provider_id: FromPath[UUID]) -> Response:
        region, provider = await self._provider(region_slug, provider_id)
        values = await _form_values(request)
        person = request.scope["state"][PERSON]
        try:
            async with write_transaction():
                await address.set_address(provider.id, values, actor_id=person.user_id, actor_label=person.label,
                                          region_id=region.id)  # fmt: skip
        except address.AddressError as exc:
            return self._template(request, region, provider, values, exc.errors, status_code=422)
        set_flash(request, SAVED)
        return Redirect(f"/regio/{region.slug}/aanbieders/{provider.id}/postadres", status_code=HTTP_303_SEE_OTHER)


class PortalOrganisationController(Controller):
    """The provider's admin keeps the organisation's postal address up to date."""

    path = "/portaal/gegevens"
    include_in_schema = False
    guards = [PORTAL_GUARD, ADMIN_GUARD]

    async def _template(self, request: Request, values: dict | None = None, errors: dict | None = None,
                        status_code: int = 200) -> Template:  # fmt: skip
        scope, _ = await portal_context(request)
        provider = await Provider.objects().where(Provider.id == scope.provider_id).first()
        if provider is None:
            raise NotFoundException()
        return Template("portaal/gegevens.html", context={
            "provider": provider, "values": values if values is not None else _values(provider),
            "errors": errors or {}, "flash": take_flash(request) if status_code == 200 else "",
        }, status_code=status_code)  # fmt: skip

    @get("/")
    async def page(self, request: Request) -> Template:
        return await self._template(request)

    @post("/", status_code=HTTP_303_SEE_OTHER)
    async def save(self, request: Request) -> Response:
        scope, _ = await portal_context(request)
        values = await _form_values(request)
        person = request.scope["state"][PERSON]
        try:
            async with write_transaction():
                await address.set_address(scope.provider_id, values, actor_id=person.user_id,
                                          actor_label=person.label)  # fmt: skip
        except address.AddressError as exc:
            return await self._template(request, values, exc.errors, status_code=422)
        set_flash(request, SAVED)
        return Redirect("/portaal/gegevens", status_code=HTTP_303_SEE_OTHER)
