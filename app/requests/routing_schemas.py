"""marshmallow schemas of the routing-rule and transfer endpoints."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, pre_load, validate

from app.requests.models import MAX_TEXT
from app.requests.schemas import CodeNameOut


def _stripped(data: Any, *names: str) -> Any:
    if not isinstance(data, dict):
        return data
    return {k: v.strip() if k in names and isinstance(v, str) else v for k, v in data.items()}


class RoutingRuleIn(Schema):
    """Where a type's requests go, in one district or in all of them."""

    class Meta:
        unknown = EXCLUDE

    service_code = fields.String(
        required=True,
        validate=validate.Length(min=1, error="service_code is required."),
        error_messages={"required": "service_code is required: the type the rule routes."},
        metadata={"description": "The service type the rule routes."},
    )
    district = fields.String(
        load_default=None,
        allow_none=True,
        metadata={"description": "A ward's code; leave it out (or null) for every district."},
    )
    department = fields.String(
        load_default=None,
        allow_none=True,
        metadata={"description": "The department's code; defaults to the crew's department."},
    )
    crew_id = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        error_messages={"invalid": "crew_id must be a crew's id (a whole number)."},
        metadata={"description": "The crew proposed to dispatch; of the rule's department."},
    )

    @pre_load
    def _strip(self, data: Any, **_: Any) -> Any:
        return _stripped(data, "service_code", "district", "department")


class CrewRefOut(Schema):
    id = fields.Integer()
    name = fields.String()


class RoutingRuleOut(Schema):
    id = fields.Integer()
    service = fields.Nested(CodeNameOut, attribute="service_type")
    district = fields.Nested(
        CodeNameOut, allow_none=True, metadata={"description": "null: every district."}
    )
    department = fields.Nested(CodeNameOut)
    crew = fields.Nested(CrewRefOut, allow_none=True)
    created_at = fields.DateTime()


class TransferIn(Schema):
    """The type a request really is, and why."""

    class Meta:
        unknown = EXCLUDE

    service_code = fields.String(
        required=True,
        error_messages={
            "required": "service_code is required: the type the request really is.",
            "null": "service_code is required: the type the request really is.",
        },
    )
    note = fields.String(
        required=True,
        validate=[
            validate.Length(max=MAX_TEXT, error=f"note is longer than {MAX_TEXT} characters."),
            validate.Length(min=1, error="note is required: say why, the new department reads it."),
        ],
        error_messages={
            "required": "note is required: say why, the new department reads it.",
            "null": "note is required: say why, the new department reads it.",
        },
    )

    @pre_load
    def _strip(self, data: Any, **_: Any) -> Any:
        return _stripped(data, "service_code", "note")
