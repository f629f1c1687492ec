"""The call desk JSON API: route preview, caller lookup, and following on a caller's behalf.

The endpoints are on the requests API blueprint (bearer tokens). The call form asks the
same questions through app.requests.call_pages with its session; both answer with the
schemas and views below, so the two can never differ.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_login import current_user
from marshmallow import EXCLUDE, Schema, fields, pre_load, validate

from app.auth.permissions import roles_required
from app.core.apidocs import error_answers
from app.extensions import db
from app.requests import call_desk
from app.requests.api import BEARER, blp
from app.requests.models import ServiceRequest
from app.requests.permissions import ACTION_ROLES, DESK_ROLES, search_department
from app.requests.presenters import code_name
from app.requests.public_api import NearbyArgs
from app.requests.queue_schemas import coordinate_arg
from app.requests.schemas import CodeNameOut
from app.requests.words import status_word

#: a type and a point: what the public "nearby" question asks too
RoutePreviewArgs = NearbyArgs


class RoutePreviewOut(Schema):
    service = fields.Nested(CodeNameOut)
    department = fields.Nested(CodeNameOut)
    district = fields.Nested(CodeNameOut)
    due_at = fields.AwareDateTime(metadata={"description": "In the city's timezone."})
    due_text = fields.String(metadata={"description": "due_at as the call form says it."})
    crew_id = fields.Integer(
        allow_none=True, metadata={"description": "The crew a routing rule proposes."}
    )


class CallerLookupArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    phone = fields.String(
        load_default="",
        validate=validate.Length(max=40),
        metadata={"description": "Any punctuation; 7 digits at least to search."},
    )
    email = fields.String(load_default="", validate=validate.Length(max=254))
    service_code = fields.String(load_default="", validate=validate.Length(max=100))
    lat = coordinate_arg("lat", 90)
    long = coordinate_arg("long", 180)


class LookupItemOut(Schema):
    id = fields.Integer()
    service = fields.Nested(CodeNameOut)
    status = fields.String()
    status_text = fields.String()
    open = fields.Boolean()
    description = fields.String()
    address = fields.String()
    requested_at = fields.AwareDateTime()
    department = fields.Nested(CodeNameOut)
    distance_m = fields.Float(
        allow_none=True, metadata={"description": "Metres from the place (nearby only)."}
    )
    staff_url = fields.String()


class CallerLookupOut(Schema):
    earlier = fields.Nested(
        LookupItemOut, many=True, metadata={"description": "The caller's requests, newest first."}
    )
    nearby = fields.Nested(
        LookupItemOut,
        many=True,
        metadata={"description": "Open requests of the type near the place, nearest first."},
    )


class CallerFollowIn(Schema):
    class Meta:
        unknown = EXCLUDE

    email = fields.String(
        required=True,
        error_messages={"required": "email is required: the caller's address for the news."},
    )
    language = fields.String(load_default="", validate=validate.Length(max=20))

    @pre_load
    def _strip(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("email"), str):
            data = {**data, "email": data["email"].strip()}
        return data


class CallerFollowOut(Schema):
    request_id = fields.Integer()
    added = fields.Boolean(metadata={"description": "False: the address already gets its news."})
    message = fields.String()


def preview_view(found: call_desk.RoutePreview) -> dict[str, Any]:
    """Return the fields of RoutePreviewOut."""
    return {
        "service": {"code": found.service_code, "name": found.service_name},
        "department": {"code": found.department_code, "name": found.department_name},
        "district": {"code": found.district_code, "name": found.district_name},
        "due_at": found.due_at,
        "due_text": found.due_at.strftime("%a %b %d, %Y %H:%M %Z"),
        "crew_id": found.crew_id,
    }


def _item(sr: ServiceRequest, distance_m: float | None = None) -> dict[str, Any]:
    return {
        "id": sr.id,
        "service": code_name(sr.service_type),
        "status": sr.status,
        "status_text": status_word(sr.status),
        "open": sr.is_open,
        "description": sr.description,
        "address": sr.address,
        "requested_at": sr.requested_at,
        "department": code_name(sr.department),
        "distance_m": round(distance_m, 1) if distance_m is not None else None,
        "staff_url": url_for("staff.request_detail", request_id=sr.id),
    }


def lookup_view(args: dict[str, Any]) -> dict[str, Any]:
    """Run the caller lookup for the signed-in user; return the fields of CallerLookupOut."""
    found = call_desk.caller_lookup(**args, department_id=search_department(""))
    return {
        "earlier": [_item(sr) for sr in found.earlier],
        "nearby": [_item(sr, metres) for sr, metres in found.nearby],
    }


def follow_view(request_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """Add the caller as a follower as the signed-in user, commit; return CallerFollowOut."""
    sr, added = call_desk.follow_for_caller(
        request_id, data["email"], actor_id=current_user.id, language=data["language"]
    )
    db.session.commit()
    message = (
        f"{data['email']} now follows request {sr.id}: they get its updates and the fix photo."
        if added
        else f"{data['email']} already gets the updates of request {sr.id}."
    )
    return {"request_id": sr.id, "added": added, "message": message}


_ERRORS = (
    (401, "No bearer token."),
    (403, "Not a role that may do this."),
)


@blp.route("/requests/route-preview")
@roles_required(*DESK_ROLES)
@blp.doc(security=BEARER)
@blp.arguments(RoutePreviewArgs, location="query", as_kwargs=True)
@blp.response(200, RoutePreviewOut)
@error_answers(
    blp,
    *_ERRORS,
    (400, "Unknown service code, or a point outside the city."),
    (422, "A parameter is missing or out of range."),
)
def route_preview(service_code: str, lat: float, long: float) -> dict[str, Any]:
    """Where a request of this type at this point would go, storing nothing.

    The department (a routing rule's, else the type's), the district and the due time
    under the type's SLA calendar, in the city's timezone, exactly as intake would store
    them now. For agents, dispatchers, managers and admins.
    """
    return preview_view(call_desk.preview_route(service_code, lat, long))


@blp.route("/requests/caller-lookup")
@roles_required(*DESK_ROLES)
@blp.doc(security=BEARER)
@blp.arguments(CallerLookupArgs, location="query", as_kwargs=True)
@blp.response(200, CallerLookupOut)
@error_answers(blp, *_ERRORS, (422, "A parameter is out of range."))
def caller_lookup(**args: Any) -> dict[str, Any]:
    """A caller's earlier requests, and the open requests of a type near a place.

    Earlier requests match the phone number by its digits (the last 10 compared, 7 at
    least, so "(617) 555-0199" finds "+1 617 555 0199") or the email whatever its case;
    a dispatcher sees their department's only. Nearby: open requests of `service_code`
    near `lat`/`long`, as the likely-duplicate rule finds them. For agents, dispatchers,
    managers and admins.
    """
    return lookup_view(args)


@blp.route("/requests/<int:request_id>/followers/on-behalf", methods=["POST"])
@roles_required(*ACTION_ROLES["follow"])
@blp.doc(security=BEARER)
@blp.arguments(CallerFollowIn)
@blp.response(200, CallerFollowOut)
@error_answers(
    blp,
    *_ERRORS,
    (400, "Not an email address."),
    (404, "No such request."),
    (409, "The request is closed."),
    (422, "No email given."),
)
def follow_on_behalf(data: dict[str, Any], request_id: int) -> dict[str, Any]:
    """Add a caller as a follower of a request, on their behalf: no confirmation email.

    The caller asked on the phone instead of reporting the problem again; they get the
    request's updates and the fix photo, like its reporter. The request's history gets an
    internal note naming the address and the agent. For agents, dispatchers of the
    request's department, managers and admins.
    """
    return follow_view(request_id, data)
