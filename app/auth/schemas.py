"""Marshmallow schemas of the auth API: credentials in, tokens and the signed-in user out."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class AuthTokenIn(Schema):
    email = fields.String(
        required=True, validate=validate.Length(min=1, max=254), metadata={"example": "a@city.gov"}
    )
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=1024)
    )


class AuthUserOut(Schema):
    """A staff account as its owner sees it; no password hash, no tokens."""

    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    department = fields.Function(
        lambda u: u.department.code if u.department else None,
        allow_none=True,
        metadata={"description": "department code, or null for managers, admins and agents"},
    )
    crew = fields.Function(
        lambda u: u.crew.name if u.crew else None,
        allow_none=True,
        metadata={"description": "crew name, for crew members"},
    )


class AuthTokenOut(Schema):
    token = fields.String(
        metadata={"description": "send as 'Authorization: Bearer <token>'; shown only once"}
    )
    expires_at = fields.DateTime()
    user = fields.Nested(AuthUserOut)
