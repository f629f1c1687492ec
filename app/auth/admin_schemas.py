"""marshmallow schemas of the users and API tokens admin API."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from app.auth.roles import ROLES

_ROLE = {"description": f"One of {', '.join(ROLES)}."}
_DEPARTMENT = {"description": "The department's code; dispatchers need one."}
_CREW = {"description": "The crew's id; crew members need one (it sets the department)."}


class AdminUserOut(Schema):
    """A staff account as an admin sees it: never its password hash or tokens."""

    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    department = fields.Function(lambda u: u.department.code if u.department else None)
    crew_id = fields.Integer(allow_none=True)
    crew = fields.Function(lambda u: u.crew.name if u.crew else None)
    active = fields.Boolean()
    password_set = fields.Boolean(
        metadata={"description": "false until the invitee chose a password from the link"},
    )
    created_at = fields.AwareDateTime()
    last_sign_in_at = fields.AwareDateTime(allow_none=True)


class AdminUserIn(Schema):
    """An invitation: the account is made without a password, and its owner gets a link."""

    class Meta:
        unknown = EXCLUDE

    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    role = fields.String(required=True, validate=validate.OneOf(ROLES), metadata=_ROLE)
    name = fields.String(load_default="", validate=validate.Length(max=200))
    department = fields.String(load_default=None, allow_none=True, metadata=_DEPARTMENT)
    crew_id = fields.Integer(load_default=None, allow_none=True, metadata=_CREW)


class AdminUserPatch(Schema):
    """Fields left out keep their value; leaving the crew role drops the crew."""

    class Meta:
        unknown = EXCLUDE

    name = fields.String(validate=validate.Length(max=200))
    role = fields.String(validate=validate.OneOf(ROLES), metadata=_ROLE)
    department = fields.String(allow_none=True, metadata=_DEPARTMENT)
    crew_id = fields.Integer(allow_none=True, metadata=_CREW)
    active = fields.Boolean(
        metadata={
            "description": "false ends the sessions and revokes the API tokens; refused (409) "
            "for the last active admin."
        }
    )


class AdminUserArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    q = fields.String(
        load_default="", metadata={"description": "Part of an email, name, role or department."}
    )


class AdminTokenOut(Schema):
    """An API token's record; the token itself is never stored, only its hash."""

    id = fields.Integer()
    user_id = fields.Integer()
    user_email = fields.Function(lambda t: t.user.email)
    created_at = fields.AwareDateTime()
    last_used_at = fields.AwareDateTime(allow_none=True)
    expires_at = fields.AwareDateTime()
    revoked_at = fields.AwareDateTime(allow_none=True)


class AdminTokenArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    q = fields.String(load_default="", metadata={"description": "Part of the owner's email."})
    user_id = fields.Integer(load_default=None, allow_none=True)
