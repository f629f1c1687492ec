"""The public requests JSON API: the service catalogue, intake, a request's status, queues.

The staff endpoints (search, acknowledge, close, reopen, notes) are in staff_api, on the
same blueprint.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask_login import current_user
from flask_smorest.pagination import PaginationParameters
from marshmallow import Schema, ValidationError
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import BadRequest

from app.auth.permissions import can_see_department, roles_required
from app.auth.roles import DISPATCH_ROLES
from app.core import limits
from app.core.apidocs import CountedBlueprint, json_answer, total_is_lower_bound
from app.core.errors import DomainError, Forbidden, InvalidPhoto
from app.core.idempotency import IDEMPOTENCY_HEADER, idempotent
from app.media import service as media
from app.media import uploads as photo_uploads
from app.org import service as org
from app.requests import contact_cap, service
from app.requests.models import MAX_TEXT, ServiceType
from app.requests.parsing import parse_attribute_fields
from app.requests.permissions import may_read_private
from app.requests.presenters import photo_urls, queue_page_items, request_view, tracking_url
from app.requests.queue_schemas import QueueArgs, QueueItemOut
from app.requests.schemas import (
    RequestIn,
    RequestPublicOut,
    RequestStaffOut,
    ServiceTypeOut,
    SubmittedOut,
)
from app.requests.words import pick_language

blp = CountedBlueprint(
    "requests_api",
    __name__,
    url_prefix="/api/v1",
    description="The service catalogue, intake of service requests, their status, and queues.",
)

BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
#: the endpoint is public, and a staff token gets more
BEARER_OPTIONAL: list[dict[str, list[str]]] = [{}, {"bearerAuth": []}]
FORM_CONTENT_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
#: the queue's count of open imported requests it leaves out
HIDDEN_IMPORTED_HEADER = "X-Hidden-Imported"


class InvalidInput(DomainError):
    status_code = 422
    code = "unprocessable"


class UnsupportedBody(DomainError):
    status_code = 415
    code = "unsupported_media_type"


def _first_message(name: str, messages: object) -> str:
    if isinstance(messages, dict):  # a nested field: {key: [messages]}
        messages = next(iter(messages.values()), "")
    text = str(messages[0] if isinstance(messages, list) and messages else messages)
    # marshmallow's own messages ("Not a valid string.") do not name the field
    return text if text.startswith(name) else f"{name}: {text}"


#: made once: a schema's construction copies its fields, and loading leaves it unchanged
_REQUEST_IN = RequestIn()


def parse_submission() -> tuple[dict[str, Any], list[FileStorage]]:
    """Read a new request from a JSON body or from form fields; return it and its photo files.

    :raises DomainError: the JSON is malformed or not an object (400).
    :raises UnsupportedBody: the body is neither JSON nor a form (415).
    :raises InvalidInput: fields are missing or of the wrong type (422).
    """
    photos: list[FileStorage] = []
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
        body["attributes"] = parse_attribute_fields(request.form)
        # `photo` repeated, one part per file
        photos = [file for file in request.files.getlist("photo") if file.filename]
    else:
        raise UnsupportedBody(
            "Send the request as application/json, or as multipart/form-data when it has a photo."
        )
    return load_fields(_REQUEST_IN, body), photos


def load_fields(schema: Schema, body: dict[str, Any]) -> dict[str, Any]:
    """Load a request body with a schema, saying every field's problem in one message.

    :raises InvalidInput: fields are missing or of the wrong type (422).
    """
    try:
        data: dict[str, Any] = schema.load(body)
    except ValidationError as err:
        messages = err.messages if isinstance(err.messages, dict) else {"_body": err.messages}
        summary = " ".join(_first_message(name, msgs) for name, msgs in messages.items())
        raise InvalidInput(summary, errors=messages) from None
    return data


def _photo_tokens() -> list[str]:
    """Return the photo tokens sent: a JSON string or list, or repeated form fields."""
    if request.is_json:
        body = request.get_json(silent=True)
        value = body.get("photo_token") if isinstance(body, dict) else None
        values = value if isinstance(value, list) else [value] if value else []
        return [str(v) for v in values]
    return request.form.getlist("photo_token")


def _count_report(email: str, phone: str) -> None:
    """Count an anonymous report per address (RATELIMIT_REPORT) and per contact, at once.

    Decided in this process, with no wait on Redis (limits.hit_all): intake is the hot path.

    :raises RateLimited: over a limit (429, with Retry-After).
    """
    limits.hit_all([contact_cap.address_count(), *contact_cap.counts(email, phone)])


# ---------------------------------------------------------------------------------------------
# endpoints


@blp.route("/services")
@blp.response(200, ServiceTypeOut(many=True))
def list_services() -> list[ServiceType]:
    """List the service types that can be requested.

    Each type names its department, its SLA target and the questions to answer with it.
    Internal types (staff use only) are not listed.
    """
    return service.list_service_types(public_only=True)


@blp.route("/requests", methods=["POST"])
@idempotent
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
                        "description": {"type": "string", "maxLength": MAX_TEXT},
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
                        "photo_token": {
                            "type": "string",
                            "description": "A token from POST /api/v1/photos; repeatable.",
                        },
                        "photo": {
                            "type": "string",
                            "format": "binary",
                            "description": "JPEG, PNG or WebP, up to MAX_PHOTO_BYTES each; "
                            "repeat the field for up to MAX_PHOTOS_PER_UPLOAD photos.",
                        },
                    },
                }
            },
        },
    },
    security=BEARER_OPTIONAL,
    parameters=[IDEMPOTENCY_HEADER],
)
@blp.response(201, SubmittedOut)
@blp.alt_response(413, response="DEFAULT_ERROR", description="The photo or body is too large.")
@blp.alt_response(415, response="DEFAULT_ERROR", description="Neither JSON nor a form.")
@blp.alt_response(422, response="DEFAULT_ERROR", description="A field is missing or mistyped.")
@blp.alt_response(
    429,
    response="DEFAULT_ERROR",
    description="Too many reports from this address, or from this email or phone today.",
)
def create_request() -> Response:
    """Report a problem.

    Send JSON, or multipart/form-data with the same fields and an optional `photo`. The
    request is routed to its department and ward; the answer has its SLA due time and the
    public tracking URL. Unknown fields are ignored. The reporter's name, email and phone
    stay private. A photo sent ahead (POST /api/v1/photos) is named by `photo_token`
    (repeat it for several). With an `Idempotency-Key` header (a UUID), a retry gets the
    first answer and stores nothing more.
    """
    data, uploads = parse_submission()
    if not current_user.is_authenticated:
        # signed-in staff are accountable and work at volume: not counted
        _count_report(data["email"], data["phone"])
    sent_ahead = photo_uploads.read_tokens(_photo_tokens())
    photos = media.validate_photos([upload.stream for upload in uploads])
    if len(photos) + len(sent_ahead) > media.max_photos():
        raise InvalidPhoto(f"Send at most {media.max_photos()} photos with a report.")
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
        notify=data["notify"],
        language=data["language"] or pick_language(*request.accept_languages.values()),
    )
    actor_id = current_user.id if current_user.is_authenticated else None
    result = service.submit_request(
        new, channel="api", actor_id=actor_id, photos=photos, uploads=sent_ahead, alone=True
    )
    places = [u.location for u in sent_ahead] + [p.location for p in photos]
    submitted = {
        "id": result.id,
        "status": result.status,
        "service_code": result.service_code,
        "service_name": result.service_name,
        "department": {"code": result.department_code, "name": result.department_name},
        "district": {"code": result.district_code, "name": result.district_name},
        "requested_at": result.requested_at,
        "due_at": result.due_at,
        "photo_url": photo_urls(result.photo_id)["url"] if result.photo_id else None,
        "photo_urls": [photo_urls(photo_id)["url"] for photo_id in result.photo_ids],
        # the first photo that says where it was taken
        "photo_location": next((place.as_dict() for place in places if place), None),
        "tracking_url": tracking_url(result.id),
    }
    return json_answer(submitted, 201)  # shaped as SubmittedOut


@blp.route("/requests/<int:request_id>")
@blp.doc(security=BEARER_OPTIONAL)
@blp.response(
    200,
    # documented as either view: each forbids fields it does not list
    {
        "anyOf": [
            {"$ref": "#/components/schemas/RequestPublicOut"},
            {"$ref": "#/components/schemas/RequestStaffOut"},
        ]
    },
    description="The public view (RequestPublicOut); for the staff who may read the "
    "reporter and the internal history, RequestStaffOut.",
)
@blp.alt_response(404, response="DEFAULT_ERROR", description="No such request.")
def get_request(request_id: int) -> Response:
    """Read a request's status and public history.

    Anyone gets the public view. With the bearer token of an agent, a manager, an admin, or
    a dispatcher or crew member of the request's department, the answer also has the
    reporter's contact details, the channel, the answers and the internal history; other
    departments' staff get the public view.
    """
    sr = service.get_request(request_id)
    staff = may_read_private(sr)
    view = request_view(sr, staff=staff)
    # dumped here, not by the decorator: the schema depends on who asks
    return jsonify((RequestStaffOut() if staff else RequestPublicOut()).dump(view))


@blp.route("/departments/<code>/queue")
@roles_required(*DISPATCH_ROLES)
@blp.doc(security=BEARER)
@blp.arguments(QueueArgs, location="query", as_kwargs=True)
@blp.response(
    200,
    QueueItemOut(many=True),
    headers={
        HIDDEN_IMPORTED_HEADER: {
            "description": "How many open requests imported as history match the filters "
            "but are left out (0 with include_imported=true), counted up to 5,000.",
            "schema": {"type": "integer"},
        }
    },
)
@blp.paginate(page_size=service.QUEUE_PAGE_SIZE, max_page_size=service.MAX_QUEUE_PAGE_SIZE)
@blp.alt_response(401, response="DEFAULT_ERROR", description="No bearer token.")
@blp.alt_response(403, response="DEFAULT_ERROR", description="Not this department's staff.")
@blp.alt_response(404, response="DEFAULT_ERROR", description="No such department.")
@blp.alt_response(422, response="DEFAULT_ERROR", description="A filter value is not valid.")
def department_queue(
    code: str, pagination_parameters: PaginationParameters, **args: Any
) -> tuple[Response, dict[str, str]]:
    """List a department's open requests, most overdue first, a page at a time.

    Filter by `status` (open statuses, repeated or comma-separated), `service_code`,
    `district` (code), `overdue`, `crew_id` (on an open work order of that crew, or
    proposed for it by routing) and `q` (as the staff search). `sort` is `due` (default),
    `age` (oldest first) or `distance` (nearest to `lat`/`long` first). Pages of 50 by
    default (`page`, `page_size` up to 200). The X-Pagination header has the total,
    counted up to 5,000 requests past the page's first: when more match, `total` is that
    count, `total_is_lower_bound` is true, and `next_page` is there while there are more.
    Requests imported as history are left out unless `include_imported=true`; the
    X-Hidden-Imported header says how many were. Each item has its number of likely
    duplicates and the crew routing proposed. Dispatchers see their own department's
    queue; managers and admins see every queue.
    """
    dept = org.get_department(code)
    if not can_see_department(dept.id):
        raise Forbidden(f"You dispatch for another department, not {dept.code}.")
    page = service.find_queue(
        dept,
        service.QueueFilters.from_args(args),
        page=pagination_parameters.page,
        page_size=pagination_parameters.page_size,
    )
    pagination_parameters.item_count = page.total
    if page.more:
        total_is_lower_bound(pagination_parameters)
    # shaped as QueueItemOut
    items = json_answer(queue_page_items(page))
    return items, {HIDDEN_IMPORTED_HEADER: str(page.hidden_imported)}
