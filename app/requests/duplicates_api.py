"""The duplicates JSON API: a request's likely duplicates, and merging one into another.

Its endpoints are on the requests API blueprint; who may merge is decided in
requests.permissions, as for the staff page's merge buttons.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import EXCLUDE, Schema, fields, pre_load, validate

from app.auth.permissions import roles_required
from app.core.apidocs import error_answers
from app.extensions import db
from app.requests import duplicates, service, subscribers
from app.requests.api import BEARER, blp
from app.requests.models import MAX_TEXT, ServiceRequest
from app.requests.permissions import ACTION_ROLES, DESK_ROLES, merge_request
from app.requests.presenters import code_name, lat_long
from app.requests.schemas import UNKNOWN_PLACE, CodeNameOut

#: the widest search a caller may ask for: beyond it "the same problem" means little
MAX_RADIUS_METRES = 1000


class DuplicatesArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    radius = fields.Float(
        load_default=None,
        allow_nan=False,
        validate=validate.Range(
            min=1,
            max=MAX_RADIUS_METRES,
            error=f"radius must be between 1 and {MAX_RADIUS_METRES} metres.",
        ),
        error_messages={"invalid": "radius must be a number of metres."},
        metadata={"description": "Metres; default DUPLICATE_RADIUS_METRES (50)."},
    )


class CandidateOut(Schema):
    id = fields.Integer()
    service = fields.Nested(CodeNameOut)
    status = fields.String()
    distance_m = fields.Float(metadata={"description": "Metres on the ground from the request."})
    requested_at = fields.AwareDateTime()
    due_at = fields.AwareDateTime()
    address = fields.String()
    description = fields.String()
    lat = fields.Float(allow_none=True, metadata={"description": UNKNOWN_PLACE})
    long = fields.Float(allow_none=True, metadata={"description": UNKNOWN_PLACE})
    department = fields.Nested(CodeNameOut)


class MergeIn(Schema):
    class Meta:
        unknown = EXCLUDE

    into = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, error="into must be a request number."),
        error_messages={
            "required": "into is required: the number of the request that tracks the problem.",
            "null": "into is required: the number of the request that tracks the problem.",
            "invalid": "into must be a request number.",
        },
    )
    note = fields.String(
        load_default="",
        validate=validate.Length(max=MAX_TEXT, error=f"note is longer than {MAX_TEXT} characters."),
        error_messages={"invalid": "note must be text.", "null": "note must be text, not null."},
        metadata={"description": "Public: added to the duplicate's closing note."},
    )

    @pre_load
    def _strip(self, data: Any, **_: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if isinstance(data.get("into"), bool):  # JSON true is no request number, not 1
            data = {**data, "into": str(data["into"])}
        if isinstance(data.get("note"), str):
            data = {**data, "note": data["note"].strip()}
        return data


class MergedRequestOut(Schema):
    id = fields.Integer()
    status = fields.String()
    closure_reason = fields.String(allow_none=True)
    closure_note = fields.String()
    parent_id = fields.Integer(allow_none=True)
    subscribers = fields.Integer(
        metadata={"description": "People told when it closes, besides its reporter."}
    )


class MergeOut(Schema):
    request = fields.Nested(MergedRequestOut, metadata={"description": "The duplicate, closed."})
    into = fields.Nested(MergedRequestOut, metadata={"description": "The original."})
    subscribed = fields.Integer(
        metadata={"description": "Addresses newly subscribed to the original."}
    )


def candidate_items(sr: ServiceRequest, *, radius_m: float | None = None) -> list[dict[str, Any]]:
    """Return the fields of CandidateOut for each likely duplicate of `sr`, nearest first."""
    found = duplicates.find_candidates(sr, radius_m=radius_m)
    metres = duplicates.distances(sr, found)
    items = []
    for other in found:
        lat, long = lat_long(other)
        items.append(
            {
                "id": other.id,
                "service": code_name(other.service_type),
                "status": other.status,
                "distance_m": round(metres.get(other.id, 0.0), 1),
                "requested_at": other.requested_at,
                "due_at": other.due_at,
                "address": other.address,
                "description": other.description,
                "lat": lat,
                "long": long,
                "department": code_name(other.department),
            }
        )
    return items


def _merged_view(sr: ServiceRequest) -> dict[str, Any]:
    return {
        "id": sr.id,
        "status": sr.status,
        "closure_reason": sr.closure_reason,
        "closure_note": sr.closure_note,
        "parent_id": sr.parent_id,
        "subscribers": subscribers.count(sr.id),
    }


_ERRORS = (
    (401, "No bearer token."),
    (403, "Not a role that may do this, or a request of another department."),
    (404, "No such request."),
)


def _errors(*extra: tuple[int, str]) -> Any:
    """Document the error answers of an endpoint."""
    return error_answers(blp, *_ERRORS, *extra)


@blp.route("/requests/<int:request_id>/duplicates")
@roles_required(*DESK_ROLES)
@blp.doc(security=BEARER)
@blp.arguments(DuplicatesArgs, location="query", as_kwargs=True)
@blp.response(200, CandidateOut(many=True))
@_errors((422, "radius is not a number of metres from 1 to 1000."))
def duplicates_endpoint(request_id: int, radius: float | None) -> list[dict[str, Any]]:
    """List the likely duplicates of a request, nearest first.

    Open requests of the same type within `radius` metres (default
    DUPLICATE_RADIUS_METRES, 50) reported within DUPLICATE_WINDOW_DAYS (30) of it, each with
    its distance in metres. For agents, dispatchers, managers and admins.
    """
    sr = service.get_request(request_id)
    if radius is None:
        radius = float(current_app.config["DUPLICATE_RADIUS_METRES"])
    return candidate_items(sr, radius_m=radius)


@blp.route("/requests/<int:request_id>/merge", methods=["POST"])
@roles_required(*ACTION_ROLES["merge"])
@blp.doc(security=BEARER)
@blp.arguments(MergeIn)
@blp.response(200, MergeOut)
@_errors(
    (409, "Into itself, a closed request on either side, or one a crew is on."),
    (422, "into is missing or not a request number."),
)
def merge_endpoint(data: dict[str, Any], request_id: int) -> dict[str, Any]:
    """Merge a request into the one that tracks the same problem.

    The request closes as a duplicate ("Merged into request N", with the note), links to
    the other (parent_id), and its reporter and subscribers are subscribed to the other:
    when that one closes, each gets the closure email with the crew's photo. At the merge
    they are told their report was merged. Refused with 409: into itself, into a closed
    or merged request (the answer names the request it was merged into: root_id), a
    closed request, or a request a crew is on (merge the other way). Requests of different
    types may be merged. For agents, dispatchers of the request's department, managers and
    admins.
    """
    merged = merge_request(request_id, data["into"], note=data["note"])
    db.session.commit()
    return {
        "request": _merged_view(merged.request),
        "into": _merged_view(merged.into),
        "subscribed": merged.subscribed,
    }
