"""The staff requests JSON API: find a request, and acknowledge, close, reopen or annotate it.

Its endpoints are on the requests API blueprint, beside the public ones; who may do what is
decided in requests.permissions, as for the staff pages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, request
from flask_smorest.pagination import PaginationParameters

from app.auth.permissions import roles_required
from app.core.apidocs import error_answers, json_answer, total_is_lower_bound
from app.core.errors import DomainError
from app.core.idempotency import IDEMPOTENCY_HEADER, idempotent
from app.extensions import db
from app.media import service as media
from app.requests import service
from app.requests.api import (
    BEARER,
    FORM_CONTENT_TYPES,
    UnsupportedBody,
    blp,
    load_fields,
)
from app.requests.models import MAX_TEXT, ServiceRequest
from app.requests.permissions import (
    ACTION_ROLES,
    STAFF_ROLES,
    acknowledge_request,
    add_request_note,
    check_may_handle,
    close_request,
    hold_request,
    reopen_request,
    resume_request,
    search_department,
)
from app.requests.presenters import list_item, request_view
from app.requests.schemas import RequestStaffOut
from app.requests.staff_schemas import (
    CloseIn,
    HoldIn,
    NoteIn,
    ReopenIn,
    RequestListItemOut,
    ResumeIn,
    SearchArgs,
)

_STAFF_ERRORS = (
    (401, "No bearer token."),
    (403, "Not a role that may do this, or a request of another department."),
    (404, "No such request (or department, for a search)."),
)


def _staff_errors(*extra: tuple[int, str]) -> Any:
    """Document the error answers of an endpoint."""
    return error_answers(blp, *_STAFF_ERRORS, *extra)


# roles_required sits above the argument parsing: no credentials is 401 whatever the body


@blp.route("/requests", methods=["GET"])
@roles_required(*STAFF_ROLES)
@blp.doc(security=BEARER)
@blp.arguments(SearchArgs, location="query", as_kwargs=True)
@blp.response(200, RequestListItemOut(many=True))
@blp.paginate(page_size=service.SEARCH_PAGE_SIZE, max_page_size=service.SEARCH_PAGE_SIZE)
@_staff_errors((422, "A query parameter is not valid."))
def search_requests_endpoint(
    q: str, status: str, department: str, pagination_parameters: PaginationParameters
) -> Response:
    """Find requests by number, the reporter's email or phone, or words.

    `q` is a request number, an email address (case-insensitive), a phone number (digits
    compare on the last 10, so "+1 617 555 0199" finds "(617) 555-0199"; 7 digits find the
    numbers ending with them), or words that must all appear in the description or
    address. Newest first, 50 per page. Dispatchers and crew see their own department's
    requests; agents, managers and admins see all.

    The X-Pagination header has the total, counted up to 500 matches past the page's
    first: when more match, `total` is that count, `total_is_lower_bound` is true, and
    `next_page` is there while there are more (each page counts 500 further).
    """
    department_id = search_department(department)
    found = service.search_requests(
        q,
        status=status,
        department_id=department_id,
        page=pagination_parameters.page,
        page_size=pagination_parameters.page_size,
    )
    pagination_parameters.item_count = found.total
    if found.more:
        total_is_lower_bound(pagination_parameters)
    return json_answer([list_item(sr) for sr in found.items])  # shaped as RequestListItemOut


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
def acknowledge_endpoint(request_id: int) -> dict[str, Any]:
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
def close_endpoint(data: dict[str, Any], request_id: int) -> dict[str, Any]:
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
def reopen_endpoint(data: dict[str, Any], request_id: int) -> dict[str, Any]:
    """Reopen a closed request; the note says why and is public.

    It returns to acknowledged and its SLA clock keeps running. For agents (a caller says it
    is not fixed), dispatchers of the request's department, managers and admins.
    """
    return _act(request_id, lambda sr: reopen_request(sr, note=data["note"]))


@blp.route("/requests/<int:request_id>/hold", methods=["POST"])
@roles_required(*ACTION_ROLES["hold"])
@blp.doc(security=BEARER)
@blp.arguments(HoldIn)
@blp.response(200, RequestStaffOut)
@_staff_errors(
    (409, "The request is closed or already on hold."), (422, "No or an unknown reason.")
)
def hold_endpoint(data: dict[str, Any], request_id: int):  # type: ignore[no-untyped-def]
    """Put a request on hold: its SLA clock stops until it is resumed.

    The reason is waiting_on_resident, other_agency, materials, weather or other. For the
    request's department's dispatchers and crews, managers and admins.
    """
    return _act(request_id, lambda sr: hold_request(sr, reason=data["reason"], note=data["note"]))


@blp.route("/requests/<int:request_id>/resume", methods=["POST"])
@roles_required(*ACTION_ROLES["resume"])
@blp.doc(security=BEARER)
@blp.arguments(ResumeIn)
@blp.response(200, RequestStaffOut)
@_staff_errors((409, "The request is not on hold."))
def resume_endpoint(data: dict[str, Any], request_id: int):  # type: ignore[no-untyped-def]
    """End a hold: the request returns to where it was, and its due time moves by the pause."""
    return _act(request_id, lambda sr: resume_request(sr, note=data["note"]))


def _note_body() -> tuple[dict[str, Any], list[media.ValidatedPhoto]]:
    """Read a note from a JSON body, or from form fields with its `photo` files.

    :raises UnsupportedBody: neither JSON nor a form (415).
    :raises InvalidInput: no note, or `public` not a boolean (422).
    :raises InvalidPhoto: too many photos, or one not a whole image (400).
    :raises PhotoTooLarge: a photo over MAX_PHOTO_BYTES (413).
    """
    uploads = []
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise DomainError('The JSON body must be an object such as {"note": "..."}.')
    elif request.mimetype in FORM_CONTENT_TYPES:
        body = {k: v for k, v in request.form.items() if k in ("note", "public")}
        uploads = request.files.getlist("photo")
    else:
        raise UnsupportedBody(
            "Send the note as application/json, or as multipart/form-data with photos."
        )
    data = load_fields(NoteIn(), body)
    # every file is checked before anything is stored: one bad file keeps them all out
    return data, media.validate_uploads(uploads, field="photo")


@blp.route("/requests/<int:request_id>/notes", methods=["POST"])
@roles_required(*ACTION_ROLES["note"])
@idempotent
@blp.doc(
    security=BEARER,
    parameters=[IDEMPOTENCY_HEADER],
    requestBody={
        "required": True,
        "content": {
            "application/json": {"schema": NoteIn},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["note"],
                    "properties": {
                        "note": {"type": "string", "maxLength": MAX_TEXT},
                        "public": {"type": "boolean"},
                        "photo": {
                            "type": "string",
                            "format": "binary",
                            "description": "JPEG, PNG or WebP, as public as the note; repeat "
                            "the field for up to MAX_PHOTOS_PER_UPLOAD photos.",
                        },
                    },
                }
            },
        },
    },
)
@blp.response(201, RequestStaffOut)
@_staff_errors(
    (400, "Too many photos, or a file that is not a whole JPEG, PNG or WebP photo."),
    (413, "A photo or the body is too large."),
    (415, "Neither JSON nor a form."),
    (422, "No note."),
)
def add_note_endpoint(request_id: int) -> tuple[dict[str, Any], int]:
    """Add a note to a request's history: internal by default, public with "public": true.

    Send JSON, or multipart/form-data with up to MAX_PHOTOS_PER_UPLOAD `photo` files: the
    photos are as public as the note (an internal note's are shown to staff only). With an
    Idempotency-Key header a retry gets the first answer and adds nothing. Dispatchers and
    crew may add notes to their own department's requests; agents, managers and admins to
    any.
    """
    sr = service.get_request(request_id, for_update=True)
    check_may_handle(sr, "note")  # refuse a stranger before reading their upload
    data, photos = _note_body()
    add_request_note(sr, note=data["note"], public=data["public"], photos=photos)
    # the idempotency decorator commits after the view: read the new event without it
    db.session.expire(sr, ["events"])
    return request_view(sr, staff=True), 201
