"""The provider portal (/portaal): home, escalation page with upload and messages, the evidence register.

Everything a provider user reads goes through ``ProviderScope``; uploads stream into object storage
(``apps.documents.uploads``) on routes with their own body limit (``portal_routers``) and their own CSRF check.
Forms work without JavaScript (post, then redirect); htmx only makes the message box swap in place.
"""

from __future__ import annotations

from uuid import UUID

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Controller, Request, Router, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from apps.accounts import invitations
from apps.accounts.guards import PERSON, current_person, declares_access, requires
from apps.accounts.invitation_pages import InvitationController
from apps.accounts.ratelimit import rate_limit
from apps.accounts.roles import PROVIDER_ROLES, Role
from apps.documents import services as documents
from apps.documents.controllers import RegionDocumentController, download_response
from apps.documents.tables import Document
from apps.documents.uploads import FORM_OVERHEAD, CsrfRejected, UploadRejected, discard, receive_upload
from apps.escalations import services as escalations
from apps.escalations.context import EscalationError
from apps.escalations.dispute_views import dispute_view
from apps.escalations.letter_receipts import NOT_FOUND, acknowledge
from apps.escalations.tables import Escalation
from apps.evidence import deliveries
from apps.evidence import services as evidence
from apps.evidence.controllers import RegionEvidenceController
from apps.portal import archive, views
from apps.portal import colleagues as team
from apps.providers.tables import Provider
from core import keyset
from core.clock import system_clock
from core.security import current_csrf_token
from core.tenancy import ProviderScope

PORTAL_GUARD = requires(*PROVIDER_ROLES)
UPLOAD_OPT = {"exclude_from_csrf": True}  # checked while streaming, see apps.documents.uploads


async def portal_context(request: Request) -> tuple[ProviderScope, object]:
    """The provider scope and actor of the signed-in provider user in the active organisation (404 if they have no
    provider role). Also puts the active organisation in the request state for the portal's navigation."""
    person = request.scope["state"][PERSON]
    provider_id = views.current_provider(person, request.session)
    if provider_id is None:
        raise NotFoundException()
    request.scope["state"]["portal_organisation"] = await views.organisations_of(person, provider_id)
    return await ProviderScope.for_provider(provider_id), person.provider_actor(provider_id)


def active_provider_role(*roles: Role):
    """Guard: the person holds one of ``roles`` in the portal's active organisation; otherwise 403 (they do work
    there, so the page exists for them, they just may not use it)."""
    wanted = frozenset(roles)

    @declares_access(f"holds one of {sorted(wanted)} in the active provider organisation")
    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        person = await current_person(connection)
        if person is None:
            raise NotAuthorizedException("Log in om verder te gaan.")
        provider_id = views.current_provider(person, connection.scope.get("session"))
        if provider_id is None:
            raise NotFoundException()
        if not person.provider_roles.get(provider_id, frozenset()) & wanted:
            raise PermissionDeniedException("Alleen een beheerder van uw organisatie kan dit.")

    return guard


ADMIN_GUARD = active_provider_role(Role.AANBIEDER_BEHEERDER)


def keep_csrf_token(request: Request) -> None:
    """Upload routes are outside the CSRF middleware; a page rendered from them still needs the visitor's token."""
    from litestar.utils.scope.state import ScopeState

    key = request.app.state.settings.secret_key
    ScopeState.from_scope(request.scope).csrf_token = current_csrf_token(request, key)


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


async def _dispute(request: Request, scope: ProviderScope, escalation: Escalation) -> dict:
    """A dispute about one case: the provider's side of it (``geschil/_geschil.html``), else nothing."""
    if not escalation.case_municipality:
        return {}
    actor = request.scope["state"][PERSON].provider_actor(scope.provider_id)
    return await dispute_view(scope, escalation.id, actor, f"/portaal/geschillen/{escalation.id}",
                              document_url="/portaal/documenten", with_timeline=False)  # fmt: skip


OOB_BLOCKS = ["feiten", "gevraagd"]  # blocks of portaal/escalatie.html an htmx answer also brings, out of band


async def escalation_template(
    request: Request,
    scope: ProviderScope,
    escalation: Escalation,
    *,
    errors: dict | None = None,
    values: dict | None = None,
    status_code: int = 200,
    block: str | None = None,
    oob: bool = False,
) -> Template:
    """The escalation page, or with ``block`` only that block (htmx); ``oob`` adds the page's status and "what the
    region asks" blocks, swapped out of band, so that after an action everything shown is of now."""
    context = {
        **(await views.escalation_page(scope, escalation, getattr(request.app.state, "clock", None) or system_clock)),
        **(await _dispute(request, scope, escalation)),
        "errors": errors or {},
        "values": values or {},
        "flash": take_flash(request) if status_code == 200 and block is None else "",
        "max_size": documents.human_size(request.app.state.settings.upload_max_bytes),
    }
    if block is not None:
        return HTMXBlockTemplate(
            template_name="portaal/escalatie.html", block_names=[block, *(OOB_BLOCKS if oob else [])],
            context={**context, "oob": oob}, status_code=status_code,
        )  # fmt: skip
    return Template("portaal/escalatie.html", context=context, status_code=status_code)


async def evidence_template(
    request: Request, scope: ProviderScope, *, errors: dict | None = None, values: dict | None = None,
    status_code: int = 200,
) -> Template:  # fmt: skip
    after, before = keyset.cursors(request.query_params)
    register = await views.evidence_register(scope, after=after, before=before)
    return Template(
        "portaal/bewijs.html",
        context={
            "provider_name": await _provider_name(scope),
            "items": register["rows"],
            "next": register["next"],
            "previous": register["previous"],
            "kinds": evidence.KINDS,
            "escalation_choices": await views.evidence_escalations(scope),
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
        page = await views.open_escalations(scope, after=str(request.query_params.get("na") or "")[:300],
                                            before=str(request.query_params.get("voor") or "")[:300])  # fmt: skip
        return Template(
            "portaal/home.html",
            context={
                "provider_name": await _provider_name(scope),
                "escalations": page["rows"],
                "escalations_next": page["next"],
                "escalations_previous": page["previous"],
                "measures": await views.active_measures(scope),
                "expiring": await views.expiring_evidence(scope),
                "warn_days": evidence.WARN_DAYS,
                "flash": take_flash(request),
            },
        )

    @get("/archief")
    async def archive(self, request: Request) -> Template:
        """Afgesloten escalaties: the organisation's closed escalations, filtered, newest closed first."""
        scope, _ = await portal_context(request)
        filters = archive.Filters.of(request.query_params)
        after, before = keyset.cursors(request.query_params)
        clock = getattr(request.app.state, "clock", None) or system_clock
        page = await archive.closed_escalations(scope, filters, clock, after=after, before=before)
        context = {"provider_name": await _provider_name(scope), **page, "filters": filters,
                   "query": filters.query_string()}  # fmt: skip
        return Template("portaal/archief.html", context=context)

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
            return await escalation_template(request, scope, escalation, block="berichten", oob=True)
        set_flash(request, "Uw bericht is geplaatst.")
        return Redirect(f"/portaal/escalaties/{escalation.id}#berichten", status_code=HTTP_303_SEE_OTHER)

    @post("/escalaties/{escalation_id:uuid}/brieven/{letter_id:uuid}/ontvangst", status_code=HTTP_303_SEE_OTHER)
    async def acknowledge_letter(self, request: Request, escalation_id: FromPath[UUID],
                                 letter_id: FromPath[UUID]) -> Response:  # fmt: skip
        """One click: the provider confirms that the letter reached them (BW 3:37 lid 3). A second click changes
        nothing; a letter of another organisation is not found."""
        scope, actor = await portal_context(request)
        escalation = await _escalation(scope, escalation_id)
        try:
            _, recorded = await acknowledge(scope, escalation.id, letter_id, actor=actor,
                                            clock=getattr(request.app.state, "clock", None) or system_clock)
        except EscalationError as exc:
            if str(exc) == NOT_FOUND:
                raise NotFoundException() from None
            raise PermissionDeniedException(str(exc)) from None
        set_flash(request, "Bedankt: de ontvangst van de brief is bevestigd en staat op de tijdlijn." if recorded
                  else "De ontvangst van deze brief was al bevestigd.")  # fmt: skip
        return Redirect(f"/portaal/escalaties/{escalation.id}#brieven", status_code=HTTP_303_SEE_OTHER)

    @get("/bewijs")
    async def evidence_register(self, request: Request) -> Template:
        scope, _ = await portal_context(request)
        chosen = str(request.query_params.get(deliveries.FIELD) or "")[:40]  # "aanleveren voor deze escalatie"
        return await evidence_template(request, scope, values={deliveries.FIELD: chosen} if chosen else None)

    @get("/documenten/{document_id:uuid}")
    async def download(self, request: Request, document_id: FromPath[UUID]) -> Response:
        scope, _ = await portal_context(request)
        document = await scope.get(Document, document_id)
        if document is None:
            raise NotFoundException()
        return download_response(request, document.object_key, document.original_filename, document.content_type,
                                 document.size)  # fmt: skip

    @get("/bewijs/{evidence_id:uuid}/bestand")
    async def evidence_file(self, request: Request, evidence_id: FromPath[UUID]) -> Response:
        scope, _ = await portal_context(request)
        item = await evidence.provider_item(scope.provider_id, evidence_id)
        if item is None or not item.object_key:
            raise NotFoundException()
        return download_response(request, item.object_key, item.original_filename, item.content_type, item.size)


class OrganisationSwitchController(Controller):
    """A person who works for several provider organisations picks the one the portal shows (server-side session)."""

    path = "/portaal/organisatie"
    include_in_schema = False
    guards = [PORTAL_GUARD]

    @post("/", status_code=HTTP_303_SEE_OTHER)
    async def switch(self, request: Request) -> Redirect:
        person = request.scope["state"][PERSON]
        form = await request.form()
        try:
            wanted = UUID(str(form.get("organisatie") or ""))
        except ValueError:
            wanted = None
        if wanted is not None and wanted in person.provider_roles:
            request.set_session({**(request.session or {}), views.ACTIVE_PROVIDER: str(wanted)})
            provider = await Provider.objects().where(Provider.id == wanted).first()
            set_flash(request, f"U werkt nu voor {provider.name}.")
        # Always back to the portal's overview: a page of the other organisation's escalation would be a 404.
        return Redirect("/portaal/", status_code=HTTP_303_SEE_OTHER)


async def colleagues_template(
    request: Request, scope: ProviderScope, *, errors: dict | None = None, values: dict | None = None,
    status_code: int = 200,
) -> Template:  # fmt: skip
    person = request.scope["state"][PERSON]
    pending = await invitations.pending_invitations(provider_id=scope.provider_id)
    mail = await invitations.mail_states(pending, provider_id=scope.provider_id)
    return Template(
        "portaal/collegas.html",
        context={
            "provider_name": await _provider_name(scope),
            "colleagues": await team.colleagues(scope.provider_id, person),
            "pending": [
                {
                    "id": i.id,
                    "email": i.email,
                    "role_label": views.role_label(i.role),
                    "by": i.invited_by_label,
                    "until": views.date_nl(views.local_date(i.expires_at)),
                    "mail": mail.get(i.id, ""),
                }
                for i in pending
            ],  # fmt: skip
            "roles": team.ROLE_CHOICES,
            "errors": errors or {},
            "values": values or {},
            "flash": take_flash(request) if status_code == 200 else "",
        },
        status_code=status_code,
    )


class ColleagueController(Controller):
    """Collega's: the provider admin sees the organisation's people, invites, changes roles and removes access."""

    path = "/portaal/collegas"
    include_in_schema = False
    guards = [PORTAL_GUARD, ADMIN_GUARD]

    @get("/")
    async def index(self, request: Request) -> Template:
        scope, _ = await portal_context(request)
        return await colleagues_template(request, scope)

    @post("/uitnodigen", status_code=HTTP_303_SEE_OTHER)
    async def invite(self, request: Request) -> Response:
        scope, _ = await portal_context(request)
        form = await request.form()
        values = {"email": str(form.get("email") or "").strip(), "rol": str(form.get("rol") or "")}
        try:
            await invitations.invite(
                email=values["email"], role=values["rol"], invited_by=request.scope["state"][PERSON],
                provider_id=scope.provider_id, base_url=request.app.state.settings.base_url,
            )  # fmt: skip
        except invitations.InvitationError as exc:
            return await colleagues_template(request, scope, errors={exc.field: exc.message}, values=values,
                                             status_code=422)  # fmt: skip
        # The mail is handed to the worker now; whether it was sent shows in the list of open invitations.
        set_flash(request, f"De uitnodiging voor {values['email']} is aangemaakt en de e-mail staat klaar om te "
                  "versturen; hieronder ziet u of hij verstuurd is.")
        return Redirect("/portaal/collegas/#uitnodigingen", status_code=HTTP_303_SEE_OTHER)

    @post("/{user_id:uuid}/rol", status_code=HTTP_303_SEE_OTHER)
    async def change_role(self, request: Request, user_id: FromPath[UUID]) -> Response:
        scope, _ = await portal_context(request)
        form = await request.form()
        person = request.scope["state"][PERSON]
        try:
            changed = await team.change_role(scope.provider_id, user_id, str(form.get("rol") or ""), by=person)
        except team.NotAColleague:
            raise NotFoundException() from None
        except team.ColleagueError as exc:
            return await colleagues_template(request, scope, errors={f"rol-{user_id}": exc.message}, status_code=422)
        if changed:
            set_flash(request, "De rol is gewijzigd.")
        return Redirect(f"/portaal/collegas/#collega-{user_id}", status_code=HTTP_303_SEE_OTHER)

    @post("/{user_id:uuid}/verwijderen", status_code=HTTP_303_SEE_OTHER)
    async def remove(self, request: Request, user_id: FromPath[UUID]) -> Response:
        scope, _ = await portal_context(request)
        person = request.scope["state"][PERSON]
        try:
            name = await team.remove(scope.provider_id, user_id, by=person)
        except team.NotAColleague:
            raise NotFoundException() from None
        except team.ColleagueError as exc:
            return await colleagues_template(request, scope, errors={f"rol-{user_id}": exc.message}, status_code=422)
        set_flash(request, f"{name} heeft geen toegang meer tot het portaal van uw organisatie.")
        return Redirect("/portaal/collegas/", status_code=HTTP_303_SEE_OTHER)

    @post("/uitnodigingen/{invitation_id:uuid}/intrekken", status_code=HTTP_303_SEE_OTHER)
    async def revoke(self, request: Request, invitation_id: FromPath[UUID]) -> Response:
        scope, _ = await portal_context(request)
        try:
            await invitations.revoke(invitation_id, by=request.scope["state"][PERSON], provider_id=scope.provider_id)
        except invitations.InvitationError:
            raise NotFoundException() from None
        set_flash(request, "De uitnodiging is ingetrokken; de link werkt niet meer.")
        return Redirect("/portaal/collegas/#uitnodigingen", status_code=HTTP_303_SEE_OTHER)


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
            _, delivered = await deliveries.register_and_deliver(
                scope, data, escalation_id=form.fields.get(deliveries.FIELD) or None, actor=actor,
                received=form.file, replaces=_uuid_or_none(form.fields.get("vervangt")),
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
        message = f"{evidence.KINDS[data.kind]} van {data.person} is vastgelegd."
        if delivered is not None:
            message += " Het is aangeleverd voor de escalatie en staat op de tijdlijn" + (
                "; daarmee is de termijn gehaald." if delivered.met_deadlines else "."
            )
        set_flash(request, message)
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

    # The invitation link page is here so that core/app.py needs no edit; it serves region invitations too.
    return [PortalController, OrganisationSwitchController, ColleagueController, uploads, RegionDocumentController,
            RegionEvidenceController, InvitationController]  # fmt: skip
