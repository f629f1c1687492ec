"""GET /api/v1/addresses: address and intersection suggestions from the city's gazetteer."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

from app.core.apidocs import error_answers
from app.core.limits import TOO_MANY_ANSWER, limited
from app.core.replica import reads_from_replica
from app.geo import search
from app.geo import service as geo_service
from app.geo.routing import routing_kind

blp = Blueprint(
    "geo_api",
    __name__,
    url_prefix="/api/v1",
    description="The city's gazetteer: find an address or an intersection as it is typed.",
)


class AddressArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    q = fields.String(
        required=True,
        validate=validate.Length(max=200, error="q is at most 200 characters."),
        error_messages={"required": "q is required: the address or intersection typed so far."},
        metadata={"description": 'e.g. "12 elm", "elm stret", "Main St & Broad St".'},
    )
    limit = fields.Integer(
        load_default=search.MAX_RESULTS,
        validate=validate.Range(
            min=1, max=search.MAX_RESULTS, error=f"limit is 1 to {search.MAX_RESULTS}."
        ),
    )


class PlaceOut(Schema):
    label = fields.String(metadata={"description": "The address or 'A St & B St'."})
    lat = fields.Float()
    long = fields.Float()
    district = fields.String(
        allow_none=True, metadata={"description": "The name of the district it is in."}
    )
    kind = fields.String(metadata={"description": "address or intersection"})
    address_id = fields.String(
        allow_none=True, metadata={"description": "The gazetteer's id (Open311 address_id)."}
    )


class AddressesOut(Schema):
    results = fields.List(fields.Nested(PlaceOut))


@blp.route("/addresses")
@blp.arguments(AddressArgs, location="query", as_kwargs=True)
@blp.response(200, AddressesOut)
@blp.doc(security=[{}])
@error_answers(
    blp,
    (422, "q is missing or too long."),
    TOO_MANY_ANSWER,
)
@limited("RATELIMIT_ADDRESS_SEARCH")
@reads_from_replica
def addresses(q: str, limit: int) -> dict[str, Any]:
    """Suggest gazetteer addresses and intersections for what has been typed, best first.

    Prefix and typo tolerant ("12 elm", "elm stret"); two streets joined by "&", "and" or
    "at" find their intersection. Fewer than three letters or digits find nothing. Public.
    """
    return {"results": search.search(q, limit=limit)}


class OutlinesOut(Schema):
    type = fields.String()
    features = fields.List(fields.Dict())


@blp.route("/districts/outlines")
@blp.response(200, OutlinesOut)
@blp.doc(security=[{}])
@error_answers(blp, TOO_MANY_ANSWER)
@limited("RATELIMIT_PUBLIC_READ")
@reads_from_replica
def outlines() -> tuple[dict[str, Any], int, dict[str, str]]:
    """The city's districts (of the routing kind) as GeoJSON, drawn on the public maps.

    The maps show the city's shape with them even when no map tiles can be loaded.
    """
    headers = {"Cache-Control": "public, max-age=3600"}
    return geo_service.district_outlines(routing_kind()), 200, headers
