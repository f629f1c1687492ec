"""The requests JSON API: the service catalogue, intake, a request's status, department queues."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import current_app, jsonify, request, url_for
from flask_login import current_user
from flask_smorest import Blueprint
from geoalchemy2.shape import to_shape
from marshmallow import ValidationError
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import BadRequest

from app.auth.permissions import SUPERVISORS, roles_required
from app.core.clock import utcnow
from app.core.errors import DomainError, Forbidden
from app.extensions import db
from app.media import service as media
from app.org import service as org
from app.requests import service
from app.requests.models import ServiceRequest
from app.requests.schemas import (
    CloseIn,
    NoteIn,
    QueueItemOut,
    ReopenIn,
    RequestIn,
    RequestListItemOut,
    RequestPublicOut,
    RequestStaffOut,
    SearchArgs,
    ServiceTypeOut,
    SubmittedOut,
    form_attributes,
)

blp = Blueprint(
    "requests_api",
    __name__,
    url_prefix="/api/v1",
    description="The service catalogue, intake of service requests, their status, and queues.",
)

BEARER = [{"bearerAuth": []}]
#: the endpoint is public, and a staff token gets more
BEARER_OPTIONAL: list[dict[str, list[str]]] = [{}, {"bearerAuth": []}]
FORM_CONTENT_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


class InvalidInput(DomainError):
    status_code = 422
    code = "unprocessable"


class UnsupportedBody(DomainError):
    status_code = 415
    code = "unsupported_media_type"


# ---------------------------------------------------------------------------------------------
# helpers shared with the HTML views


def public_url(path: str) -> str:
    """Return an absolute URL on the public site (PUBLIC_BASE_URL)."""
    return current_app.config["PUBLIC_BASE_URL"] + path


def tracking_url(request_id: int) -> str:
    return public_url(url_for("requests.track", request_id=request_id))


def photo_urls(photo_id: int) -> dict[str, Any]:
    return {
        "id": photo_id,
        "url": public_url(url_for("media.photo", photo_id=photo_id, size="display")),
        "thumbnail_url": public_url(url_for("media.photo", photo_id=photo_id, size="thumb")),
    }


def lat_long(sr: ServiceRequest) -> tuple[float, float]:
    point = to_shape(sr.location)
    return point.y, point.x


def is_staff() -> bool:
    """Tell whether the caller is signed in as staff (every role is a staff role)."""
    return bool(current_user.is_authenticated)


def _code_name(obj: Any) -> dict[str, str] | None:
    return {"code": obj.code, "name": obj.name} if obj is not None else None


def _reporter(sr: ServiceRequest) -> dict[str, str]:
    return {"name": sr.reporter_name, "email": sr.reporter_email, "phone": sr.reporter_phone}


def request_view(sr: ServiceRequest, *, staff: bool) -> dict[str, Any]:
    """Return the fields of a request for RequestPublicOut, or RequestStaffOut when staff."""
    lat, long = lat_long(sr)
    view: dict[str, Any] = {
        "id": sr.id,
        "status": sr.status,
        "service": _code_name(sr.service_type),
        "description": sr.description,
        "lat": lat,
        "long": long,
        "address": sr.address,
        "department": _code_name(sr.department),
        "district": _code_name(sr.district),
        "requested_at": sr.requested_at,
        "acknowledged_at": sr.acknowledged_at,
        "due_at": sr.due_at,
        "closed_at": sr.closed_at,
        "closure_reason": sr.closure_reason,
        "closure_note": sr.closure_note,
        "history": service.public_events(sr),
        "photos": [photo_urls(pid) for pid in service.public_photo_ids(sr)],
    }
    if staff:
        view.update(
            reporter=_reporter(sr),
            channel=sr.channel,
            attributes=sr.attributes,
            created_by_id=sr.created_by_id,
            events=list(sr.events),
        )
    return view


def _first_message(name: str, messages: object) -> str:
    if isinstance(messages, dict):  # a nested field: {key: [messages]}
        messages = next(iter(messages.values()), "")
    text = str(messages[0] if isinstance(messages, list) and messages else messages)
    # marshmallow's own messages ("Not a valid string.") do not name the field
    return text if text.startswith(name) else f"{name}: {text}"


def parse_submission() -> tuple[dict[str, Any], FileStorage | None]:
    """Read a new request from a JSON body or from form fields; return it and the photo file.

    :raises DomainError: the JSON is malformed or not an object (400).
    :raises UnsupportedBody: the body is neither JSON nor a form (415).
    :raises InvalidInput: fields are missing or of the wrong type (422).
    """
    photo: FileStorage | None = None
    if request.is_json:
        try:
            body = request.get_json()
        except BadRequest:
            raise DomainError(
                "The body is not valid JSON: check the quotes, commas and brackets."
            ) from None
        if not isinstance(body, dict):
            raise DomainError(
                "The JSON body must be an object such as "
                '{"service_code": "...", "description": "...", "lat": 0.0, "long": 0.0}.'
            )
    elif request.mimetype in FORM_CONTENT_TYPES:
        body = {k: v for k, v in request.form.items() if not k.startswith("attribute[")}
        body["attributes"] = form_attributes(request.form)
        file = request.files.get("photo")
        if file is not None and file.filename:
            photo = file
    else:
        raise UnsupportedBody(
            "Send the request as application/json, or as multipart/form-data when it has a photo."
        )
    try:
        data = RequestIn().load(body)
    except ValidationError as err:
        messages = err.messages if isinstance(err.messages, dict) else {"_body": err.messages}
        summary = " ".join(_first_message(name, msgs) for name, msgs in messages.items())
        raise InvalidInput(summary, errors=messages) from None
    return data, photo


# ---------------------------------------------------------------------------------------------
# endpoints


@blp.route("/services")
@blp.response(200, ServiceTypeOut(many=True))
def list_services():  # type: ignore[no-untyped-def]
    """List the service types that can be requested.

    Each type names its department, its SLA target and the questions to answer with it.
    """
    return service.list_service_types()


@blp.route("/requests", methods=["POST"])
@blp.doc(
    requestBody={
        "required": True,
        "content": {
            "application/json": {"schema": RequestIn},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["service_code", "description", "lat", "long"],
                    "properties": {
                        "service_code": {"type": "string"},
                        "description": {"type": "string", "maxLength": 4000},
                        "lat": {"type": "number"},
                        "long": {"type": "number"},
                        "address": {"type": "string"},
                        "email": {"type": "string"},
                        "phone": {"type": "string"},
                        "name": {"type": "string"},
                        "attribute[CODE]": {
                            "type": "string",
                            "description": "An answer; use attribute[CODE][] for lists.",
                        },
                        "photo": {
                            "type": "string",
                            "format": "binary",
                            "description": "JPEG, PNG or WebP, up to MAX_PHOTO_BYTES.",
                        },
                    },
                }
            },
        },
    },
    security=BEARER_OPTIONAL,
)
@blp.response(201, SubmittedOut)
@blp.alt_response(413, response="DEFAULT_ERROR", description="The photo or body is too large.")
@blp.alt_response(415, response="DEFAULT_ERROR", description="Neither JSON nor a form.")
@blp.alt_response(422, response="DEFAULT_ERROR", description="A field is missing or mistyped.")
def create_request():  # type: ignore[no-untyped-def]
    """Report a problem.

    Send JSON, or multipart/form-data with the same fields and an optional `photo`. The
    request is routed to its department and ward; the answer has its SLA due time and the
    public tracking URL. Unknown fields are ignored. The reporter's name, email and phone
    stay private.
    """
    data, upload = parse_submission()
    photo = media.validate_photo(upload.stream) if upload is not None else None
    new = service.NewRequest(
        service_code=data["service_code"],
        description=data["description"],
        lat=data["lat"],
        long=data["long"],
        address=data["address"],
        name=data["name"],
        email=data["email"],
        phone=data["phone"],
        attributes=data["attributes"],
    )
    actor_id = current_user.id if current_user.is_authenticated else None
    result = service.submit_request(new, channel="api", actor_id=actor_id, photo=photo)
    db.session.commit()
    return {
        "id": result.id,
        "status": result.status,
        "service_code": result.service_code,
        "service_name": result.service_name,
        "department": {"code": result.department_code, "name": result.department_name},
        "district": {"code": result.district_code, "name": result.district_name},
        "requested_at": result.requested_at,
        "due_at": result.due_at,
        "photo_url": photo_urls(result.photo_id)["url"] if result.photo_id else None,
        "tracking_url": tracking_url(result.id),
    }


@blp.route("/requests/<int:request_id>")
@blp.doc(security=BEARER_OPTIONAL)
@blp.response(
    200,
    RequestPublicOut,
    description="The public view; with a staff token, the fields of RequestStaffOut.",
)
@blp.alt_response(404, response="DEFAULT_ERROR", description="No such request.")
def get_request(request_id: int):  # type: ignore[no-untyped-def]
    """Read a request's status and public history.

    Anyone gets the public view. With a staff bearer token the answer also has the
    reporter's contact details, the channel, the answers and the internal history.
    """
    sr = service.get_request(request_id)
    staff = is_staff()
    view = request_view(sr, staff=staff)
    # dumped here, not by the decorator: the schema depends on who asks
    return jsonify((RequestStaffOut() if staff else RequestPublicOut()).dump(view))


@blp.route("/departments/<code>/queue")
@blp.doc(security=BEARER)
@blp.response(200, QueueItemOut(many=True))
@blp.alt_response(401, response="DEFAULT_ERROR", description="No bearer token.")
@blp.alt_response(403, response="DEFAULT_ERROR", description="Not this department's staff.")
@blp.alt_response(404, response="DEFAULT_ERROR", description="No such department.")
@roles_required("dispatcher", *SUPERVISORS)
def department_queue(code: str):  # type: ignore[no-untyped-def]
    """List a department's open requests, most overdue first.

    Dispatchers see their own department's queue; managers and admins see every queue.
    """
    dept = org.get_department(code)
    if current_user.role not in SUPERVISORS and current_user.department_id != dept.id:
        raise Forbidden(f"You dispatch for another department, not {dept.code}.")
    now = utcnow()
    items = []
    for sr in service.department_queue(dept.id):
        lat, long = lat_long(sr)
        items.append(
            {
                "id": sr.id,
                "service": _code_name(sr.service_type),
                "description": sr.description,
                "address": sr.address,
                "lat": lat,
                "long": long,
                "district": _code_name(sr.district),
                "status": sr.status,
                "requested_at": sr.requested_at,
                "due_at": sr.due_at,
                "overdue": sr.due_at < now,
                "reporter": _reporter(sr),
            }
        )
    return items


# ---------------------------------------------------------------------------------------------
# staff handling: finding a request and acting on it (shared with app/requests/staff.py)

#: the desk roles that look requests up and act on them
DESK_ROLES = ("agent", "dispatcher", *SUPERVISORS)
#: who acknowledges and closes: a dispatcher of the request's department, or a supervisor
HANDLERS = ("dispatcher", *SUPERVISORS)
STAFF_ROLES = ("agent", "dispatcher", "crew", *SUPERVISORS)
#: who may take each action; dispatchers and crew only on their department's requests
ACTION_ROLES: dict[str, tuple[str, ...]] = {
    "acknowledge": HANDLERS,
    "close": HANDLERS,
    # a caller rings to say it is not fixed: the agent on the phone reopens it
    "reopen": (*HANDLERS, "agent"),
    "note": STAFF_ROLES,
}
DEPARTMENT_BOUND = ("dispatcher", "crew")


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
    }
    return {a for a, fits in fits_state.items() if fits and may_handle(sr, a)}


def acknowledge_request(sr: ServiceRequest) -> None:
    """Acknowledge a new request on behalf of the signed-in user.

    :raises Conflict: the request is no longer new (409).
    """
    check_may_handle(sr, "acknowledge")
    service.acknowledge(sr, actor_id=current_user.id)


def close_request(sr: ServiceRequest, *, reason: str, note: str) -> None:
    """Close a request with a reason; the note goes to the reporter.

    :raises DomainError: no note for a reason other than fixed (400).
    :raises Conflict: the request is already closed (409).
    """
    check_may_handle(sr, "close")
    service.close(sr, reason=reason, actor_id=current_user.id, note=note.strip())


def reopen_request(sr: ServiceRequest, *, note: str) -> None:
    """Reopen a closed request, saying why.

    :raises Conflict: the request is open (409).
    """
    check_may_handle(sr, "reopen")
    service.reopen(sr, actor_id=current_user.id, note=note.strip())


def add_request_note(sr: ServiceRequest, *, note: str, public: bool) -> None:
    """Add a public or internal note to the request's history."""
    check_may_handle(sr, "note")
    service.add_note(sr, actor_id=current_user.id, note=note, public=public)


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


def list_item(sr: ServiceRequest, now: datetime) -> dict[str, Any]:
    """Return the fields of a request for RequestListItemOut."""
    return {
        "id": sr.id,
        "status": sr.status,
        "service": _code_name(sr.service_type),
        "department": _code_name(sr.department),
        "district": _code_name(sr.district),
        "address": sr.address,
        "description": sr.description,
        "requested_at": sr.requested_at,
        "due_at": sr.due_at,
        "overdue": sr.is_open and sr.due_at < now,
        "closure_reason": sr.closure_reason,
        "reporter": _reporter(sr),
    }


_STAFF_ERRORS = (
    (401, "No bearer token."),
    (403, "Not a role that may do this, or a request of another department."),
    (404, "No such request (or department, for a search)."),
)


def _staff_errors(*extra: tuple[int, str]) -> Any:
    """Document the error answers of a staff endpoint."""

    def decorator(func: Any) -> Any:
        for code, text in (*_STAFF_ERRORS, *extra):
            func = blp.alt_response(code, response="DEFAULT_ERROR", description=text)(func)
        return func

    return decorator


# roles_required sits above the argument parsing: no credentials is 401 whatever the body


@blp.route("/requests", methods=["GET"])
@roles_required(*STAFF_ROLES)
@blp.doc(security=BEARER)
@blp.arguments(SearchArgs, location="query", as_kwargs=True)
@blp.response(200, RequestListItemOut(many=True))
@blp.paginate(page_size=service.SEARCH_PAGE_SIZE, max_page_size=service.SEARCH_PAGE_SIZE)
@_staff_errors((422, "A query parameter is not valid."))
def search_requests_endpoint(  # type: ignore[no-untyped-def]
    q: str, status: str, department: str, pagination_parameters
):
    """Find requests by number, the reporter's email or phone, or words.

    `q` is a request number, an email address (case-insensitive), a phone number (digits
    compare on the last 10, so "+1 617 555 0199" finds "(617) 555-0199"; 7 digits find the
    numbers ending with them), or words that must all appear in the description or
    address. Newest first, 50 per page; the X-Pagination header has the total. Dispatchers
    and crew see their own department's requests; agents, managers and admins see all.
    """
    department_id = search_department(department)
    items, total = service.search_requests(
        q,
        status=status,
        department_id=department_id,
        page=pagination_parameters.page,
        page_size=pagination_parameters.page_size,
    )
    pagination_parameters.item_count = total
    now = utcnow()
    return [list_item(sr, now) for sr in items]


def _act(request_id: int, action: Callable[[ServiceRequest], None]) -> dict[str, Any]:
    """Lock the request, take the action, commit, and return the staff view."""
    sr = service.get_request(request_id, for_update=True)
    action(sr)
    db.session.commit()
    return request_view(sr, staff=True)


@blp.route("/requests/<int:request_id>/acknowledge", methods=["POST"])
@roles_required(*ACTION_ROLES["acknowledge"])
@blp.doc(security=BEARER)
@blp.response(200, RequestStaffOut)
@_staff_errors((409, "The request is not new."))
def acknowledge_endpoint(request_id: int):  # type: ignore[no-untyped-def]
    """Acknowledge a new request: the department has seen it.

    For a dispatcher of the request's department, a manager or an admin.
    """
    return _act(request_id, acknowledge_request)


@blp.route("/requests/<int:request_id>/close", methods=["POST"])
@roles_required(*ACTION_ROLES["close"])
@blp.doc(security=BEARER)
@blp.arguments(CloseIn)
@blp.response(200, RequestStaffOut)
@_staff_errors(
    (409, "The request is already closed."), (422, "No reason, an unknown one, or no note.")
)
def close_endpoint(data: dict[str, Any], request_id: int):  # type: ignore[no-untyped-def]
    """Close a request with a reason, saying why.

    The reason is fixed, no_action_needed, duplicate, referred or could_not_locate. The
    note is public and emailed to the reporter; it is required unless the reason is
    fixed. For a dispatcher of the request's department, a manager or an admin.
    """
    return _act(request_id, lambda sr: close_request(sr, reason=data["reason"], note=data["note"]))


@blp.route("/requests/<int:request_id>/reopen", methods=["POST"])
@roles_required(*ACTION_ROLES["reopen"])
@blp.doc(security=BEARER)
@blp.arguments(ReopenIn)
@blp.response(200, RequestStaffOut)
@_staff_errors((409, "The request is open."), (422, "No note."))
def reopen_endpoint(data: dict[str, Any], request_id: int):  # type: ignore[no-untyped-def]
    """Reopen a closed request; the note says why and is public.

    It returns to acknowledged and its SLA clock keeps running. For agents (a caller says it
    is not fixed), dispatchers of the request's department, managers and admins.
    """
    return _act(request_id, lambda sr: reopen_request(sr, note=data["note"]))


@blp.route("/requests/<int:request_id>/notes", methods=["POST"])
@roles_required(*ACTION_ROLES["note"])
@blp.doc(security=BEARER)
@blp.arguments(NoteIn)
@blp.response(201, RequestStaffOut)
@_staff_errors((422, "No note."))
def add_note_endpoint(data: dict[str, Any], request_id: int):  # type: ignore[no-untyped-def]
    """Add a note to a request's history: internal by default, public with "public": true.

    Dispatchers and crew may add notes to their own department's requests; agents,
    managers and admins to any.
    """
    return _act(
        request_id, lambda sr: add_request_note(sr, note=data["note"], public=data["public"])
    ), 201
