"""/beheer/aanbieders: the platform admin sees each provider's regions and chooses its account-holding region
(accounthoudende regio, seed 004). Thin controller; the rule is ``apps.escalations.account_region``."""

from __future__ import annotations

from urllib.parse import quote
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from apps.accounts.guards import PERSON, platform_admin
from apps.escalations.account_region import (
    AccountRegionError,
    account_region_of,
    contract_regions,
    set_account_region,
)
from apps.providers.tables import Provider
from core import keyset
from core.clock import system_clock
from core.db import contains_ignoring_case

NOTICES = {"accounthoudende_regio": "De accounthoudende regio is opgeslagen en in het auditlog vastgelegd."}
PAGE_SIZE = 50


def _search(term: str):
    """A KvK number (8 digits) exactly, otherwise a part of the name; None: every provider."""
    if not term:
        return None
    if term.isdigit() and len(term) == 8:
        return Provider.kvk_number == term
    return contains_ignoring_case(Provider.name, term)


def _clock(request: Request):
    return getattr(request.app.state, "clock", system_clock)


async def _provider(provider_id: UUID) -> Provider:
    provider = await Provider.objects().where(Provider.id == provider_id).first()
    if provider is None:
        raise NotFoundException()
    return provider


class AdminProviderController(Controller):
    path = "/beheer/aanbieders"
    include_in_schema = False
    guards = [platform_admin]

    @get("/")
    async def index(self, request: Request) -> Template:
        """Every provider of the platform (10,000 nationally), 50 a page by name (keyset), searchable."""
        term = (request.query_params.get("zoek") or "").strip()[:100]  # a NUL byte is refused at the edge
        condition = _search(term)
        fetch = keyset.select_fetch(lambda: Provider.select(Provider.id, Provider.name, Provider.kvk_number))
        segments = [keyset.Segment("n", condition, [(Provider.name, True), (Provider.id, True)])]
        after, before = keyset.cursors(request.query_params)
        found = await keyset.first_page_if_stale(fetch, segments, PAGE_SIZE, after=after, before=before)
        query = f"zoek={quote(term)}&" if term else ""
        return Template("beheer/aanbieders.html", context={"providers": found.rows, "zoek": term, "query": query,
                                                           "next": found.next, "previous": found.previous})  # fmt: skip

    @get("/{provider_id:uuid}")
    async def show(self, request: Request, provider_id: FromPath[UUID], melding: FromQuery[str] = "") -> Template:
        return await self._page(request, await _provider(provider_id), notice=NOTICES.get(melding, ""))

    async def _page(self, request: Request, provider: Provider, *, notice: str = "", error: str = "",
                    status_code: int = 200) -> Template:  # fmt: skip
        context = {"provider": provider, "regions": await contract_regions(provider),
                   "account_region": await account_region_of(provider, _clock(request)),
                   "notice": notice, "error": error}  # fmt: skip
        return Template("beheer/aanbieder.html", context=context, status_code=status_code)

    @post("/{provider_id:uuid}/accounthoudende-regio", status_code=HTTP_303_SEE_OTHER)
    async def choose(self, request: Request, provider_id: FromPath[UUID]) -> Response:
        provider = await _provider(provider_id)
        form = await request.form()
        value = form.get("regio")
        try:
            await set_account_region(provider, value.strip() if isinstance(value, str) else "",
                                     person=request.scope["state"][PERSON], clock=_clock(request))  # fmt: skip
        except AccountRegionError as exc:
            return await self._page(request, provider, error=str(exc), status_code=422)
        return Redirect(f"/beheer/aanbieders/{provider.id}?melding=accounthoudende_regio#accounthoudende-regio",
                        status_code=HTTP_303_SEE_OTHER)  # fmt: skip
