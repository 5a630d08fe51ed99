"""The provider portal (/portaal): home, escalation page with upload and messages, the evidence register.

Everything a provider user reads goes through ``ProviderScope``; uploads stream into object storage
(``apps.documents.uploads``) on routes with their own body limit (``portal_routers``) and their own CSRF check.
Forms work without JavaScript (post, then redirect); htmx only makes the message box swap in place.
"""

from __future__ import annotations

from uuid import UUID

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Controller, Request, Router, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from apps.accounts.guards import PERSON, requires
from apps.accounts.ratelimit import rate_limit
from apps.accounts.roles import PROVIDER_ROLES
from apps.documents import services as documents
from apps.documents.uploads import FORM_OVERHEAD, CsrfRejected, UploadRejected, discard, receive_upload
from apps.escalations import services as escalations
from apps.escalations.context import EscalationError
from apps.escalations.tables import Escalation
from apps.evidence import services as evidence
from apps.portal import views
from apps.providers.tables import Provider
from core.clock import system_clock
from core.tenancy import ProviderScope

PORTAL_GUARD = requires(*PROVIDER_ROLES)
UPLOAD_OPT = {"exclude_from_csrf": True}  # checked while streaming, see apps.documents.uploads


async def portal_context(request: Request) -> tuple[ProviderScope, object]:
    """The provider scope and actor of the signed-in provider user (404 if they have no provider role)."""
    person = request.scope["state"][PERSON]
    provider_id = views.current_provider(person)
    if provider_id is None:
        raise NotFoundException()
    return await ProviderScope.for_provider(provider_id), person.provider_actor(provider_id)


def keep_csrf_token(request: Request) -> None:
    """Upload routes are outside the CSRF middleware; a page rendered from them still needs the visitor's token."""
    from litestar.utils.scope.state import ScopeState

    token = request.cookies.get("csrftoken")
    if token:
        ScopeState.from_scope(request.scope).csrf_token = token


def take_flash(request: Request) -> str:
    session = dict(request.session or {})
    message = session.pop("flash", "")
    if message:
        request.set_session(session)
    return message


def set_flash(request: Request, message: str) -> None:
    request.set_session({**(request.session or {}), "flash": message})


async def _escalation(scope: ProviderScope, escalation_id: UUID) -> Escalation:
    escalation = await scope.get(Escalation, escalation_id)
    if escalation is None:
        raise NotFoundException()
    return escalation


async def _provider_name(scope: ProviderScope) -> str:
    provider = await Provider.objects().where(Provider.id == scope.provider_id).first()
    return provider.name if provider else ""


async def escalation_template(
    request: Request,
    scope: ProviderScope,
    escalation: Escalation,
    *,
    errors: dict | None = None,
    values: dict | None = None,
    status_code: int = 200,
    block: str | None = None,
) -> Template:
    context = {
        **(await views.escalation_page(scope, escalation)),
        "errors": errors or {},
        "values": values or {},
        "flash": take_flash(request) if status_code == 200 and block is None else "",
        "max_size": documents.human_size(request.app.state.settings.upload_max_bytes),
    }
    if block is not None:
        return HTMXBlockTemplate(
            template_name="portaal/escalatie.html", block_name=block, context=context, status_code=status_code
        )
    return Template("portaal/escalatie.html", context=context, status_code=status_code)


async def evidence_template(
    request: Request, scope: ProviderScope, *, errors: dict | None = None, values: dict | None = None,
    status_code: int = 200,
) -> Template:  # fmt: skip
    return Template(
        "portaal/bewijs.html",
        context={
            "provider_name": await _provider_name(scope),
            "items": await views.evidence_register(scope),
            "kinds": evidence.KINDS,
            "errors": errors or {},
            "values": values or {},
            "flash": take_flash(request) if status_code == 200 else "",
            "warn_days": evidence.WARN_DAYS,
            "max_size": documents.human_size(request.app.state.settings.upload_max_bytes),
        },
        status_code=status_code,
    )


class PortalController(Controller):
    path = "/portaal"
    include_in_schema = False
    guards = [PORTAL_GUARD]

    @get("/")
    async def home(self, request: Request) -> Template:
        scope, _ = await portal_context(request)
        return Template(
            "portaal/home.html",
            context={
                "provider_name": await _provider_name(scope),
                "escalations": await views.open_escalations(scope),
                "measures": await views.active_measures(scope),
                "expiring": await views.expiring_evidence(scope),
                "warn_days": evidence.WARN_DAYS,
            },
        )

    @get("/escalaties/{escalation_id:uuid}")
    async def escalation(self, request: Request, escalation_id: FromPath[UUID]) -> Template:
        scope, _ = await portal_context(request)
        return await escalation_template(request, scope, await _escalation(scope, escalation_id))

    @post("/escalaties/{escalation_id:uuid}/berichten", status_code=HTTP_303_SEE_OTHER)
    async def message(self, request: Request, escalation_id: FromPath[UUID]) -> Response:
        scope, actor = await portal_context(request)
        escalation = await _escalation(scope, escalation_id)
        form = await request.form()
        text = str(form.get("tekst") or "")
        htmx = request.headers.get("hx-request") == "true"
        try:
            await escalations.post_message(scope.region_scope(escalation.region), escalation.id, actor=actor, text=text)
        except EscalationError as exc:
            return await escalation_template(
                request, scope, escalation, errors={"tekst": str(exc)}, values={"tekst": text},
                status_code=200 if htmx else 422, block="berichten" if htmx else None,
            )  # fmt: skip
        if htmx:
            return await escalation_template(request, scope, escalation, block="berichten")
        set_flash(request, "Uw bericht is geplaatst.")
        return Redirect(f"/portaal/escalaties/{escalation.id}#berichten", status_code=HTTP_303_SEE_OTHER)

    @get("/bewijs")
    async def evidence_register(self, request: Request) -> Template:
        scope, _ = await portal_context(request)
        return await evidence_template(request, scope)

    @get("/documenten/{document_id:uuid}")
    async def download(self, request: Request, document_id: FromPath[UUID]) -> Response:
        from apps.documents.controllers import download_response
        from apps.documents.tables import Document

        scope, _ = await portal_context(request)
        document = await scope.get(Document, document_id)
        if document is None:
            raise NotFoundException()
        return download_response(request, document.object_key, document.original_filename, document.content_type,
                                 document.size)  # fmt: skip

    @get("/bewijs/{evidence_id:uuid}/bestand")
    async def evidence_file(self, request: Request, evidence_id: FromPath[UUID]) -> Response:
        from apps.documents.controllers import download_response

        scope, _ = await portal_context(request)
        item = await evidence.provider_item(scope.provider_id, evidence_id)
        if item is None or not item.object_key:
            raise NotFoundException()
        return download_response(request, item.object_key, item.original_filename, item.content_type, item.size)


def _kind_check(fields: dict[str, str]) -> None:
    try:
        documents.check_kind(fields.get("soort", ""))
    except EscalationError as exc:
        raise UploadRejected("soort", str(exc)) from None


class PortalUploadController(Controller):
    """Routes that take a file: streamed, with the body limit of ``portal_routers`` and their own CSRF check."""

    include_in_schema = False
    guards = [PORTAL_GUARD, rate_limit("upload")]

    @post("/escalaties/{escalation_id:uuid}/documenten", opt=UPLOAD_OPT, status_code=HTTP_303_SEE_OTHER)
    async def upload(self, request: Request, escalation_id: FromPath[UUID]) -> Response:
        keep_csrf_token(request)
        scope, actor = await portal_context(request)
        escalation = await _escalation(scope, escalation_id)
        settings, storage = request.app.state.settings, request.app.state.storage
        try:
            form = await receive_upload(
                request, storage, max_bytes=settings.upload_max_bytes, secret=settings.secret_key,
                key_prefix="documents", on_fields=_kind_check,
            )  # fmt: skip
        except CsrfRejected:
            raise PermissionDeniedException("CSRF token verification failed") from None
        except UploadRejected as exc:
            return await escalation_template(
                request, scope, escalation, errors={exc.field: exc.message}, status_code=exc.status_code
            )
        kind = form.fields.get("soort", "")
        try:
            delivery = await documents.deliver(
                scope, escalation.id, kind=kind, received=form.file, actor=actor,
                replaces=form.fields.get("vervangt") or None,
            )  # fmt: skip
        except EscalationError as exc:
            await discard(storage, form.file)
            return await escalation_template(
                request, scope, escalation, errors={"bestand": str(exc)}, values={"soort": kind}, status_code=422
            )
        except BaseException:
            await discard(storage, form.file)
            raise
        label = documents.KIND_LABELS[kind]
        message = f"Uw {label} ({form.file.original_filename}) is ontvangen."
        if delivery.met:
            message += (
                " De termijn is gehaald, maar te laat: wij hebben het document wel ontvangen en dat vastgelegd."
                if delivery.late
                else " Daarmee is de termijn op tijd gehaald."
            )
        set_flash(request, message)
        return Redirect(f"/portaal/escalaties/{escalation.id}", status_code=HTTP_303_SEE_OTHER)

    @post("/bewijs/nieuw", opt=UPLOAD_OPT, status_code=HTTP_303_SEE_OTHER)
    async def register_evidence(self, request: Request) -> Response:
        keep_csrf_token(request)
        scope, actor = await portal_context(request)
        settings, storage = request.app.state.settings, request.app.state.storage
        today = system_clock.today()

        def check(fields: dict[str, str]) -> None:
            try:
                evidence.check_input(fields, today)
            except evidence.EvidenceError as exc:
                raise UploadRejected(exc.field, exc.message) from None

        values: dict = {}
        form = None
        try:
            form = await receive_upload(
                request, storage, max_bytes=settings.upload_max_bytes, secret=settings.secret_key,
                key_prefix="evidence", file_required=False, on_fields=check,
            )  # fmt: skip
            values = form.fields
            data = evidence.check_input(form.fields, today)
            await evidence.register(
                scope.provider_id, data, actor=actor, received=form.file,
                replaces=_uuid_or_none(form.fields.get("vervangt")),
            )  # fmt: skip
        except CsrfRejected:
            raise PermissionDeniedException("CSRF token verification failed") from None
        except UploadRejected as exc:
            return await evidence_template(request, scope, errors={exc.field: exc.message}, status_code=exc.status_code)
        except evidence.EvidenceError as exc:
            await discard(storage, form.file if form else None)
            return await evidence_template(request, scope, errors={exc.field: exc.message}, values=values,
                                           status_code=422)  # fmt: skip
        except BaseException:
            await discard(storage, form.file if form else None)
            raise
        set_flash(request, f"{evidence.KINDS[data.kind]} van {data.person} is vastgelegd.")
        return Redirect("/portaal/bewijs", status_code=HTTP_303_SEE_OTHER)


def _uuid_or_none(value: str | None) -> UUID | None:
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None


def portal_routers(settings) -> list:
    """The portal's routes; the upload routes get a body limit of the largest file plus the form around it."""
    uploads = Router(
        path="/portaal",
        route_handlers=[PortalUploadController],
        request_max_body_size=settings.upload_max_bytes + FORM_OVERHEAD,
    )
    from apps.documents.controllers import RegionDocumentController
    from apps.evidence.controllers import RegionEvidenceController

    return [PortalController, uploads, RegionDocumentController, RegionEvidenceController]
