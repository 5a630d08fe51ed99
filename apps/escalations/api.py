"""JSON API v1 for escalations: ``/api/v1/regions/{region_slug}/escalations`` for the region's members and
``/api/v1/provider/escalations`` for provider users (read only, shared events only).

Thin: parse, look the rows up through ``RegionScope`` / ``ProviderScope`` (unknown or foreign ids: 404), call
``apps.escalations.services``, shape the answer. Every member of the region reads; only the purchasing team
(inkoop_medewerker, inkoop_lead) writes, and the services check the finer rules (measures need a lead).
A refusal by the rules (a closed step, a missing motivation, a precondition) is 422 with the service's Dutch
message; malformed input is 400 with one error per field; a state that changed meanwhile is 409 (README: API).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException, PermissionDeniedException, ValidationException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from apps.accounts.guards import PERSON, declares_access, region_role, requires
from apps.accounts.roles import DECIDES, PROVIDER_ROLES, REGION_ROLES
from apps.accounts.services import Person
from apps.escalations import services
from apps.escalations.api_views import LIST_COLUMNS, Specs, escalation_detail, list_page, timeline_page
from apps.escalations.context import EscalationError
from apps.escalations.overview import COUNT_CAP, deadline_segments, next_deadlines, scoped_fetch
from apps.escalations.schemas import (
    API_ERRORS,
    Close,
    Extend,
    OpenEscalation,
    Resume,
    Suspend,
    Transition,
    deadline_out,
    event_out,
)
from apps.escalations.tables import Deadline, Escalation
from apps.escalations.tally import region_tally
from apps.providers.tables import Contract, Provider
from apps.tenancy.tables import Region
from core import keyset
from core.actor import Actor
from core.clock import Clock, system_clock
from core.edge import BadInput, Sequence
from core.problems import READ_ERRORS, READS, WRITE_ERRORS, WRITES, problems
from core.tenancy import ProviderScope, RegionScope

KVK = re.compile(r"^\d{8}$")
Limit = Annotated[int, QueryParameter(ge=1, le=200, description="at most 200")]
After = Annotated[
    str | None, QueryParameter(max_length=300, description="the next page: next_after of the page before")
]
Status = FromQuery[Literal["open", "paused", "closed"] | None]


def cursor_of(after: str | None, segments: list[keyset.Segment]) -> str:
    """The ``after`` cursor, refused (400) when it is not one this list gave out."""
    if after and keyset.decode(after, segments) is None:
        reason = "Geef voor after de next_after van de vorige pagina op."
        raise ValidationException(reason, extra=[{"key": "after", "source": "query", "message": reason}])
    return after or ""


def clock_of(request: Request) -> Clock:
    """The app's clock (``app.state.clock``; tests freeze it), else the system clock."""
    return getattr(request.app.state, "clock", None) or system_clock


def person_of(request: Request) -> Person:
    return request.scope["state"][PERSON]


@declares_access("holds inkoop_medewerker or inkoop_lead in the region of the path (else 403)")
async def decides_in_region(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """After ``region_role``: a member who only reads (gemeente_medewerker, waarnemer) may not write."""
    person: Person = connection.scope["state"][PERSON]
    slug = connection.path_params.get("region_slug")
    row = await Region.select(Region.id).where(Region.slug == str(slug)).first()
    if row is None or not person.region_roles.get(row["id"], frozenset()) & DECIDES:
        raise PermissionDeniedException("Alleen het team inkoop mag dit doen.")


READERS = [region_role(*REGION_ROLES)]
WRITERS = [region_role(*REGION_ROLES), decides_in_region]


async def region_context(request: Request, region_slug: FromPath[str]) -> tuple[RegionScope, Region, Actor]:
    region = await Region.objects().where(Region.slug == region_slug).output(load_json=True).first()
    actor = person_of(request).region_actor(region.id) if region is not None else None
    if region is None or actor is None:  # the guard already answered 404; never reached
        raise NotFoundException()
    return RegionScope(region.id), region, actor


async def found(scope: RegionScope | ProviderScope, table, row_id: UUID):
    row = await scope.get(table, row_id)
    if row is None:
        raise NotFoundException("Niet gevonden.")
    return row


class EscalationApiController(Controller):
    path = "/api/v1/regions/{region_slug:str}"
    tags = ["escalations"]
    exception_handlers = API_ERRORS

    @get(
        "/escalations",
        guards=READERS,
        summary="The region's escalations, sorted by next deadline",
        responses=READ_ERRORS,
        security=READS,
    )
    async def list_escalations(
        self,
        request: Request,
        region_slug: FromPath[str],
        step: FromQuery[str | None] = None,
        status: Status = None,
        category: FromQuery[str | None] = None,
        provider: Annotated[str | None, QueryParameter(description="provider id or KvK number")] = None,
        overdue: FromQuery[bool] = False,
        limit: Limit = 50,
        after: After = None,
    ) -> dict:
        """Every member of the region reads. Filters: step, status, category, provider (id or KvK number), overdue;
        paged by keyset: the next page is after=next_after. Sorted by the next running deadline, soonest first;
        escalations without one last, newest first."""
        scope, _, _ = await region_context(request, region_slug)
        conditions = []
        if step:
            conditions.append(Escalation.current_step == step)
        if status:
            conditions.append(Escalation.status == status)
        if category:
            conditions.append(Escalation.category == category)
        if provider:
            if KVK.match(provider):
                conditions.append(Escalation.provider.kvk_number == provider)
            else:
                try:
                    conditions.append(Escalation.provider == UUID(provider))
                except ValueError:
                    reason = "Geef de aanbieder op met zijn id of KvK-nummer (8 cijfers)."
                    field = {"key": "provider", "source": "query", "message": reason}
                    raise ValidationException(reason, extra=[field]) from None
        condition = None
        for item in conditions:
            condition = item if condition is None else condition & item
        now = clock_of(request).now()
        segments = deadline_segments(now, overdue_only=overdue)
        fetch = scoped_fetch(scope, LIST_COLUMNS, condition)
        page = await keyset.page(fetch, segments, limit, after=cursor_of(after, segments))
        # the total from the region's tally when it knows the filter (status, step, category), as the overview's;
        # otherwise counted up to COUNT_CAP
        if overdue:
            overdue_now = Escalation.next_due_at <= now
            where = overdue_now if condition is None else condition & overdue_now
            total = await keyset.capped_rows(scope, Escalation, where, COUNT_CAP)
        elif provider:
            total = await keyset.capped_rows(scope, Escalation, condition, COUNT_CAP)
        else:
            total = ((await region_tally(scope)).total(status=status or "", step=step or "", category=category or ""),
                     False)  # fmt: skip
        return await list_page(page, await next_deadlines(scope, page.rows), now, limit, total)

    @post(
        "/escalations",
        guards=WRITERS,
        summary="Open an escalation",
        status_code=HTTP_201_CREATED,
        responses=problems(400, 401, 403, 404, 422),  # opening has no state to conflict with
        security=WRITES,
    )
    async def open_escalation(
        self, request: Request, region_slug: FromPath[str], data: JSONBody[OpenEscalation]
    ) -> Response:
        """The purchasing team (inkoop_medewerker, inkoop_lead) opens an escalation on the latest version of one of the
        region's ladders, for a provider the region has a contract with. Answers the escalation as the detail route
        does, with its Location."""
        scope, _, actor = await region_context(request, region_slug)
        provider = await Provider.objects().where(Provider.kvk_number == data.provider_kvk).first()
        contract = None
        if provider is not None:
            contract = (
                await scope.objects(Contract)
                .where(Contract.provider == provider.id)
                .order_by(Contract.valid_from, ascending=False)
                .first()
            )
        if contract is None:
            raise EscalationError(
                f"Deze regio heeft geen contract met een aanbieder met KvK-nummer {data.provider_kvk}."
            )
        clock = clock_of(request)
        escalation = await services.open_escalation(
            scope,
            provider=provider,
            ladder_key=data.ladder,
            category=data.category,
            subcategory=data.subcategory,
            summary=data.summary,
            motivation=data.motivation,
            actor=actor,
            contract=contract,
            municipality=data.municipality,
            case_reference=data.case_reference,
            professionals=data.professionals,
            clock=clock,
            letter_fields=data.letter_fields,
        )
        body = await escalation_detail(scope, scope, escalation, clock.now())
        location = f"/api/v1/regions/{region_slug}/escalations/{escalation.id}"
        return Response(body, status_code=HTTP_201_CREATED, headers={"Location": location})

    @get(
        "/escalations/{escalation_id:uuid}",
        guards=READERS,
        summary="One escalation: step, next steps, deadlines",
        responses=READ_ERRORS,
        security=READS,
    )
    async def detail(self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]) -> dict:
        """The current step, the next steps its own ladder version allows, the running deadlines and the measures in
        force (with the municipalities that must follow them)."""
        scope, _, _ = await region_context(request, region_slug)
        escalation = await found(scope, Escalation, escalation_id)
        return await escalation_detail(scope, scope, escalation, clock_of(request).now())

    @get(
        "/escalations/{escalation_id:uuid}/timeline",
        guards=READERS,
        summary="The timeline, newest first",
        responses=READ_ERRORS,
        security=READS,
    )
    async def timeline(
        self,
        request: Request,
        region_slug: FromPath[str],
        escalation_id: FromPath[UUID],
        before: Sequence = None,
        limit: Limit = 50,
    ) -> dict:
        """All events, internal ones included, newest first; page back with before=next_before."""
        scope, _, _ = await region_context(request, region_slug)
        await found(scope, Escalation, escalation_id)
        return await timeline_page(scope, escalation_id, include_internal=True, before=before, limit=limit)

    @get(
        "/escalations/{escalation_id:uuid}/deadlines",
        guards=READERS,
        summary="All deadlines, by due date",
        responses=READ_ERRORS,
        security=READS,
    )
    async def deadlines(
        self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID]
    ) -> list[dict]:
        """Every deadline of the escalation (open, suspended, met, missed), by due date."""
        scope, _, _ = await region_context(request, region_slug)
        escalation = await found(scope, Escalation, escalation_id)
        spec = await Specs().get(scope, escalation.ladder_version)
        rows = await scope.objects(Deadline).where(Deadline.escalation == escalation.id).order_by(Deadline.due_at)
        now = clock_of(request).now()
        return [deadline_out(row, spec, now) for row in rows]

    @post(
        "/escalations/{escalation_id:uuid}/transitions",
        guards=WRITERS,
        responses={
            **WRITE_ERRORS,
            HTTP_200_OK: ResponseSpec(
                dict[str, Any],
                description="A repeat with the same Idempotency-Key: the first "
                "result, nothing changed (replayed: true).",
            ),  # fmt: skip
        },
        security=WRITES,
        summary="Move to another step of the escalation's own ladder version",
        description="Idempotent with the Idempotency-Key header (or idempotency_key in the body): a repeat "
        "answers 200 with the first result and changes nothing; a new move answers 201.",
    )
    async def transition(
        self,
        request: Request,
        region_slug: FromPath[str],
        escalation_id: FromPath[UUID],
        data: JSONBody[Transition],
        idempotency_key: Annotated[str | None, HeaderParameter(name="Idempotency-Key", max_length=100)] = None,
    ) -> Response:
        scope, _, actor = await region_context(request, region_slug)
        await found(scope, Escalation, escalation_id)
        if idempotency_key and data.idempotency_key and idempotency_key != data.idempotency_key:
            raise BadInput("De Idempotency-Key-header en idempotency_key in de aanvraag verschillen.")
        clock = clock_of(request)
        result = await services.transition(
            scope,
            escalation_id,
            data.to_step,
            actor=actor,
            motivation=data.motivation,
            clock=clock,
            idempotency_key=idempotency_key or data.idempotency_key,
            legal_exception=data.legal_exception,
            delivery=data.sending_method,
            term_overrides=data.terms,
            letter_fields=data.letter_fields,
            receipt_motivation=data.receipt_motivation,
        )
        body = {
            "replayed": result.replayed,
            "event": event_out(result.event),
            "escalation": await escalation_detail(scope, scope, result.escalation, clock.now()),
        }
        return Response(body, status_code=HTTP_200_OK if result.replayed else HTTP_201_CREATED)

    @post(
        "/escalations/{escalation_id:uuid}/close",
        guards=WRITERS,
        responses=WRITE_ERRORS,
        security=WRITES,
        summary="Close outside the ladder's final steps",
        status_code=HTTP_200_OK,
    )
    async def close(
        self, request: Request, region_slug: FromPath[str], escalation_id: FromPath[UUID], data: JSONBody[Close]
    ) -> dict:
        """The purchasing team closes the escalation with an outcome (e.g. 'ingetrokken') and a motivation; running
        deadlines stop."""
        scope, _, actor = await region_context(request, region_slug)
        await found(scope, Escalation, escalation_id)
        clock = clock_of(request)
        escalation = await services.close_escalation(
            scope, escalation_id, actor=actor, outcome=data.outcome, motivation=data.motivation, clock=clock
        )
        return await escalation_detail(scope, scope, escalation, clock.now())

    async def _deadline_change(self, request: Request, region_slug: str, deadline_id: UUID, change) -> dict:
        scope, _, actor = await region_context(request, region_slug)
        await found(scope, Deadline, deadline_id)
        clock = clock_of(request)
        deadline = await change(scope, actor, clock)
        escalation = await scope.get(Escalation, deadline.escalation)
        return deadline_out(deadline, await Specs().get(scope, escalation.ladder_version), clock.now())

    @post(
        "/deadlines/{deadline_id:uuid}/suspend",
        guards=WRITERS,
        responses=WRITE_ERRORS,
        security=WRITES,
        summary="Suspend a deadline (opschorting)",
        status_code=HTTP_200_OK,
    )
    async def suspend(
        self, request: Request, region_slug: FromPath[str], deadline_id: FromPath[UUID], data: JSONBody[Suspend]
    ) -> dict:
        """The purchasing team suspends a running deadline (opschorting) with a reason; the time left is kept for when
        it resumes."""

        async def change(scope, actor, clock):
            return await services.suspend_deadline(scope, deadline_id, actor=actor, reason=data.reason, clock=clock)

        return await self._deadline_change(request, region_slug, deadline_id, change)

    @post(
        "/deadlines/{deadline_id:uuid}/resume",
        guards=WRITERS,
        responses=WRITE_ERRORS,
        security=WRITES,
        summary="Resume a suspended deadline",
        status_code=HTTP_200_OK,
    )
    async def resume(
        self, request: Request, region_slug: FromPath[str], deadline_id: FromPath[UUID], data: JSONBody[Resume]
    ) -> dict:
        """The purchasing team resumes a suspended deadline; it ends after the time that was left when it was
        suspended."""

        async def change(scope, actor, clock):
            return await services.resume_deadline(
                scope, deadline_id, actor=actor, motivation=data.motivation, clock=clock
            )

        return await self._deadline_change(request, region_slug, deadline_id, change)

    @post(
        "/deadlines/{deadline_id:uuid}/extend",
        guards=WRITERS,
        responses=WRITE_ERRORS,
        security=WRITES,
        summary="Extend a deadline (new_term or days)",
        status_code=HTTP_200_OK,
    )
    async def extend(
        self, request: Request, region_slug: FromPath[str], deadline_id: FromPath[UUID], data: JSONBody[Extend]
    ) -> dict:
        """The purchasing team extends a running deadline: a new term counted from its start (new_term, e.g. '6 weken')
        or a number of calendar days; never earlier than today's due date."""

        async def change(scope, actor, clock):
            return await services.extend_deadline(
                scope,
                deadline_id,
                actor=actor,
                reason=data.reason,
                new_term=data.new_term,
                days=data.days,
                clock=clock,
            )

        return await self._deadline_change(request, region_slug, deadline_id, change)


# --- a provider's own escalations (read only) -----------------------------------------------------------------


async def provider_scopes(request: Request) -> list[ProviderScope]:
    return [await ProviderScope.for_provider(provider_id) for provider_id in person_of(request).provider_roles]


async def provider_escalation(request: Request, escalation_id: FromPath[UUID]) -> tuple[ProviderScope, Escalation]:
    for scope in await provider_scopes(request):
        escalation = await scope.get(Escalation, escalation_id)
        if escalation is not None:
            return scope, escalation
    raise NotFoundException("Niet gevonden.")


class ProviderEscalationApiController(Controller):
    """What a provider user reads: their organisation's escalations, in the regions where it has a contract,
    and only the shared events of the timeline. Providers never write here."""

    path = "/api/v1/provider/escalations"
    tags = ["provider"]
    guards = [requires(*PROVIDER_ROLES)]
    exception_handlers = API_ERRORS

    @get("/", summary="My organisation's escalations, sorted by next deadline", responses=READ_ERRORS, security=READS)
    async def list_escalations(
        self,
        request: Request,
        status: Status = None,
        limit: Limit = 50,
        after: After = None,
    ) -> dict:
        """For provider users: their organisation's escalations in the regions where it has a contract, sorted by the
        next running deadline; paged by keyset: the next page is after=next_after."""
        now = clock_of(request).now()
        condition = Escalation.status == status if status else None
        scopes = await provider_scopes(request)
        segments = deadline_segments(now, overdue_only=False)
        # several organisations: each reads at most one page after the cursor, and the first `limit` together are
        # the page
        fetch = keyset.merged_fetch(*(scoped_fetch(scope, LIST_COLUMNS, condition) for scope in scopes))
        page = await keyset.page(fetch, segments, limit, after=cursor_of(after, segments))
        next_due: dict[UUID, Deadline] = {}
        count, capped = 0, False
        for scope in scopes:
            next_due.update(await next_deadlines(scope, [r for r in page.rows if r["provider"] == scope.provider_id]))
            found, found_capped = await keyset.capped_rows(scope, Escalation, condition, COUNT_CAP)
            count, capped = count + found, capped or found_capped
        return await list_page(page, next_due, now, limit, (count, capped))

    @get("/{escalation_id:uuid}", summary="One of my organisation's escalations", responses=READ_ERRORS, security=READS)
    async def detail(self, request: Request, escalation_id: FromPath[UUID]) -> dict:
        """For provider users: one escalation of their organisation, without the region's next steps."""
        scope, escalation = await provider_escalation(request, escalation_id)
        region_scope = scope.region_scope(escalation.region)
        return await escalation_detail(region_scope, scope, escalation, clock_of(request).now(), for_provider=True)

    @get(
        "/{escalation_id:uuid}/timeline",
        summary="The shared events of the timeline, newest first",
        responses=READ_ERRORS,
        security=READS,
    )
    async def timeline(
        self,
        request: Request,
        escalation_id: FromPath[UUID],
        before: Sequence = None,
        limit: Limit = 50,
    ) -> dict:
        """For provider users: the shared events only (never internal ones), newest first; page back with
        before=next_before."""
        scope, escalation = await provider_escalation(request, escalation_id)
        return await timeline_page(scope, escalation.id, include_internal=False, before=before, limit=limit)
