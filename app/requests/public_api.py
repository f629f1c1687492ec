"""Public, anonymous endpoints for residents: nearby open requests, following one, the map.

None of them shows who reported anything: only what the public tracking page shows. Each
is rate limited per client address.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

from app.core.apidocs import error_answers
from app.core.clock import utcnow
from app.core.limits import TOO_MANY_ANSWER, limited
from app.core.replica import reads_from_replica
from app.extensions import db
from app.notifications import follow
from app.requests import duplicates, public_map
from app.requests.api import blp
from app.requests.models import STATUSES
from app.requests.presenters import code_name, tracking_url
from app.requests.queue_schemas import coordinate_arg
from app.requests.schemas import CodeNameOut

#: open requests shown before submitting: enough to recognise one's own problem
MAX_NEARBY = 10


class NearbyArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    service_code = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        error_messages={"required": "service_code is required: the category being reported."},
    )
    lat = coordinate_arg("lat", 90, required=True)
    long = coordinate_arg("long", 180, required=True)


class NearbyOut(Schema):
    """An open request near the given point: public fields only."""

    id = fields.Integer()
    service = fields.Nested(CodeNameOut)
    status = fields.String()
    description = fields.String()
    address = fields.String()
    requested_at = fields.AwareDateTime()
    distance_m = fields.Float(metadata={"description": "Metres on the ground from the point."})
    tracking_url = fields.String()


class FollowIn(Schema):
    class Meta:
        unknown = EXCLUDE

    email = fields.String(
        required=True, error_messages={"required": "email is required: where to send the link."}
    )


class FollowOut(Schema):
    message = fields.String()


@blp.route("/requests/nearby")
@blp.arguments(NearbyArgs, location="query", as_kwargs=True)
@blp.response(200, NearbyOut(many=True))
@blp.doc(security=[{}])
@error_answers(blp, (422, "A parameter is missing or out of range."), TOO_MANY_ANSWER)
@limited("RATELIMIT_PUBLIC_READ")
@reads_from_replica
def nearby(service_code: str, lat: float, long: float) -> list[dict[str, Any]]:
    """Open requests of this type near a point: "is it one of these?" before reporting.

    The same rule that flags likely duplicates for staff: same type, not closed, within
    DUPLICATE_RADIUS_METRES, reported within DUPLICATE_WINDOW_DAYS. Nearest first. Public:
    no reporter details.
    """
    found = duplicates.find_near(service_code, lat, long, limit=MAX_NEARBY)
    return [
        {
            "id": sr.id,
            "service": code_name(sr.service_type),
            "status": sr.status,
            "description": sr.description,
            "address": sr.address,
            "requested_at": sr.requested_at,
            "distance_m": round(metres, 1),
            "tracking_url": tracking_url(sr.id),
        }
        for sr, metres in found
    ]


@blp.route("/requests/<int:request_id>/followers", methods=["POST"])
@blp.arguments(FollowIn)
@blp.response(202, FollowOut)
@blp.doc(security=[{}])
@error_answers(
    blp,
    (400, "Not an email address."),
    (404, "No such request."),
    (422, "No email given."),
    TOO_MANY_ANSWER,
)
@limited("RATELIMIT_FOLLOW", shared="follow")
def add_follower(data: dict[str, str], request_id: int) -> dict[str, str]:
    """Follow a request by email instead of reporting it again.

    Answers 202: a confirmation link is emailed, and the address gets the request's news
    (as its reporter does) once the link is opened. The answer is the same whether or not
    the address already follows, so it tells nobody who does.
    """
    follow.ask_to_follow(request_id, data["email"])
    db.session.commit()
    return {"message": "Check your inbox: confirm with the link we sent to follow this request."}


class MapArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    service_code = fields.String(load_default=None, validate=validate.Length(max=100))
    status = fields.String(
        load_default=None,
        validate=validate.OneOf(
            ("open", *STATUSES), error="status must be open or one of " + ", ".join(STATUSES)
        ),
    )
    days = fields.Integer(
        load_default=90,
        validate=validate.Range(min=1, max=365, error="days must be between 1 and 365."),
    )
    limit = fields.Integer(
        load_default=public_map.MAX_FEATURES,
        validate=validate.Range(
            min=1,
            max=public_map.MAX_FEATURES,
            error=f"limit must be between 1 and {public_map.MAX_FEATURES}.",
        ),
    )
    before_id = fields.Integer(
        load_default=None,
        metadata={"description": "Paging: only requests older than this id (the last one seen)."},
    )


class MapFeatureProperties(Schema):
    id = fields.Integer()
    service = fields.Nested(CodeNameOut)
    status = fields.String()
    requested_at = fields.AwareDateTime()
    url = fields.String()


class MapFeature(Schema):
    type = fields.String()
    geometry = fields.Dict()
    properties = fields.Nested(MapFeatureProperties)


class PublicMapOut(Schema):
    type = fields.String()
    features = fields.List(fields.Nested(MapFeature))
    next_before_id = fields.Integer(
        allow_none=True, metadata={"description": "Pass as before_id for the next page."}
    )


@blp.route("/map/requests")
@blp.arguments(MapArgs, location="query", as_kwargs=True)
@blp.response(200, PublicMapOut)
@blp.doc(security=[{}])
@error_answers(blp, (422, "A parameter is out of range."), TOO_MANY_ANSWER)
@limited("RATELIMIT_PUBLIC_READ")
@reads_from_replica
def map_requests(
    service_code: str | None, status: str | None, days: int, limit: int, before_id: int | None
) -> dict[str, Any]:
    """Recent requests as GeoJSON for the public map, newest first, a page at a time.

    No reporter details; the locations of sensitive types are generalised.
    """
    since = utcnow() - timedelta(days=days)
    rows = public_map.recent(
        since=since, service_code=service_code, status=status, limit=limit, before_id=before_id
    )
    features = [public_map.feature(row) for row in rows]
    more = len(rows) == limit
    return {
        "type": "FeatureCollection",
        "features": features,
        "next_before_id": rows[-1].id if more and rows else None,
    }
