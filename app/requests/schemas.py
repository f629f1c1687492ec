"""marshmallow schemas of the requests API.

Public and staff views of a request are separate schemas: the public one has no field that
could carry the reporter's name, email or phone, so a mistake in a view cannot leak them.
"""

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

from app.requests.lifecycle import note_required
from app.requests.models import CLOSURE_REASONS, HOLD_REASONS, MAX_TEXT, OPEN_STATUSES, STATUSES
from app.requests.parsing import COORDINATE_MESSAGES, CoordinateError, parse_coordinate
from app.requests.queue import SORTS


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
        metadata={"description": f"What is wrong, up to {MAX_TEXT:,} characters."},
    )
    lat = Coordinate("lat")
    long = Coordinate("long")
    address = fields.String(load_default="", metadata={"description": "Address or landmark."})
    email = fields.String(load_default="", metadata={"description": "Private; gets updates."})
    phone = fields.String(load_default="", metadata={"description": "Private."})
    name = fields.String(load_default="", metadata={"description": "Private."})
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
    lat = fields.Float()
    long = fields.Float()
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


class IdNameOut(Schema):
    id = fields.Integer()
    name = fields.String()


class QueueItemOut(Schema):
    id = fields.Integer()
    service = fields.Nested(CodeNameOut)
    description = fields.String()
    address = fields.String()
    lat = fields.Float()
    long = fields.Float()
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


# ---------------------------------------------------------------------------------------------
# staff handling: acting on a request, and finding one


def _note(missing: str = "") -> fields.String:
    """Return a note field, required when `missing` says what to write."""
    extra: dict[str, Any] = {"required": True} if missing else {"load_default": ""}
    checks = [validate.Length(max=MAX_TEXT, error=f"note is longer than {MAX_TEXT} characters.")]
    if missing:
        checks.append(validate.Length(min=1, error=missing))  # blank once stripped
    return fields.String(
        **extra,
        validate=checks,
        error_messages={
            "required": missing,
            "null": missing or "note must be text, not null.",
            "invalid": "note must be text.",
        },
    )


def _reason(allowed: tuple[str, ...]) -> fields.String:
    """A required `reason` that must be one of `allowed`, saying which when it is not."""
    listed = ", ".join(allowed)
    return fields.String(
        required=True,
        validate=validate.OneOf(allowed, error=f"reason must be one of {listed}."),
        error_messages={
            "required": f"reason is required: one of {listed}.",
            "null": f"reason is required: one of {listed}.",
        },
        metadata={"description": listed},
    )


class _StaffActionIn(Schema):
    """A staff action's body: extra keys ignored, text trimmed before validation."""

    class Meta:
        unknown = EXCLUDE

    @pre_load
    def _strip(self, data: Any, **_: Any) -> Any:
        return _stripped(data, "reason", "note")


class CloseIn(_StaffActionIn):
    """Why a request is closed; the note goes to the reporter."""

    reason = _reason(CLOSURE_REASONS)
    note = _note()

    @validates_schema
    def _note_unless_fixed(self, data: dict[str, Any], **_: Any) -> None:
        reason = data.get("reason")
        if reason is not None and note_required(reason) and not data.get("note"):
            raise ValidationError(
                "note is required unless the reason is fixed: say why, the reporter reads it.",
                "note",
            )


class HoldIn(_StaffActionIn):
    """Why a request waits; its SLA clock stops until it is resumed."""

    reason = _reason(HOLD_REASONS)
    note = _note()


class ResumeIn(_StaffActionIn):
    note = _note()


class ReopenIn(_StaffActionIn):
    note = _note("note is required: say why the request is reopened.")


class NoteIn(_StaffActionIn):
    note = _note("note is required: write the note.")
    public = fields.Boolean(
        load_default=False,
        error_messages={"invalid": "public must be true or false."},
        metadata={"description": "true: the reporter sees it; false (default): staff only."},
    )


def _stripped(data: Any, *names: str) -> Any:
    if not isinstance(data, dict):
        return data
    data = dict(data)
    for name in names:
        if isinstance(data.get(name), str):
            data[name] = data[name].strip()
    return data


class SearchArgs(Schema):
    """Staff search: a request number, a reporter's email or phone, or words."""

    class Meta:
        unknown = EXCLUDE

    q = fields.String(
        load_default="",
        metadata={
            "description": "A request number, a reporter's email or phone number, or words "
            "of the description or address."
        },
    )
    status = fields.String(
        load_default="",
        validate=validate.OneOf(
            ("", "open", *STATUSES),
            error=f"status must be open or one of {', '.join(STATUSES)}.",
        ),
        metadata={"description": "open (any status but closed), or one status."},
    )
    department = fields.String(
        load_default="", metadata={"description": "A department code, e.g. PWD."}
    )


class RequestListItemOut(Schema):
    """A request in staff search results, with the reporter's contact details."""

    id = fields.Integer()
    status = fields.String()
    service = fields.Nested(CodeNameOut)
    department = fields.Nested(CodeNameOut)
    district = fields.Nested(CodeNameOut, allow_none=True)
    address = fields.String()
    description = fields.String()
    requested_at = fields.AwareDateTime()
    due_at = fields.AwareDateTime()
    overdue = fields.Boolean()
    closure_reason = fields.String(allow_none=True)
    reporter = fields.Nested(ReporterOut)


# ---------------------------------------------------------------------------------------------
# a department's work queue


def _coordinate_arg(name: str, limit: int) -> fields.Float:
    words = f"{name} must be a number from -{limit} to {limit}"
    return fields.Float(
        load_default=None,
        allow_nan=False,
        validate=validate.Range(min=-limit, max=limit, error=f"{words}."),
        error_messages={"invalid": f"{words}.", "special": f"{words}."},
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
    lat = _coordinate_arg("lat", 90)
    long = _coordinate_arg("long", 180)
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
