"""Who may do what to a request, and the staff actions taken as the signed-in user.

Shared by the staff API and the staff pages: one answer to "may this user close this
request?", whichever way they ask.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_login import current_user

from app.auth.roles import AGENT, CREW, DEPARTMENT_BOUND, DISPATCH_ROLES, ROLES, SUPERVISORS
from app.core.errors import Forbidden
from app.media import service as media
from app.org import service as org
from app.requests import lifecycle, merging, transfer
from app.requests.models import ServiceRequest

#: the desk roles that look requests up and act on them
DESK_ROLES = (AGENT, *DISPATCH_ROLES)
#: who acknowledges and closes: a dispatcher of the request's department, or a supervisor
HANDLERS = DISPATCH_ROLES
#: who logs a phoned-in request: the call centre, and supervisors
INTAKE_ROLES = (AGENT, *SUPERVISORS)
#: every role is a staff role
STAFF_ROLES = ROLES
#: the 311 triage queue: the call centre recategorises "Other / not sure" requests
TRIAGE_ROLES = (AGENT, *SUPERVISORS)
#: who may take each action; dispatchers and crew only on their department's requests
ACTION_ROLES: dict[str, tuple[str, ...]] = {
    "acknowledge": HANDLERS,
    "close": HANDLERS,
    # a caller rings to say it is not fixed: the agent on the phone reopens it
    "reopen": (*HANDLERS, AGENT),
    "note": STAFF_ROLES,
    # a crew waiting on materials or the weather says so from the field
    "hold": (*HANDLERS, CREW),
    "resume": (*HANDLERS, CREW),
    # the call centre spots the same pothole phoned in twice; the department's desk too
    "merge": (*HANDLERS, AGENT),
    # "not ours": the owning department's dispatcher, or the agent triaging the call
    "transfer": (*HANDLERS, AGENT),
    # a caller asks for the news of a request already logged, instead of a duplicate
    "follow": (*HANDLERS, AGENT),
}


def is_staff() -> bool:
    """Tell whether the caller is signed in as staff (every role is a staff role)."""
    return bool(current_user.is_authenticated)


def may_read_private(sr: ServiceRequest) -> bool:
    """Tell whether the caller may read the request's reporter contact and internal history.

    Agents and supervisors may, for any request; dispatchers and crews only for their own
    department's requests, as their search and queues show them.
    """
    if not current_user.is_authenticated:
        return False
    if current_user.role not in DEPARTMENT_BOUND:
        return True
    return current_user.department_id == sr.department_id


def may_handle(sr: ServiceRequest, action: str) -> bool:
    """Tell whether the signed-in user's role and department allow `action` on `sr`."""
    role = current_user.role
    if role not in ACTION_ROLES[action]:
        return False
    return role not in DEPARTMENT_BOUND or current_user.department_id == sr.department_id


def check_may_handle(sr: ServiceRequest, action: str) -> None:
    """Refuse an action the user may not take on this request.

    :raises Forbidden: wrong role, or a request of another department (403).
    """
    if may_handle(sr, action):
        return
    if current_user.role in ACTION_ROLES[action]:
        raise Forbidden(
            f"Request {sr.id} belongs to {sr.department.name}; "
            "only its own department's staff, managers and admins may do that."
        )
    raise Forbidden(
        f"This needs the role {' or '.join(ACTION_ROLES[action])}; "
        f"you are signed in as {current_user.role}."
    )


def allowed_actions(sr: ServiceRequest) -> set[str]:
    """Return the actions the user may take on the request in its present state."""
    fits_state = {
        "acknowledge": sr.status == "new",
        "close": sr.is_open,
        "reopen": not sr.is_open,
        "note": True,
        "hold": sr.is_open and sr.status != "on_hold",
        "resume": sr.status == "on_hold",
        "merge": sr.is_open,
        "transfer": sr.is_open,
    }
    return {a for a, fits in fits_state.items() if fits and may_handle(sr, a)}


def search_department(code: str) -> int | None:
    """Return the department id a staff search is limited to, or None for all.

    :raises Forbidden: a dispatcher or crew member asks for another department (403).
    :raises NotFound: there is no such department (404).
    """
    if current_user.role in DEPARTMENT_BOUND:
        own = current_user.department
        if code and (own is None or code != own.code):
            raise Forbidden(f"You work for another department, not {code}.")
        return current_user.department_id
    return org.get_department(code).id if code else None


# ---------------------------------------------------------------------------------------------
# staff actions: the permission check, then the lifecycle verb, as the signed-in user


def acknowledge_request(sr: ServiceRequest) -> None:
    """Acknowledge a new request on behalf of the signed-in user.

    :raises Forbidden: the user may not (403).
    :raises Conflict: the request is no longer new (409).
    """
    check_may_handle(sr, "acknowledge")
    lifecycle.acknowledge(sr, actor_id=current_user.id)


def close_request(sr: ServiceRequest, *, reason: str, note: str) -> None:
    """Close a request with a reason; the note goes to the reporter.

    :raises Forbidden: the user may not (403).
    :raises DomainError: no note for a reason other than fixed, or too long a note (400).
    :raises Conflict: the request is already closed (409).
    """
    check_may_handle(sr, "close")
    lifecycle.close(sr, reason=reason, actor_id=current_user.id, note=note.strip())


def reopen_request(sr: ServiceRequest, *, note: str) -> None:
    """Reopen a closed request, saying why.

    :raises Forbidden: the user may not (403).
    :raises Conflict: the request is open (409).
    """
    check_may_handle(sr, "reopen")
    lifecycle.reopen(sr, actor_id=current_user.id, note=note.strip())


def hold_request(sr: ServiceRequest, *, reason: str, note: str) -> None:
    """Put a request on hold, stopping its SLA clock.

    :raises Forbidden: the user may not (403).
    :raises Conflict: the request is closed or already on hold (409).
    """
    check_may_handle(sr, "hold")
    lifecycle.put_on_hold(sr, actor_id=current_user.id, reason=reason, note=note.strip())


def resume_request(sr: ServiceRequest, *, note: str) -> None:
    """End a request's hold; its due time moves by the pause.

    :raises Forbidden: the user may not (403).
    :raises Conflict: the request is not on hold (409).
    """
    check_may_handle(sr, "resume")
    lifecycle.resume(sr, actor_id=current_user.id, note=note.strip())


def transfer_request(sr: ServiceRequest, *, service_code: str, note: str) -> None:
    """Move a request to another service type and its department, saying why.

    :raises Forbidden: the user may not (403).
    :raises NotFound: no active type has this code (404).
    :raises NoteRequired: no note (422).
    :raises Conflict: the request is closed, of that type already, or on an open work
        order (409).
    """
    check_may_handle(sr, "transfer")
    transfer.transfer(sr, service_code=service_code, note=note, actor_id=current_user.id)


def add_request_note(
    sr: ServiceRequest,
    *,
    note: str,
    public: bool,
    photos: Sequence[media.ValidatedPhoto] = (),
) -> None:
    """Add a public or internal note, with its photos, to the request's history.

    :raises Forbidden: the user may not (403).
    :raises DomainError: an empty or overlong note, or too many photos (400).
    """
    check_may_handle(sr, "note")
    lifecycle.add_note(sr, actor_id=current_user.id, note=note, public=public, photos=photos)


def merge_request(sr_id: int, into_id: int, *, note: str) -> merging.Merged:
    """Merge request `sr_id` into `into_id` on behalf of the signed-in user.

    :raises NotFound: either request does not exist (404).
    :raises Forbidden: the user may not merge `sr_id` away (403).
    :raises Conflict: the merge breaks a rule of requests.merging (409).
    """
    return merging.merge(
        sr_id,
        into_id,
        actor_id=current_user.id,
        note=note,
        authorize=lambda sr: check_may_handle(sr, "merge"),
    )
