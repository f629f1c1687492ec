"""marshmallow schemas of the departments and crews admin API."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate


class AdminDepartmentOut(Schema):
    id = fields.Integer()
    code = fields.String(metadata={"description": "Stable: never changes on rename."})
    name = fields.String()
    email = fields.String(allow_none=True)
    active = fields.Boolean()


class AdminDepartmentIn(Schema):
    class Meta:
        unknown = EXCLUDE

    code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.String(load_default=None, allow_none=True)


class AdminDepartmentPatch(Schema):
    """A rename, a new email, or (de)activation; the code never changes."""

    class Meta:
        unknown = EXCLUDE

    name = fields.String(validate=validate.Length(min=1, max=200))
    email = fields.String(allow_none=True)
    active = fields.Boolean(
        metadata={"description": "false is refused (409) while the department has open requests."}
    )


class AdminCrewOut(Schema):
    id = fields.Integer()
    name = fields.String()
    department = fields.Function(lambda crew: crew.department.code)
    department_id = fields.Integer()
    active = fields.Boolean()


class AdminCrewIn(Schema):
    class Meta:
        unknown = EXCLUDE

    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    department = fields.String(required=True, metadata={"description": "The department's code."})


class AdminCrewPatch(Schema):
    class Meta:
        unknown = EXCLUDE

    name = fields.String(validate=validate.Length(min=1, max=120))
    active = fields.Boolean()


class AdminSearchArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    q = fields.String(load_default="", metadata={"description": "Part of a code or name."})
