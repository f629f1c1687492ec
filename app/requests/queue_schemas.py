"""marshmallow schemas of a department's work queue: its filters and its items."""

from __future__ import annotations

from typing import Any

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
    validates_schema,
)

from app.requests.models import OPEN_STATUSES
from app.requests.queue import SORTS
from app.requests.schemas import UNKNOWN_PLACE, CodeNameOut, ReporterOut


class IdNameOut(Schema):
    id = fields.Integer()
    name = fields.String()


class QueueItemOut(Schema):
    id = fields.Integer()
    service = fields.Nested(CodeNameOut)
    description = fields.String()
    address = fields.String()
    lat = fields.Float(allow_none=True, metadata={"description": UNKNOWN_PLACE})
    long = fields.Float(allow_none=True, metadata={"description": UNKNOWN_PLACE})
    district = fields.Nested(CodeNameOut, allow_none=True)
    status = fields.String()
    requested_at = fields.AwareDateTime()
    due_at = fields.AwareDateTime()
    overdue = fields.Boolean()
    reporter = fields.Nested(ReporterOut)
    duplicates = fields.Integer(
        metadata={"description": "How many likely duplicates it has (same type, close by)."}
    )
    proposed_crew = fields.Nested(
        IdNameOut, allow_none=True, metadata={"description": "The crew routing proposed."}
    )
    imported = fields.Boolean(metadata={"description": "Imported as history (channel import)."})
    distance_m = fields.Float(
        metadata={"description": "Metres from lat/long; only when they were sent."}
    )


def coordinate_arg(name: str, limit: int, *, required: bool = False) -> fields.Float:
    """A lat or long query argument, in range, with messages that name it."""
    words = f"{name} must be a number from -{limit} to {limit}"
    presence: dict[str, Any] = {"required": True} if required else {"load_default": None}
    return fields.Float(
        **presence,
        allow_nan=False,
        validate=validate.Range(min=-limit, max=limit, error=f"{words}."),
        error_messages={
            "invalid": f"{words}.",
            "special": f"{words}.",
            "required": f"{name} is required, in decimal degrees.",
        },
        metadata={"description": f"{'Latitude' if name == 'lat' else 'Longitude'}, WGS84."},
    )


class QueueArgs(Schema):
    """The filters and order of a department's queue; a blank value filters nothing."""

    class Meta:
        unknown = EXCLUDE

    status = fields.List(
        fields.String(),
        load_default=list,
        validate=validate.ContainsOnly(
            OPEN_STATUSES, error=f"status must be among the open ones: {', '.join(OPEN_STATUSES)}."
        ),
        metadata={"description": "Open statuses; repeat it or separate with commas."},
    )
    service_code = fields.String(
        load_default="", metadata={"description": "A service type's code, e.g. pothole."}
    )
    district = fields.String(load_default="", metadata={"description": "A district's code."})
    overdue = fields.Boolean(
        load_default=None,
        error_messages={"invalid": "overdue must be true or false."},
        metadata={"description": "true: only overdue requests; false: only those not yet due."},
    )
    crew_id = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, error="crew_id must be a crew's number."),
        error_messages={"invalid": "crew_id must be a crew's number."},
        metadata={
            "description": "Requests on an open work order of this crew, or proposed for it."
        },
    )
    q = fields.String(
        load_default="",
        validate=validate.Length(max=200, error="q is longer than 200 characters."),
        metadata={"description": "A request number, a reporter's email or phone, or words."},
    )
    sort = fields.String(
        load_default="due",
        validate=validate.OneOf(SORTS, error=f"sort must be one of {', '.join(SORTS)}."),
        metadata={
            "description": "due (earliest due first, the default), age (oldest first) or "
            "distance (nearest to lat/long first)."
        },
    )
    lat = coordinate_arg("lat", 90)
    long = coordinate_arg("long", 180)
    include_imported = fields.Boolean(
        load_default=False,
        error_messages={"invalid": "include_imported must be true or false."},
        metadata={"description": "true: also list open requests imported as history."},
    )

    @pre_load
    def _drop_blanks(self, data: Any, **_: Any) -> Any:
        # an HTML form sends its empty fields; they mean "any", as if left out
        if not hasattr(data, "keys"):
            return data
        cleaned: dict[str, Any] = {}
        for key in data.keys():  # noqa: SIM118 (webargs' proxy gives lists by key only)
            value = data[key]
            if key == "status":
                values = value if isinstance(value, list) else [value]
                parts = [p.strip() for v in values if isinstance(v, str) for p in v.split(",")]
                value = [p for p in parts if p] + [v for v in values if not isinstance(v, str)]
            elif isinstance(value, str):
                value = value.strip()
            if value not in ("", []):
                cleaned[key] = value
        return cleaned

    @validates_schema
    def _point(self, data: dict[str, Any], **_: Any) -> None:
        has_lat, has_long = data.get("lat") is not None, data.get("long") is not None
        if has_lat != has_long:
            raise ValidationError("lat and long go together: send both or neither.", "lat")
        if data.get("sort") == "distance" and not has_lat:
            raise ValidationError(
                "sort=distance needs lat and long: the point to measure from.", "sort"
            )
