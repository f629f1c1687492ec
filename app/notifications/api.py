"""Satisfaction API: what reporters answered to "is it fixed?", per department or type."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.auth.api import BEARER
from app.auth.permissions import roles_required
from app.auth.roles import SUPERVISORS
from app.notifications import survey

blp = Blueprint(
    "satisfaction_api",
    __name__,
    url_prefix="/api/v1",
    description="Reporters' answers to 'is it fixed?' (managers and admins).",
)


class SatisfactionQueryIn(Schema):
    group_by = fields.String(
        load_default="department",
        validate=validate.OneOf(["department", "service_type"]),
        metadata={"description": "department or service_type"},
    )


class SatisfactionGroupOut(Schema):
    key = fields.String(metadata={"description": "department or service type code"})
    name = fields.String()
    responses = fields.Integer(metadata={"description": "answers received"})
    share_fixed = fields.Float(metadata={"description": "share of answers saying fixed, 0–1"})
    mean_rating = fields.Float(allow_none=True, metadata={"description": "mean of 1–5 ratings"})
    ratings = fields.Integer(metadata={"description": "answers that gave a rating"})
    reopened = fields.Integer(metadata={"description": "'not fixed' answers that reopened"})


class SatisfactionOut(Schema):
    group_by = fields.String()
    groups = fields.List(fields.Nested(SatisfactionGroupOut))


@blp.route("/metrics/satisfaction", methods=["GET"])
@roles_required(*SUPERVISORS)
@blp.doc(security=BEARER)
@blp.arguments(SatisfactionQueryIn, location="query")
@blp.response(200, SatisfactionOut)
def satisfaction(query: dict[str, Any]) -> dict[str, Any]:
    """Response count, share fixed and mean rating per department or service type."""
    return {"group_by": query["group_by"], "groups": survey.satisfaction(query["group_by"])}
