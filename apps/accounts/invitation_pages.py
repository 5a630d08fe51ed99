"""The invitation link page /uitnodiging/<token>: what is offered, log in to accept, or why it no longer works.

The OIDC callback redeems the invitation when the login returns here (``invitations.redeem_after_login``); a
visitor who is already signed in accepts with the button on the page. The page itself never changes anything.
"""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from apps.accounts import invitations
from apps.accounts.guards import PERSON, current_person, signed_in
from apps.accounts.roles import LABELS, PROVIDER_ROLES, Role
from apps.accounts.tables import Invitation
from core.clock import AMSTERDAM
from core.formatting import format_date_nl

# The state of the link → the page's HTTP status (a browser test and a screen reader get the same story).
STATUS = {"pending": 200, "accepted": 200, "mismatch": 403, "unknown": 404, "used": 410, "expired": 410,
          "revoked": 410}  # fmt: skip


async def _page(request: Request, token: str, invitation: Invitation | None) -> Template:
    person = await current_person(request)
    if invitation is None:
        state = "unknown"
    else:
        state = invitations.state_of(invitation)
        if state == "accepted" and (person is None or invitation.accepted_by != person.user_id):
            state = "used"
        if state == "pending" and person is not None and person.email.casefold() != invitation.email.casefold():
            state = "mismatch"
    context = {"state": state, "token": token, "path": invitations.invitation_path(token), "person": person,
               "providers": request.app.state.oidc.providers}  # fmt: skip
    if invitation is not None:
        context |= {
            "organisation": await invitations.organisation_name(invitation),
            "for_region": invitation.region is not None,
            "role_label": LABELS.get(Role(invitation.role), invitation.role),
            "invited_by": invitation.invited_by_label,
            "valid_until": format_date_nl(invitation.expires_at.astimezone(AMSTERDAM).date()),
            "start": "/portaal" if invitation.role in PROVIDER_ROLES else "/werkruimte",
        }
    return Template("uitnodiging.html", context=context, status_code=STATUS[state])


class InvitationController(Controller):
    path = invitations.PATH_PREFIX.rstrip("/")
    include_in_schema = False

    @get("/{token:str}", opt={"public": True})
    async def show(self, request: Request, token: FromPath[str]) -> Template:
        return await _page(request, token, await invitations.find(token))

    @post("/{token:str}", guards=[signed_in], status_code=HTTP_303_SEE_OTHER)
    async def accept(self, request: Request, token: FromPath[str]) -> Redirect | Template:
        """Accept while signed in (someone who was already logged in when they opened the link)."""
        person = request.scope["state"][PERSON]
        result = await invitations.redeem(token, user_id=person.user_id, email=person.email)
        if result.outcome == "unknown":
            return await _page(request, token, None)
        if result.outcome in ("accepted", "already_accepted"):
            request.scope["state"].pop(PERSON, None)  # the page shows the new role
        return Redirect(invitations.invitation_path(token), status_code=HTTP_303_SEE_OTHER)
