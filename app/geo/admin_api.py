"""The districts admin API: /api/v1/admin/districts, list and replace a kind's boundaries."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, ValidationError, fields

from app.auth.api import BEARER
from app.auth.permissions import roles_required
from app.auth.roles import ADMIN
from app.core.apidocs import ADMIN_ERRORS, error_answers
from app.core.errors import DomainError
from app.extensions import db
from app.geo import boundaries, replace
from app.geo.routing import routing_kind

blp = Blueprint(
    "districts_admin_api",
    __name__,
    url_prefix="/api/v1/admin",
    description="District boundaries (admin): list them, replace a kind's from a GeoJSON file.",
)


class MissingFields(DomainError):
    status_code = 422
    code = "unprocessable"


class DistrictRowOut(Schema):
    code = fields.String()
    name = fields.String()
    retired = fields.Boolean(metadata={"description": "Removed, kept for closed requests."})
    open_requests = fields.Integer()


class DistrictKindOut(Schema):
    kind = fields.String()
    routing = fields.Boolean(metadata={"description": "This kind tags and routes requests."})
    districts = fields.List(fields.Nested(DistrictRowOut))


class ReplaceIn(Schema):
    class Meta:
        unknown = EXCLUDE

    kind = fields.String(required=True, metadata={"description": "e.g. ward"})
    code_property = fields.String(required=True, metadata={"description": "e.g. WARD"})
    name_property = fields.String(load_default="")
    dry_run = fields.Boolean(
        load_default=False, metadata={"description": "true: answer what would change, keep none."}
    )


class ReplacementOut(Schema):
    kind = fields.String()
    routing = fields.Boolean()
    added = fields.List(fields.String())
    changed = fields.List(fields.String())
    removed = fields.List(fields.String())
    unchanged = fields.List(fields.String())
    repaired = fields.List(fields.String(), metadata={"description": "Invalid polygons repaired."})
    moved = fields.Integer(metadata={"description": "Open requests that change district."})
    outside = fields.Integer(metadata={"description": "Open requests left in no district."})
    applied = fields.Boolean()


@blp.route("/districts", methods=["GET"])
@roles_required(ADMIN)
@blp.doc(security=BEARER)
@blp.response(200, DistrictKindOut(many=True))
@error_answers(blp, *ADMIN_ERRORS)
def list_districts() -> list[dict[str, Any]]:
    """List the districts by kind, with their open requests."""
    return [
        {"kind": kind, "routing": kind == routing_kind(), "districts": rows}
        for kind, rows in replace.districts_by_kind().items()
    ]


@blp.route("/districts", methods=["POST"])
@roles_required(ADMIN)
@blp.doc(
    security=BEARER,
    requestBody={
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "kind", "code_property"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "kind": {"type": "string"},
                        "code_property": {"type": "string"},
                        "name_property": {"type": "string"},
                        "dry_run": {"type": "boolean"},
                    },
                }
            }
        },
    },
)
@blp.response(200, ReplacementOut)
@error_answers(
    blp,
    *ADMIN_ERRORS,
    (
        400,
        "Not GeoJSON, not WGS 84, not polygons, a missing or repeated code, open requests "
        "left outside every district: nothing is changed.",
    ),
    (422, "A missing field."),
)
def replace_kind(*_: Any) -> dict[str, Any]:
    """Replace all the districts of a kind with a GeoJSON file (multipart `file`), all or nothing.

    With dry_run, answer what would change (added, changed, removed, open requests that
    change district or would be outside every one) and change nothing.
    """
    try:
        args = ReplaceIn().load(request.form.to_dict())
    except ValidationError as err:
        fields_at_fault = ", ".join(sorted(map(str, err.normalized_messages())))
        raise MissingFields(f"Give {fields_at_fault} (form fields).", errors=err.messages) from None
    upload = request.files.get("file")
    if upload is None:
        raise DomainError("Send the GeoJSON file as the multipart field `file`.", field="file")
    found = boundaries.read_boundaries(
        upload.read(),
        kind=replace.check_kind(args["kind"]),
        code_property=args["code_property"],
        name_property=args["name_property"],
    )
    done = replace.replace_districts(
        args["kind"], found, apply=not args["dry_run"], source=upload.filename or ""
    )
    db.session.commit()
    return done.summary()
