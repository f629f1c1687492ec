"""Marshmallow schemas of the KPI API. Aggregates only: no request text, no reporter."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.metrics.filters import GROUP_BYS, PERIODS
from app.metrics.models import TARGET_KPIS


class KpiFiltersIn(Schema):
    """Documented here; read and checked by filters.parse so a bad value is a clear 400."""

    from_ = fields.String(
        data_key="from", metadata={"description": "first city-local day, YYYY-MM-DD"}
    )
    to = fields.String(metadata={"description": "last city-local day (inclusive), YYYY-MM-DD"})
    department = fields.String(metadata={"description": "a department code"})
    service_type = fields.String(metadata={"description": "a service type code"})
    district = fields.String(metadata={"description": "a district code"})
    channel = fields.String(metadata={"description": "web, phone, api, mobile, open311, import"})
    format = fields.String(metadata={"description": "json (default) or csv"})


class KpiGroupsIn(KpiFiltersIn):
    group_by = fields.String(metadata={"description": f"one of {', '.join(GROUP_BYS)}"})


class KpiTrendIn(KpiFiltersIn):
    period = fields.String(metadata={"description": f"one of {', '.join(PERIODS)}"})


class KpiMapIn(KpiFiltersIn):
    page_size = fields.String(metadata={"description": "most points returned (limit applies)"})


class FiguresOut(Schema):
    key = fields.String(allow_none=True, metadata={"description": "group code or period start"})
    name = fields.String()
    volume = fields.Integer(metadata={"description": "requests made in the range"})
    acknowledged = fields.Integer()
    closed = fields.Integer(metadata={"description": "every closure in the range"})
    closed_counted = fields.Integer(
        metadata={"description": "closures counted in time to close and SLA (fixed, not found)"}
    )
    closed_duplicate = fields.Integer(metadata={"description": "kept apart"})
    closed_referred = fields.Integer(metadata={"description": "kept apart"})
    closed_no_action = fields.Integer(metadata={"description": "kept apart"})
    within_sla = fields.Integer()
    reopened = fields.Integer()
    transferred = fields.Integer()
    median_hours_to_acknowledge = fields.Float(allow_none=True)
    median_hours_to_close = fields.Float(allow_none=True)
    p90_hours_to_close = fields.Float(allow_none=True)
    median_hours_to_close_excluding_holds = fields.Float(allow_none=True)
    p90_hours_to_close_excluding_holds = fields.Float(allow_none=True)
    pct_within_sla = fields.Float(allow_none=True)
    reopen_rate = fields.Float(allow_none=True, metadata={"description": "% of closures"})
    transfer_rate = fields.Float(allow_none=True, metadata={"description": "% of requests"})
    open_backlog = fields.Integer()
    overdue = fields.Integer()
    satisfaction_responses = fields.Integer(
        metadata={"description": "reporters' answers to 'is it fixed?' given in the range"}
    )
    satisfaction_ratings = fields.Integer(metadata={"description": "answers that gave a rating"})
    pct_fixed = fields.Float(allow_none=True, metadata={"description": "% of answers: fixed"})
    mean_rating = fields.Float(allow_none=True, metadata={"description": "mean 1–5 rating"})
    small_sample = fields.List(
        fields.String(), metadata={"description": "figures from fewer than min_sample requests"}
    )


class KpiReportOut(Schema):
    group_by = fields.String()
    first = fields.Date()
    last = fields.Date()
    max_relative_error = fields.Float(
        metadata={"description": "largest relative error of a median or p90: 0 when exact"}
    )
    percentiles = fields.String(
        metadata={"description": "exact (from the raw rows) or histogram (from the rollups)"}
    )
    min_sample = fields.Integer()
    rows = fields.List(fields.Nested(FiguresOut))
    totals = fields.Nested(FiguresOut)


class KpiTrendOut(Schema):
    period = fields.String()
    first = fields.Date()
    last = fields.Date()
    max_relative_error = fields.Float(
        metadata={"description": "largest relative error of a median or p90: 0 when exact"}
    )
    percentiles = fields.String(
        metadata={"description": "exact (from the raw rows) or histogram (from the rollups)"}
    )
    rows = fields.List(fields.Nested(FiguresOut))


class AgeBucketOut(Schema):
    label = fields.String()
    open = fields.Integer()
    overdue = fields.Integer()


class BacklogOut(Schema):
    buckets = fields.List(fields.Nested(AgeBucketOut))


class PointOut(Schema):
    id = fields.Integer()
    lat = fields.Float()
    long = fields.Float()
    service_type = fields.String()
    overdue = fields.Boolean()


class OpenRequestsMapOut(Schema):
    total_open = fields.Integer()
    points = fields.List(fields.Nested(PointOut))


class TargetIn(Schema):
    kpi = fields.String(required=True, metadata={"description": ", ".join(TARGET_KPIS)})
    department = fields.String(load_default=None)
    service_type = fields.String(load_default=None)
    target = fields.Float(required=True)
    amber = fields.Float(load_default=0.0)


class TargetOut(Schema):
    id = fields.Integer()
    kpi = fields.String()
    department = fields.Function(lambda t: t.department.code if t.department else None)
    service_type = fields.Function(lambda t: t.service_type.code if t.service_type else None)
    target = fields.Float()
    amber = fields.Float()


class ScoreLineOut(Schema):
    target_id = fields.Integer()
    kpi = fields.String()
    label = fields.String()
    subject = fields.String()
    target = fields.Float()
    amber = fields.Float()
    actual = fields.Float(allow_none=True)
    previous = fields.Float(allow_none=True, metadata={"description": "same-length range before"})
    change = fields.Float(allow_none=True)
    state = fields.String(metadata={"description": "green, amber, red, small_sample or none"})
    small_sample = fields.Boolean()


class ScorecardOut(Schema):
    first = fields.Date()
    last = fields.Date()
    lines = fields.List(fields.Nested(ScoreLineOut))
