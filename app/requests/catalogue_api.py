"""The service-type admin API: /api/v1/admin/service-types, every change in the audit."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

from app.auth.api import BEARER
from app.auth.permissions import roles_required
from app.auth.roles import ADMIN
from app.core.apidocs import ADMIN_ERRORS, error_answers
from app.extensions import db
from app.org import service as org
from app.requests import catalogue_admin, catalogue_edit, catalogue_preview
from app.requests.models import ServiceType
from app.requests.schemas import ServiceTypeOut
from app.sla.calendar import SLA_UNITS

blp = Blueprint(
    "catalogue_admin_api",
    __name__,
    url_prefix="/api/v1/admin",
    description="The service catalogue (admin): types, their SLA and questions.",
)


class AdminServiceTypeOut(ServiceTypeOut):
    """A type as GET /api/v1/services shows it, with what only admins see."""

    keywords = fields.String()
    triage = fields.Boolean()
    active = fields.Boolean()
    public = fields.Boolean()
    sensitive = fields.Boolean()
    emergency_notice = fields.String()
    open_requests = fields.Function(catalogue_edit.open_requests_of_type)


class AdminServiceTypePatch(Schema):
    """The fields to change; a type's code never changes."""

    class Meta:
        unknown = EXCLUDE

    name = fields.String()
    description = fields.String()
    group = fields.String()
    keywords = fields.String()
    department = fields.String(metadata={"description": "The owning department's code."})
    sla_value = fields.Integer(strict=True)
    sla_unit = fields.String(validate=validate.OneOf(SLA_UNITS))
    attributes = fields.List(
        fields.Dict(), metadata={"description": "The questions, in the shape of /services."}
    )
    completion_photo_required = fields.Boolean()
    triage = fields.Boolean()
    active = fields.Boolean(metadata={"description": "false hides it from residents and Open311."})
    public = fields.Boolean(
        metadata={"description": "false: an internal type, for staff intake and imports only."}
    )
    sensitive = fields.Boolean(
        metadata={"description": "true: its locations are snapped to a grid in public data."}
    )
    emergency_notice = fields.String(
        validate=validate.Length(max=1000),
        metadata={"description": "Shown to residents instead of the form (e.g. call 911)."},
    )
    move_open_due_times = fields.Boolean(
        load_default=False,
        metadata={"description": "With an SLA change: count open requests' due times again."},
    )


class AdminServiceTypeIn(AdminServiceTypePatch):
    code = fields.String(required=True, validate=validate.Length(min=1, max=80))
    name = fields.String(required=True)
    department = fields.String(required=True)
    sla_value = fields.Integer(required=True, strict=True)


class AdminServiceTypeArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    q = fields.String(load_default="", metadata={"description": "Part of a code, name or group."})


class PreviewIn(Schema):
    code = fields.String(load_default="")
    name = fields.String(load_default="")
    attributes = fields.List(fields.Dict(), load_default=list)
    emergency_notice = fields.String(load_default="")


class PreviewOut(Schema):
    form_html = fields.String(
        metadata={"description": "The type's questions as the resident form renders them."}
    )
    definition = fields.Dict(
        metadata={"description": "What GET /open311/v2/services/<code>.json would answer."}
    )


def _errors(*answers: tuple[int, str]) -> Any:
    """Document the error answers of an endpoint."""
    return error_answers(blp, *ADMIN_ERRORS, *answers)


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    changes = {k: v for k, v in data.items() if k in catalogue_edit.EDITABLE}
    if "department" in data:
        changes["department_id"] = org.get_department(data["department"]).id
    return changes


@blp.route("/service-types", methods=["GET"])
@roles_required(ADMIN)
@blp.doc(security=BEARER)
@blp.arguments(AdminServiceTypeArgs, location="query")
@blp.response(200, AdminServiceTypeOut(many=True))
@_errors()
def list_types(args: dict[str, Any]) -> list[ServiceType]:
    """List every service type, active or not, with its open requests."""
    return catalogue_edit.search_service_types(args["q"])


@blp.route("/service-types/<code>", methods=["GET"])
@roles_required(ADMIN)
@blp.doc(security=BEARER)
@blp.response(200, AdminServiceTypeOut)
@_errors((404, "No such type."))
def get_type(code: str) -> ServiceType:
    """Return one service type, active or not."""
    return catalogue_edit.get_service_type(code)


@blp.route("/service-types", methods=["POST"])
@roles_required(ADMIN)
@blp.doc(security=BEARER)
@blp.arguments(AdminServiceTypeIn)
@blp.response(201, AdminServiceTypeOut)
@_errors(
    (400, "A bad SLA or question (a list question without values, two with one code)."),
    (404, "No such department."),
    (409, "The code is taken."),
    (422, "A missing field or one of the wrong type."),
)
def create_type(data: dict[str, Any]) -> ServiceType:
    """Add a service type with its SLA and questions."""
    st = catalogue_admin.create(data["code"], _fields(data))
    db.session.commit()
    return st


@blp.route("/service-types/<code>", methods=["PATCH"])
@roles_required(ADMIN)
@blp.doc(security=BEARER)
@blp.arguments(AdminServiceTypePatch)
@blp.response(200, AdminServiceTypeOut)
@_errors((400, "A bad name, SLA or question."), (404, "No such type or department."))
def change_type(data: dict[str, Any], code: str) -> ServiceType:
    """Edit a service type; open requests keep their due times unless move_open_due_times."""
    st = catalogue_edit.get_service_type(code)
    catalogue_admin.update(st, _fields(data), move_open_due_times=data["move_open_due_times"])
    db.session.commit()
    return st


@blp.route("/service-types/preview", methods=["POST"])
@roles_required(ADMIN)
@blp.doc(security=BEARER)
@blp.arguments(PreviewIn)
@blp.response(200, PreviewOut)
@_errors((400, "A malformed question or notice."), (422, "A field of the wrong type."))
def preview_type(data: dict[str, Any]) -> dict[str, Any]:
    """Preview a type as edited (nothing saved): its resident form and Open311 definition."""
    return catalogue_preview.preview(
        data["code"], data["name"], data["attributes"], data["emergency_notice"]
    )
