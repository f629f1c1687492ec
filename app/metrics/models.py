"""Rollup tables the dashboard reads instead of the raw requests, and the managers' targets.

A rollup row holds the additive figures of one day (or one month) for one combination of
department × service type × district × channel (or of some of them: its level), and how
many of its durations fell in each log-spaced bucket. Sums of rows are the figures of any
range and any filter, and the histograms give percentiles within a stated error.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.models import enum_check
from app.extensions import Model

#: a row sums one day, one Monday-to-Sunday week (levels kept per day only) or one month
GRAINS = ("d", "w", "m")
#: the durations kept as histograms, and the factor that packs (measure, bucket) in a key
MEASURES = {"close": 1, "close_net": 2, "ack": 3}
HIST_KEY = 256
#: which dimensions a row keeps, as bits; a row of a lower level sums the full rows over
#: the dimensions it drops (stored as 0, or '' for the channel)
DEPARTMENT, SERVICE_TYPE, DISTRICT, CHANNEL = 1, 2, 4, 8
FULL = DEPARTMENT | SERVICE_TYPE | DISTRICT | CHANNEL
#: the levels kept, smallest first: a read uses the first that keeps every dimension it
#: filters or groups on, so an unfiltered 12-month report sums hundreds of rows, not 100k
LEVELS = (
    0,
    DEPARTMENT,
    DISTRICT,
    CHANNEL,
    DEPARTMENT | SERVICE_TYPE,
    DEPARTMENT | DISTRICT,
    DEPARTMENT | CHANNEL,
    FULL,
)
#: the levels also kept per day (the others per month only: their days are read from the
#: raw requests): the unfiltered dashboard's tables and trends, and a department's types
DAY_LEVELS = (0, DEPARTMENT, DISTRICT, CHANNEL, DEPARTMENT | SERVICE_TYPE)

#: what a manager can set a target on; True when a higher value is better
TARGET_KPIS: dict[str, bool] = {
    "pct_within_sla": True,
    "median_hours_to_close": False,
    "p90_hours_to_close": False,
    "median_hours_to_acknowledge": False,
    "reopen_rate": False,
    "transfer_rate": False,
    "overdue": False,
}


class MetricsRollup(Model):
    __tablename__ = "metrics_rollups"
    __table_args__ = (
        CheckConstraint(enum_check("grain", GRAINS), name="grain"),
        # every dashboard read is "rows of this grain and level in this period range"
        Index("ix_metrics_rollups_grain_level_period", "grain", "level", "period"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    grain: Mapped[str] = mapped_column(String(1))
    level: Mapped[int] = mapped_column(SmallInteger)
    #: the city-local day, or the first day of the month
    period: Mapped[date] = mapped_column(Date)
    department_id: Mapped[int] = mapped_column(Integer)
    service_type_id: Mapped[int] = mapped_column(Integer)
    district_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))
    #: requests made in the period, and how many of them were acknowledged
    requested: Mapped[int] = mapped_column(Integer, default=0)
    acknowledged: Mapped[int] = mapped_column(Integer, default=0)
    ack_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    #: closures in the period, split: those counted in time to close (fixed, could not
    #: locate) and those kept apart (duplicate, referred, no action needed)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    closed_counted: Mapped[int] = mapped_column(Integer, default=0)
    closed_duplicate: Mapped[int] = mapped_column(Integer, default=0)
    closed_referred: Mapped[int] = mapped_column(Integer, default=0)
    closed_no_action: Mapped[int] = mapped_column(Integer, default=0)
    #: counted closures by their due time
    within_sla: Mapped[int] = mapped_column(Integer, default=0)
    close_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    close_net_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    #: 'reopened' and 'transferred' events in the period
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    transferred: Mapped[int] = mapped_column(Integer, default=0)
    #: the histograms, sparse: hist_keys[i] = measure · 256 + bucket holds hist_counts[i]
    #: durations (close, close less holds, acknowledge); kept in the row, as two short
    #: arrays, a histogram costs bytes per bucket used rather than a row per bucket
    hist_keys: Mapped[list[int]] = mapped_column(
        ARRAY(SmallInteger), default=list, server_default=text("'{}'")
    )
    hist_counts: Mapped[list[int]] = mapped_column(
        ARRAY(Integer), default=list, server_default=text("'{}'")
    )


class RollupState(Model):
    """The one row saying up to when the rollups are current."""

    __tablename__ = "metrics_rollup_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: changes stamped at or after this moment are not in the rollups yet
    watermark: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: the newest request and event already seen: rows inserted with a past timestamp (an
    #: import, a crew's offline completion) are found by their id instead
    last_request_id: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class KpiTarget(Model):
    """A manager's target for one KPI of one department or one service type."""

    __tablename__ = "kpi_targets"
    __table_args__ = (
        CheckConstraint(enum_check("kpi", tuple(TARGET_KPIS)), name="kpi"),
        CheckConstraint("(department_id IS NULL) <> (service_type_id IS NULL)", name="one_subject"),
        CheckConstraint("amber >= 0", name="amber_positive"),
        Index(
            "uq_kpi_targets_subject",
            "kpi",
            "department_id",
            "service_type_id",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kpi: Mapped[str] = mapped_column(String(40))
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="CASCADE")
    )
    service_type_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_types.id", ondelete="CASCADE")
    )
    target: Mapped[float] = mapped_column(Float)
    #: how far past the target still counts as amber rather than red
    amber: Mapped[float] = mapped_column(Float, default=0.0, server_default=text("0"))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )

    department = relationship("Department", lazy="joined")
    service_type = relationship("ServiceType", lazy="joined")


class _OpenDims:
    """The dimensions an open request is counted under (as service_requests has them now)."""

    department_id: Mapped[int] = mapped_column(Integer)
    service_type_id: Mapped[int] = mapped_column(Integer)
    district_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))


class OpenCount(_OpenDims, Model):
    """How many requests are open per department × type × district × channel.

    Kept in step with service_requests by database triggers (migration 5d1c0e7a9b42) that
    append every change to metrics_open_deltas; the rollup refresh folds the deltas in here
    each minute. The open count of any filter is the sum of both tables, exact and live,
    and costs thousands of rows instead of every open request.
    """

    __tablename__ = "metrics_open_counts"
    __table_args__ = (
        Index(
            "uq_metrics_open_counts_dims",
            "department_id",
            "service_type_id",
            "district_id",
            "channel",
            unique=True,
            postgresql_nulls_not_distinct=True,
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)


class OpenCountDelta(_OpenDims, Model):
    """A change to the open counts not yet folded into metrics_open_counts (+n or -n).

    Only ever inserted by the triggers (no row is updated, so concurrent requests never
    wait on each other), and deleted when folded in.
    """

    __tablename__ = "metrics_open_deltas"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
