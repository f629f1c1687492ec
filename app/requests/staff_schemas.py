"""marshmallow schemas of the staff requests API: acting on a request, and finding one."""

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

from app.requests.models import CLOSURE_REASONS, HOLD_REASONS, MAX_TEXT, STATUSES
from app.requests.notes import note_required
from app.requests.schemas import CodeNameOut, ReporterOut


def _note(missing: str = "", rule: str = "") -> fields.String:
    """Return a note field, required when `missing` says what to write; `rule` documents it."""
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
        metadata={
            "description": (rule or ("Required. " if missing else "Optional. "))
            + f"Up to {MAX_TEXT:,} characters; spaces around it are dropped."
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
    """Why a request is closed; the note goes to the reporter.

    The note is required unless the reason is `fixed`.
    """

    reason = _reason(CLOSURE_REASONS)
    note = _note(
        rule="Required (not blank) unless reason is fixed: the reporter reads why their "
        "request was closed without a fix; a 400 names the note otherwise. "
    )

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
