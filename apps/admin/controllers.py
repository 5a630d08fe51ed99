"""/beheer/regios: the platform admin onboards and maintains regions (thin controllers; rules in ``services``).

Forms work without JavaScript: POST, then 303 back to the region page with a notice (PRG); a refusal renders the
same page with the Dutch errors next to the fields and everything typed kept (422).
"""

from __future__ import annotations

from urllib.parse import quote

import anyio
from litestar import Controller, Request, Response, Router, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Stream, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from apps.accounts.guards import PERSON, platform_admin
from apps.accounts.invitations import InvitationError, invite, mail_states, pending_invitations
from apps.accounts.roles import LABELS as ROLE_LABELS
from apps.accounts.roles import Role
from apps.admin import services
from apps.admin.providers import AdminProviderController
from apps.documents.uploads import CsrfRejected, UploadRejected, discard, human_size, receive_upload
from apps.ladders import services as ladder_services
from apps.ladders.editor import getall
from apps.portal.controllers import keep_csrf_token
from apps.tenancy import national
from apps.tenancy.export import export_region, region_settings
from apps.tenancy.schema import MAILBOX_ROLES
from apps.tenancy.services import municipalities_on, region_by_slug, region_summaries
from apps.tenancy.tables import Region, RegionMailbox
from core import keyset
from core.clock import system_clock
from core.formatting import aantal
from core.tenancy import RegionScope

LOGO_MAX_BYTES = 512 * 1024
LOGO_TYPES = {"image/png", "image/jpeg"}
IMPORT_MAX_BYTES = 512 * 1024
SECTIONS = ("postbussen", "brieven", "kleuren", "gesloten_dagen", "gesloten_dag_weg", "gemeenten")
NOTICES = {
    "aangemaakt": "De regio is aangemaakt. Controleer de gegevens hieronder en nodig de teamleider inkoop uit.",
    "postbussen": "De postbussen zijn opgeslagen.",
    "brieven": "De briefinstellingen zijn opgeslagen.",
    "kleuren": "De kleuren zijn opgeslagen.",
    "gesloten_dagen": "De gesloten dag is toegevoegd.",
    "gesloten_dag_weg": "De gesloten dag is verwijderd.",
    "gemeenten": "De gemeenten zijn opgeslagen.",
    "logo": "Het logo is opgeslagen.",
    # Said when the invitation is written: the mail is handed to the worker then, not yet sent.
    "uitgenodigd": "De uitnodiging is aangemaakt en de e-mail staat klaar om te versturen; bij de openstaande "
                   "uitnodigingen ziet u of hij verstuurd is.",
    "geimporteerd": "Het bestand is ingelezen.",
    "contract": "Het contract is vastgelegd.",
}


def _clock(request: Request):
    return getattr(request.app.state, "clock", system_clock)


def _person(request: Request):
    return request.scope["state"][PERSON]


async def _region(slug: str) -> Region:
    region = await region_by_slug(slug)
    if region is None:
        raise NotFoundException()
    return region


def _form_values(form) -> dict:
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    values["gemeenten"] = [v for v in getall(form, "gemeenten") if isinstance(v, str) and v]
    return values


def _youth_regions() -> list[tuple[str, str]]:
    return [("", "Geen: ik kies gemeenten")] + [
        (code, f"{r.name} ({aantal(len(r.municipalities), 'gemeente', 'gemeenten')})")
        for code, r in national.youth_regions().items()
    ]


async def region_page(request: Request, region: Region, *, errors: dict | None = None, values: dict | None = None,
                      problems: list | None = None, notice: str = "", status_code: int = 200) -> Template:  # fmt: skip
    scope = RegionScope(region.id)
    settings = region_settings(region)
    mailboxes = {row["role"]: row["email"] for row in await scope.select(RegionMailbox, RegionMailbox.role,
                                                                         RegionMailbox.email)}  # fmt: skip
    today = _clock(request).today()
    municipalities = await municipalities_on(scope, today)
    after, before = keyset.cursors(request.query_params)
    tenants_dir = request.app.state.settings.tenants_dir
    return Template("beheer/regio.html", status_code=status_code, context={
        "region": region, "managed_here": services.is_managed_here(region), "settings": settings,
        "letters": settings.get("letters", {}), "theme": settings.get("theme", {}),
        "closed_days": settings.get("calendar", {}).get("extra_closed_days", []),
        "mailboxes": mailboxes, "mailbox_roles": MAILBOX_ROLES, "mailbox_labels": services.MAILBOX_LABELS,
        "municipalities": municipalities, "ladders": await ladder_services.region_ladders(scope),
        "all_municipalities": national.municipalities(), "youth_regions": _youth_regions(),
        "chosen_codes": {m.cbs_code for m in municipalities}, "theme_fields": services.THEME_FIELDS,
        "errors": errors or {}, "values": values or {}, "problems": problems or [], "notice": notice,
        "templates": services.template_options(tenants_dir), "logo_max": human_size(LOGO_MAX_BYTES),
        "contracts": await services.contracts_of(region, after=after, before=before),
        "invitations": await _open_invitations(region), "role_labels": ROLE_LABELS,
    })  # fmt: skip


class AdminRegionController(Controller):
    path = "/beheer/regios"
    include_in_schema = False
    guards = [platform_admin]

    @get("/")
    async def index(self, request: Request, melding: FromQuery[str] = "") -> Template:
        return await _index(request, notice=NOTICES.get(melding, ""))

    @get("/nieuw")
    async def new(self, request: Request) -> Template:
        return _new_form(request, values={}, errors={})

    @post("/nieuw", status_code=HTTP_303_SEE_OTHER)
    async def create(self, request: Request) -> Response:
        values = _form_values(await request.form())
        try:
            region = await services.create_region(values, person=_person(request), clock=_clock(request),
                                                  tenants_dir=request.app.state.settings.tenants_dir)  # fmt: skip
        except services.AdminRefused as exc:
            return _new_form(request, values=values, errors=exc.errors, problems=exc.problems, status_code=422)
        return Redirect(f"/beheer/regios/{region.slug}?melding=aangemaakt", status_code=HTTP_303_SEE_OTHER)

    @get("/{slug:str}")
    async def show(self, request: Request, slug: FromPath[str], melding: FromQuery[str] = "") -> Template:
        return await region_page(request, await _region(slug), notice=NOTICES.get(melding, ""))

    @get("/{slug:str}/export.toml")
    async def export(self, request: Request, slug: FromPath[str]) -> Response:
        region = await _region(slug)
        content = await export_region(region.slug, request.app.state.settings.tenants_dir)
        await services.record_export(region, person=_person(request), clock=_clock(request))
        return Response(content, media_type="application/toml; charset=utf-8", headers={
            "content-disposition": f"attachment; filename=\"{region.slug}.toml\""})  # fmt: skip

    @post("/{slug:str}/uitnodigen", status_code=HTTP_303_SEE_OTHER)
    async def invite(self, request: Request, slug: FromPath[str]) -> Response:
        region = await _region(slug)
        values = _form_values(await request.form())
        try:
            await invite(email=values.get("uitnodiging_email", ""), role=Role.INKOOP_LEAD, invited_by=_person(request),
                         region_id=region.id, clock=_clock(request),
                         base_url=request.app.state.settings.base_url)  # fmt: skip
        except InvitationError as exc:
            return await region_page(request, region, errors={"uitnodiging_email": exc.message}, values=values,
                                     status_code=422)  # fmt: skip
        return Redirect(f"/beheer/regios/{region.slug}?melding=uitgenodigd#uitnodigen", status_code=HTTP_303_SEE_OTHER)

    @post("/{slug:str}/contracten", status_code=HTTP_303_SEE_OTHER)
    async def contract(self, request: Request, slug: FromPath[str]) -> Response:
        region = await _region(slug)
        values = _form_values(await request.form())
        try:
            await services.add_contract(region, values, person=_person(request), clock=_clock(request))
        except services.AdminRefused as exc:
            return await region_page(request, region, errors=exc.errors, values=values, status_code=422)
        return Redirect(f"/beheer/regios/{region.slug}?melding=contract#contracten", status_code=HTTP_303_SEE_OTHER)

    @post("/{slug:str}/{section:str}", status_code=HTTP_303_SEE_OTHER)
    async def update(self, request: Request, slug: FromPath[str], section: FromPath[str]) -> Response:
        region = await _region(slug)
        if section not in SECTIONS:
            raise NotFoundException()
        values = _form_values(await request.form())
        try:
            await services.update_region(region, section, values, person=_person(request), clock=_clock(request),
                                         tenants_dir=request.app.state.settings.tenants_dir)  # fmt: skip
        except services.AdminRefused as exc:
            return await region_page(request, region, errors=exc.errors, values=values, problems=exc.problems,
                                     status_code=422)  # fmt: skip
        return Redirect(f"/beheer/regios/{region.slug}?melding={section}#{section}", status_code=HTTP_303_SEE_OTHER)


async def _open_invitations(region: Region) -> list:
    pending = list(await pending_invitations(region_id=region.id))
    states = await mail_states(pending, region_id=region.id)
    return [{"email": i.email, "role": i.role, "expires_at": i.expires_at, "mail": states.get(i.id, "")}
            for i in pending]  # fmt: skip


def _image_type(storage, key: str) -> str:
    head = next(iter(storage.open(key)), b"")
    return "image/png" if head.startswith(b"\x89PNG") else "image/jpeg"


async def _index(request: Request, *, notice: str = "", errors: dict | None = None, problems: list | None = None,
                 status_code: int = 200) -> Template:  # fmt: skip
    regions = await Region.objects().order_by(Region.name)
    found = await region_summaries(regions, _clock(request).today())  # three queries for all regions
    regions = [
        {"region": region, "managed_here": services.is_managed_here(region), "municipalities": found[region.id][0],
         "ladders": found[region.id][1]}
        for region in regions
    ]  # fmt: skip
    return Template("beheer/regios.html", status_code=status_code, context={
        "regions": regions, "notice": notice, "errors": errors or {}, "problems": problems or [],
        "import_max": human_size(IMPORT_MAX_BYTES)})  # fmt: skip


def _new_form(request: Request, *, values: dict, errors: dict, problems: list | None = None,
              status_code: int = 200) -> Template:  # fmt: skip
    tenants_dir = request.app.state.settings.tenants_dir
    needs = {name: services.roles_needed(spec) for name, spec in services.templates(tenants_dir).items()}
    return Template("beheer/nieuw.html", status_code=status_code, context={
        "values": values, "errors": errors, "problems": problems or [],
        "templates": services.template_options(tenants_dir), "needs": needs,
        "youth_regions": _youth_regions(), "all_municipalities": national.municipalities(),
        "chosen_codes": set(values.get("gemeenten", [])), "mailbox_roles": MAILBOX_ROLES,
        "mailbox_labels": services.MAILBOX_LABELS,
    })  # fmt: skip


UPLOAD_OPT = {"exclude_from_csrf": True}  # the token is checked while streaming (apps.documents.uploads)


class AdminUploadController(Controller):
    """Files on the admin pages: the letter logo (an image, streamed to storage) and a region file to import."""

    include_in_schema = False
    guards = [platform_admin]

    @get("/{slug:str}/logo")
    async def logo(self, request: Request, slug: FromPath[str]) -> Stream:
        region = await _region(slug)
        key = region_settings(region).get("letters", {}).get("logo")
        storage = request.app.state.storage
        if not key or not await anyio.to_thread.run_sync(storage.exists, key):
            raise NotFoundException()
        media_type = _image_type(storage, key)
        return Stream(storage.open(key), media_type=media_type, headers={"cache-control": "private, no-store"})

    @post("/{slug:str}/logo", opt=UPLOAD_OPT, status_code=HTTP_303_SEE_OTHER)
    async def upload_logo(self, request: Request, slug: FromPath[str]) -> Response:
        region = await _region(slug)
        _keep_csrf_token(request)
        settings, storage = request.app.state.settings, request.app.state.storage
        try:
            form = await receive_upload(request, storage, max_bytes=LOGO_MAX_BYTES, secret=settings.secret_key,
                                        file_fields=("logo",), key_prefix="logos")  # fmt: skip
        except CsrfRejected:
            raise PermissionDeniedException("CSRF token verification failed") from None
        except UploadRejected as exc:
            message = exc.message
            if exc.status_code == 415:
                message = "Een logo is een afbeelding: PNG of JPEG."
            return await region_page(request, region, errors={"logo": message}, status_code=exc.status_code)
        if form.file.content_type not in LOGO_TYPES:  # PDF and Office files pass the shared sniffer, not here
            await discard(storage, form.file)
            return await region_page(request, region, errors={"logo": "Een logo is een afbeelding: PNG of JPEG."},
                                     status_code=415)  # fmt: skip
        try:
            previous = await services.set_logo(region, form.file.key, person=_person(request), clock=_clock(request),
                                               tenants_dir=settings.tenants_dir, detail={
                                                   "file": form.file.original_filename, "size": form.file.size,
                                                   "sha256": form.file.sha256})  # fmt: skip
        except services.AdminRefused as exc:
            await discard(storage, form.file)
            return await region_page(request, region, errors={"logo": " ".join(exc.errors.values())}, status_code=422)
        except BaseException:
            await discard(storage, form.file)
            raise
        if previous and previous != form.file.key:
            await anyio.to_thread.run_sync(storage.delete, previous)
        return Redirect(f"/beheer/regios/{region.slug}?melding=logo#brieven", status_code=HTTP_303_SEE_OTHER)

    @post("/importeren", status_code=HTTP_303_SEE_OTHER)
    async def import_file(self, request: Request) -> Response:
        form = await request.form()
        upload = form.get("bestand")
        if upload is None or isinstance(upload, str) or not upload.filename:
            return await _index(request, errors={"bestand": "Kies een regiobestand (.toml)."}, status_code=422)
        content = await upload.read(IMPORT_MAX_BYTES + 1)
        if len(content) > IMPORT_MAX_BYTES:
            too_large = f"Het bestand is te groot (ten hoogste {human_size(IMPORT_MAX_BYTES)})."
            return await _index(request, errors={"bestand": too_large}, status_code=413)
        try:
            region, _ = await services.import_region(content, upload.filename, person=_person(request),
                                                     clock=_clock(request),
                                                     tenants_dir=request.app.state.settings.tenants_dir)  # fmt: skip
        except services.AdminRefused as exc:
            return await _index(request, errors=exc.errors, problems=exc.problems, status_code=422)
        return Redirect(f"/beheer/regios/{quote(region.slug)}?melding=geimporteerd", status_code=HTTP_303_SEE_OTHER)


def _keep_csrf_token(request: Request) -> None:
    keep_csrf_token(request)


class RegionThemeController(Controller):
    """/regio/{slug}/thema.css: the region's colours as NL Design System tokens (public: colours are no secret,
    and the CSP forbids inline styles)."""

    include_in_schema = False

    @get("/regio/{region_slug:str}/thema.css", opt={"public": True, "skip_session": True})
    async def theme(self, region_slug: FromPath[str]) -> Response:
        region = await region_by_slug(region_slug)
        theme = (region_settings(region).get("theme") or {}) if region else {}
        return Response(theme_css(theme), media_type="text/css",
                        headers={"cache-control": "public, max-age=300"})  # fmt: skip


def theme_css(theme: dict) -> str:
    """Only colours that passed the schema's check (#rrggbb, contrast with white) reach this CSS."""
    import re

    lines = ["/* The region's colours (beheer/regios); checked for WCAG AA contrast with white. */"]
    primary, accent = theme.get("primary"), theme.get("accent")
    tokens = []
    if primary and re.match(r"^#[0-9a-fA-F]{6}$", primary):
        tokens += [f"--utrecht-button-primary-action-background-color: {primary};",
                   f"--utrecht-button-primary-action-border-color: {primary};",
                   f"--utrecht-link-color: {primary};", f"--utrecht-link-visited-color: {primary};"]  # fmt: skip
    if accent and re.match(r"^#[0-9a-fA-F]{6}$", accent):
        tokens += [f"--trede-region-accent: {accent};"]
    if tokens:
        lines.append(".utrecht-theme {\n  " + "\n  ".join(tokens) + "\n}")
    if accent and re.match(r"^#[0-9a-fA-F]{6}$", accent):
        lines.append(".trede-header, .trede-region-nav { border-color: var(--trede-region-accent); }")
    return "\n".join(lines) + "\n"


def admin_routers() -> list:
    uploads = Router(path="/beheer/regios", route_handlers=[AdminUploadController],
                     request_max_body_size=LOGO_MAX_BYTES + 1024 * 1024)  # fmt: skip
    return [AdminRegionController, uploads, RegionThemeController, AdminProviderController]
