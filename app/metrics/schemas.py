"""Marshmallow schemas of the metrics API. Aggregates only: no request, no reporter."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from app.core.inputs import moment_in_range
from app.metrics.service import GROUP_BYS

_TIME_ERRORS: dict[str, Any] = {
    "invalid": "Give an ISO 8601 date and time with an offset, e.g. 2026-01-01T00:00:00Z.",
    "invalid_awareness": "Add a UTC offset to the time, e.g. 2026-01-01T00:00:00Z or …-05:00.",
}


class MetricsQueryIn(Schema):
    group_by = fields.String(
        load_default="department",
        validate=validate.OneOf(
            GROUP_BYS, error="group_by must be one of: {choices} (not {input!r})."
        ),
        metadata={"description": f"one of {', '.join(GROUP_BYS)}"},
    )
    start = fields.AwareDateTime(
        load_default=None,
        validate=moment_in_range,
        error_messages=_TIME_ERRORS,
        metadata={
            "description": "ISO 8601 with an offset, between 1900 and 2199; "
            "default: 90 days before end"
        },
    )
    end = fields.AwareDateTime(
        load_default=None,
        validate=moment_in_range,
        error_messages=_TIME_ERRORS,
        metadata={"description": "ISO 8601 with an offset, between 1900 and 2199; default: now"},
    )
    department = fields.String(
        load_default=None, metadata={"description": "only this department's requests (its code)"}
    )


class MetricsRowOut(Schema):
    key = fields.String(
        allow_none=True, metadata={"description": "code of the group; null for unassigned"}
    )
    name = fields.String()
    requests = fields.Integer(metadata={"description": "requests made in the window"})
    closed = fields.Integer(metadata={"description": "requests closed in the window"})
    closed_fixed = fields.Integer(metadata={"description": "closed in the window as fixed"})
    closed_other = fields.Integer(
        metadata={"description": "closed in the window for another reason (duplicate, …)"}
    )
    median_hours_to_close = fields.Float(
        allow_none=True,
        metadata={"description": "from requested to closed, as the resident waited"},
    )
    p90_hours_to_close = fields.Float(allow_none=True)
    median_hours_to_close_excluding_holds = fields.Float(
        allow_none=True,
        metadata={"description": "the same, less the time the request spent on hold"},
    )
    p90_hours_to_close_excluding_holds = fields.Float(allow_none=True)
    pct_closed_within_sla = fields.Float(
        allow_none=True,
        metadata={
            "description": "percent of closures by their due time (which holds move); "
            "null if none closed"
        },
    )
    open_backlog = fields.Integer(metadata={"description": "open now"})
    overdue_open = fields.Integer(metadata={"description": "open now and past due"})
    median_hours_to_acknowledge = fields.Float(allow_none=True)


class MetricsResponseTimesOut(Schema):
    group_by = fields.String()
    start = fields.DateTime()
    end = fields.DateTime()
    generated_at = fields.DateTime()
    rows = fields.List(fields.Nested(MetricsRowOut))
    totals = fields.Nested(MetricsRowOut)
