"""marshmallow schemas of the requests API.

Public and staff views of a request are separate schemas: the public one has no field that
could carry the reporter's name, email or phone, so a mistake in a view cannot leak them.
"""

from __future__ import annotations

from typing import Any

from marshmallow import (
    EXCLUDE,
    Schema,
    fields,
    validate,
)

from app.requests.models import MAX_TEXT, NOTIFY_CHOICES
from app.requests.parsing import COORDINATE_MESSAGES, CoordinateError, parse_coordinate
from app.requests.words import LANGUAGES

#: what the API says of a null lat/long
UNKNOWN_PLACE = "null for imported history whose location the old system did not know"


class Coordinate(fields.Float):
    """A latitude or longitude in decimal degrees, read as the HTML forms read it."""

    def __init__(self, name: str) -> None:
        super().__init__(
            required=True,
            allow_nan=False,
            error_messages={k: m.format(name=name) for k, m in COORDINATE_MESSAGES.items()},
            metadata={"description": f"{'Latitude' if name == 'lat' else 'Longitude'}, WGS84."},
        )
        self.coordinate_name = name

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        try:
            parsed = parse_coordinate(value, self.coordinate_name)
        except CoordinateError as err:
            raise self.make_error(err.kind) from None
        if parsed is None:  # blank text: present, but not a number
            raise self.make_error("invalid")
        return parsed


def _text(description: str, longest: int) -> dict[str, Any]:
    """Document a free-text field that intake stores cut to its column's length."""
    return {
        "description": f"{description} Up to {longest} characters (longer is cut).",
        "maxLength": longest,
    }


class RequestIn(Schema):
    """A new service request, as JSON or as multipart form fields (plus a `photo` file)."""

    class Meta:
        # real clients (Open311 apps, scripts) send extra keys; they mean nothing here
        unknown = EXCLUDE

    service_code = fields.String(
        required=True,
        error_messages={
            "required": "service_code is required: GET /api/v1/services lists the codes."
        },
    )
    description = fields.String(
        load_default="",
        metadata={
            "description": f"Required (not blank): what is wrong, up to {MAX_TEXT:,} characters.",
            "maxLength": MAX_TEXT,
        },
    )
    lat = Coordinate("lat")
    long = Coordinate("long")
    address = fields.String(load_default="", metadata=_text("Address or landmark.", 400))
    email = fields.String(
        load_default="",
        metadata=_text("Private; gets updates. An address like name@example.org.", 254),
    )
    phone = fields.String(
        load_default="",
        metadata=_text("Private; gets text messages when notify is sms or both.", 40),
    )
    name = fields.String(load_default="", metadata=_text("Private.", 200))
    notify = fields.String(
        load_default="",
        validate=validate.OneOf(NOTIFY_CHOICES),
        metadata={
            "description": "How the reporter wants news: email (the default), sms (to "
            "phone), both, or none."
        },
    )
    language = fields.String(
        load_default="",
        validate=validate.OneOf(LANGUAGES),
        metadata={
            "description": "The language of the reporter's messages; by default the best "
            "match of the Accept-Language header, else en."
        },
    )
    attributes = fields.Dict(
        keys=fields.String(),
        load_default=dict,
        error_messages={"invalid": "attributes must be an object of answers by attribute code."},
        metadata={"description": "Answers to the service type's questions, by attribute code."},
    )


class CodeNameOut(Schema):
    code = fields.String()
    name = fields.String()


class SlaOut(Schema):
    value = fields.Integer()
    unit = fields.String(metadata={"description": "hours or business_days"})


class ServiceTypeOut(Schema):
    code = fields.String()
    name = fields.String()
    description = fields.String()
    group = fields.String()
    department = fields.Nested(CodeNameOut)
    sla = fields.Function(lambda st: {"value": st.sla_value, "unit": st.sla_unit})
    attributes = fields.List(
        fields.Dict(),
        metadata={"description": "Questions: code, description, datatype, required, values."},
    )
    completion_photo_required = fields.Boolean()


class PhotoLocationOut(Schema):
    lat = fields.Float()
    long = fields.Float()
    taken_at = fields.AwareDateTime(allow_none=True)


class SubmittedOut(Schema):
    id = fields.Integer()
    status = fields.String()
    service_code = fields.String()
    service_name = fields.String()
    department = fields.Nested(CodeNameOut)
    district = fields.Nested(CodeNameOut)
    requested_at = fields.AwareDateTime()
    due_at = fields.AwareDateTime()
    photo_url = fields.String(allow_none=True)
    #: every photo sent with the report, photo_url first
    photo_urls = fields.List(fields.String())
    #: where and when the camera says the photo was taken (from its GPS tags), if it says so
    photo_location = fields.Nested(PhotoLocationOut, allow_none=True)
    tracking_url = fields.String()


class PublicEventOut(Schema):
    kind = fields.String()
    at = fields.AwareDateTime()
    status = fields.String(attribute="to_status", allow_none=True)
    note = fields.String()


class StaffEventOut(PublicEventOut):
    public = fields.Boolean()
    from_status = fields.String(allow_none=True)
    actor = fields.Function(
        lambda e: (
            {"id": e.actor.id, "name": e.actor.name, "email": e.actor.email} if e.actor else None
        )
    )
    data = fields.Dict()


class PhotoOut(Schema):
    id = fields.Integer()
    url = fields.String()
    thumbnail_url = fields.String()


class ReporterOut(Schema):
    name = fields.String()
    email = fields.String()
    phone = fields.String()


class RequestPublicOut(Schema):
    """What anyone may read about a request: never the reporter's contact details."""

    id = fields.Integer()
    status = fields.String()
    service = fields.Nested(CodeNameOut)
    description = fields.String()
    lat = fields.Float(allow_none=True, metadata={"description": UNKNOWN_PLACE})
    long = fields.Float(allow_none=True, metadata={"description": UNKNOWN_PLACE})
    address = fields.String()
    department = fields.Nested(CodeNameOut)
    district = fields.Nested(CodeNameOut, allow_none=True)
    requested_at = fields.AwareDateTime()
    acknowledged_at = fields.AwareDateTime(allow_none=True)
    due_at = fields.AwareDateTime()
    closed_at = fields.AwareDateTime(allow_none=True)
    closure_reason = fields.String(allow_none=True)
    closure_note = fields.String()
    history = fields.List(fields.Nested(PublicEventOut))
    photos = fields.List(fields.Nested(PhotoOut))


class RequestStaffOut(RequestPublicOut):
    """The public view plus the reporter, the channel, the answers and internal history."""

    reporter = fields.Nested(ReporterOut)
    channel = fields.String()
    attributes = fields.Dict()
    created_by_id = fields.Integer(allow_none=True)
    events = fields.List(fields.Nested(StaffEventOut))
