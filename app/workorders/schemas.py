"""Marshmallow schemas of the work-order API (staff only: no reporter contact anywhere)."""

from __future__ import annotations

from typing import Any

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.requests.models import MAX_TEXT
from app.requests.schemas import UNKNOWN_PLACE, PhotoOut
from app.workorders.models import PRIORITIES, WORK_ORDER_STATUSES


class DepartmentRef(Schema):
    code = fields.String()
    name = fields.String()


class CrewRef(Schema):
    id = fields.Integer()
    name = fields.String()


class CrewOut(Schema):
    id = fields.Integer()
    name = fields.String()
    department = fields.Nested(DepartmentRef)
    active = fields.Boolean()
    open_work_orders = fields.Integer(metadata={"description": "assigned or in progress"})


class CrewListArgs(Schema):
    department = fields.String(
        metadata={"description": "department code; managers and admins only"}
    )


class AnswerOut(Schema):
    question = fields.String()
    answer = fields.String()


class WorkOrderRequestOut(Schema):
    """A request as the crew needs it: what, where, when it is due, and what the reporter sent."""

    id = fields.Integer()
    status = fields.String()
    service_code = fields.String(attribute="service_type.code")
    service_name = fields.String(attribute="service_type.name")
    address = fields.String()
    description = fields.String()
    due_at = fields.DateTime()
    lat = fields.Float(allow_none=True, metadata={"description": UNKNOWN_PLACE})
    long = fields.Float(allow_none=True, metadata={"description": UNKNOWN_PLACE})
    hold_reason = fields.String(allow_none=True, metadata={"description": "while on hold"})
    closure_reason = fields.String(allow_none=True)
    parent_id = fields.Integer(
        allow_none=True, metadata={"description": "the request it was merged into, if any"}
    )
    answers = fields.List(
        fields.Nested(AnswerOut), metadata={"description": "the type's questions, answered"}
    )
    photos = fields.List(fields.Nested(PhotoOut), metadata={"description": "the reporter's"})


class MaterialOut(Schema):
    name = fields.String()
    quantity = fields.Float()
    unit = fields.String()


class WorkPhotosOut(Schema):
    before = fields.List(fields.Nested(PhotoOut))
    after = fields.List(fields.Nested(PhotoOut))


class WorkOrderIn(Schema):
    request_ids = fields.List(
        fields.Integer(strict=True),
        required=True,
        metadata={"description": "open requests of the crew's department"},
    )
    crew_id = fields.Integer(strict=True, required=True)
    instructions = fields.String(load_default="", validate=validate.Length(max=MAX_TEXT))
    priority = fields.String(
        load_default="normal",
        validate=validate.OneOf(
            PRIORITIES, error=f"priority must be one of {', '.join(PRIORITIES)}."
        ),
    )
    scheduled_for = fields.Date(
        load_default=None, allow_none=True, metadata={"description": "the day planned, YYYY-MM-DD"}
    )


class WorkOrderOut(Schema):
    id = fields.Integer()
    status = fields.String(metadata={"enum": list(WORK_ORDER_STATUSES)})
    crew = fields.Nested(CrewRef)
    department = fields.Nested(DepartmentRef)
    instructions = fields.String()
    priority = fields.String(metadata={"enum": list(PRIORITIES)})
    scheduled_for = fields.Date(allow_none=True)
    request_ids = fields.List(fields.Integer())
    requests = fields.List(fields.Nested(WorkOrderRequestOut))
    assigned_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    completion_note = fields.String()
    labour_hours = fields.Float(allow_none=True, metadata={"description": "reported at completion"})
    materials = fields.List(fields.Nested(MaterialOut))
    photos = fields.Nested(WorkPhotosOut, metadata={"description": "the crew's, by kind"})
    photo_url = fields.String(
        allow_none=True, metadata={"description": "the completion photo, once completed"}
    )


class CrewWorkOrderOut(WorkOrderOut):
    distance_m = fields.Float(
        allow_none=True,
        metadata={"description": "metres on the ground from lat/long; null without them"},
    )


class OutcomeOut(Schema):
    request_id = fields.Integer()
    outcome = fields.String(metadata={"enum": ["closed", "parent_closed", "already_closed"]})
    message = fields.String()
    parent_id = fields.Integer(
        allow_none=True, metadata={"description": "a duplicate's original, as merged"}
    )
    closed_request_id = fields.Integer(
        allow_none=True, metadata={"description": "parent_closed: the request closed instead"}
    )


class CompletedOut(WorkOrderOut):
    outcomes = fields.List(
        fields.Nested(OutcomeOut), metadata={"description": "what became of each request"}
    )


class CrewWorkOrdersArgs(Schema):
    lat = fields.Float(
        validate=validate.Range(-90, 90), metadata={"description": "the crew's position"}
    )
    long = fields.Float(validate=validate.Range(-180, 180))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=200))

    @validates_schema
    def _both_or_neither(self, data: dict[str, Any], **_: Any) -> None:
        if ("lat" in data) != ("long" in data):
            raise ValidationError("Send both lat and long, or neither.", "lat")


class WorkOrderListArgs(Schema):
    crew_id = fields.Integer()
    department = fields.String(metadata={"description": "department code"})
    status = fields.String(validate=validate.OneOf(WORK_ORDER_STATUSES))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))


class CompleteForm(Schema):
    """multipart/form-data body of POST /workorders/<id>/complete."""

    note = fields.String(
        validate=validate.Length(max=MAX_TEXT),
        metadata={"description": "shown to the reporters with the photo"},
    )
    photo = Upload(
        metadata={
            "description": "JPEG, PNG or WebP of the finished work; required when any "
            "request's service type asks for one, unless an after photo was added before. "
            "Repeat the field for up to MAX_PHOTOS_PER_UPLOAD photos; the first is the "
            "one the reporters get"
        }
    )
    labour_hours = fields.Float(metadata={"description": "0 to 999; blank or absent: not said"})
    materials = fields.String(
        metadata={
            "description": 'a JSON list in this one form field: [{"name": "cold patch", '
            '"quantity": 2, "unit": "bag"}]; name required, quantity a number above 0, '
            "unit text"
        }
    )


class PhotoForm(Schema):
    """multipart/form-data body of POST /workorders/<id>/photos."""

    kind = fields.String(required=True, metadata={"enum": ["before", "after"]})
    photo = Upload(
        required=True,
        metadata={
            "description": "JPEG, PNG or WebP; repeat the field for up to "
            "MAX_PHOTOS_PER_UPLOAD photos"
        },
    )


class CancelIn(Schema):
    reason = fields.String(
        required=True,
        validate=validate.Length(min=1, max=MAX_TEXT),
        metadata={"description": "kept internal"},
    )
