"""Marshmallow schemas of the work-order API (staff only: no reporter contact anywhere)."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from app.requests.models import MAX_TEXT
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


class WorkOrderRequestOut(Schema):
    """A request as the crew needs it: what, where and when it is due."""

    id = fields.Integer()
    status = fields.String()
    service_code = fields.String(attribute="service_type.code")
    service_name = fields.String(attribute="service_type.name")
    address = fields.String()
    description = fields.String()
    due_at = fields.DateTime()


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
    photo_url = fields.String(
        allow_none=True, metadata={"description": "the completion photo, once completed"}
    )


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
            "request's service type asks for one"
        }
    )


class CancelIn(Schema):
    reason = fields.String(
        required=True,
        validate=validate.Length(min=1, max=MAX_TEXT),
        metadata={"description": "kept internal"},
    )
