"""The overdue digest: each morning, a department's dispatchers learn what is overdue and
what will be by the end of tomorrow.

rq's CronScheduler, which every `flask worker` runs (app/core/worker.py), enqueues
send_overdue_digests every quarter hour. Cron fields follow the worker process's clock, not
the city's, so the job decides by the city's clock: from OVERDUE_DIGEST_HOUR on, it sends
each department's digest of the city's today unless a run has already done so. A worker
that was down at that hour catches up at its next quarter hour. Several workers may run the
job at once: the first to insert a department's OverdueDigest row for the day owns that
digest and the others skip it. The emails go through the outbox, which retries them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import exists, func, select
from sqlalchemy.dialects.postgresql import insert

from app.auth.models import User
from app.auth.roles import DISPATCHER
from app.core.clock import city_tz, utcnow
from app.extensions import db
from app.notifications import service
from app.notifications.mail import DIGEST_EVENT
from app.notifications.models import OverdueDigest
from app.org.models import Department
from app.requests.models import ServiceRequest, ServiceType

log = logging.getLogger(__name__)

#: every quarter hour: the same wall-clock minutes in every zone with whole, half or
#: quarter-hour offsets, so the digest leaves on the city's hour whatever the worker's zone
DIGEST_CRON = "*/15 * * * *"
#: requests listed one by one; the rest are counted and linked to the queue
MAX_ITEMS = 50


@dataclass(frozen=True)
class DigestItem:
    id: int
    service_type: str
    address: str
    requested_at: datetime
    due_at: datetime
    overdue: bool


@dataclass(frozen=True)
class Digest:
    """What one department's digest says: counts first, then up to MAX_ITEMS requests."""

    department_code: str
    department_name: str
    day: date
    generated_at: datetime
    overdue: int
    due_soon: int
    items: list[DigestItem]

    @property
    def total(self) -> int:
        return self.overdue + self.due_soon

    def payload(self) -> dict[str, Any]:
        """Return the digest as the outbox row keeps it (JSON), for mail to render."""
        return {
            "department": self.department_code,
            "department_name": self.department_name,
            "day": self.day.isoformat(),
            "generated_at": self.generated_at.isoformat(),
            "overdue": self.overdue,
            "due_soon": self.due_soon,
            "items": [
                {
                    "id": item.id,
                    "type": item.service_type,
                    "address": item.address,
                    "requested_at": item.requested_at.isoformat(),
                    "due_at": item.due_at.isoformat(),
                    "overdue": item.overdue,
                }
                for item in self.items
            ],
        }


def init_app(app: Flask) -> None:
    """Check OVERDUE_DIGEST_HOUR and have the worker's scheduler run the digest job."""
    from app.core.queue import register_cron

    hour = app.config["OVERDUE_DIGEST_HOUR"]
    if not 0 <= hour <= 23:
        raise RuntimeError(f"OVERDUE_DIGEST_HOUR must be an hour from 0 to 23, not {hour}.")
    register_cron(app, send_overdue_digests, DIGEST_CRON, queue="notifications")


def digest_day(now: datetime) -> date | None:
    """Return the city-local day whose digest is owed at `now`; None before the hour."""
    local = now.astimezone(city_tz())
    if local.hour < current_app.config["OVERDUE_DIGEST_HOUR"]:
        return None
    return local.date()


def due_by(day: date) -> datetime:
    """Return the end of the day after `day`, city time: "due by tomorrow" means before it."""
    return datetime.combine(day + timedelta(days=2), time.min, tzinfo=city_tz())


def compose(department: Department, day: date, now: datetime) -> Digest:
    """Count and list the department's open requests overdue at `now` or due by tomorrow.

    Requests on hold are left out (their clock is stopped, and their due time moves when
    they resume), and so are imported historical ones, which no dispatcher works on.
    """
    sr = ServiceRequest
    is_overdue = sr.due_at < now
    rows = db.session.execute(
        select(
            sr.id,
            ServiceType.name,
            sr.address,
            sr.requested_at,
            sr.due_at,
            # window counts see every matching row, before the LIMIT
            func.count().filter(is_overdue).over().label("n_overdue"),
            func.count().over().label("n_all"),
        )
        .join(ServiceType, ServiceType.id == sr.service_type_id)
        .where(
            sr.department_id == department.id,
            sr.status != "closed",  # as the partial index of the open queue says it
            sr.status != "on_hold",
            sr.channel.not_in(service.SILENT_CHANNELS),
            # imported history keeps the city's channel; its old open rows are not today's work
            ~sr.is_imported,
            sr.due_at < due_by(day),
        )
        .order_by(sr.due_at, sr.id)
        .limit(MAX_ITEMS)
    ).all()
    n_overdue = rows[0].n_overdue if rows else 0
    n_all = rows[0].n_all if rows else 0
    return Digest(
        department_code=department.code,
        department_name=department.name,
        day=day,
        generated_at=now,
        overdue=n_overdue,
        due_soon=n_all - n_overdue,
        items=[
            DigestItem(
                id=row.id,
                service_type=row.name,
                address=row.address,
                requested_at=row.requested_at,
                due_at=row.due_at,
                overdue=row.due_at < now,
            )
            for row in rows
        ],
    )


def recipients(department: Department) -> list[str]:
    """Return who gets the department's digest: its active dispatchers, and its own address."""
    emails = list(
        db.session.scalars(
            select(User.email)
            .where(
                User.role == DISPATCHER,
                User.department_id == department.id,
                User.active.is_(True),
            )
            .order_by(User.email)
        )
    )
    if department.email and department.email.strip():
        emails.append(department.email.strip())
    # one message per mailbox, whatever the case it is spelled in
    return list({email.lower(): email for email in emails}.values())


def dedupe_key(department: Department, day: date) -> str:
    """Return the outbox key of the department's digest of `day` ("2026-11-30:PWD")."""
    key = f"{day.isoformat()}:{department.code}"
    return key if len(key) <= 40 else f"{day.isoformat()}:#{department.id}"


def send_overdue_digests(now: datetime | None = None) -> int:
    """Queue today's digest of every department that has not had it; return emails queued.

    The rq job of the quarter-hour cron. Each department is claimed and its emails queued
    in a transaction of its own, so one that fails is retried at the next run and the
    others go out all the same.
    """
    now = now or utcnow()
    day = digest_day(now)
    if day is None:
        return 0
    owed = list(
        db.session.scalars(
            select(Department.id)
            .where(
                ~exists().where(
                    OverdueDigest.department_id == Department.id, OverdueDigest.day == day
                )
            )
            .order_by(Department.code)
        )
    )
    db.session.rollback()  # end the read; each department has a transaction of its own
    queued = 0
    for department_id in owed:
        try:
            queued += _send_one(department_id, day, now)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("overdue digest of department %s for %s failed", department_id, day)
    return queued


def _send_one(department_id: int, day: date, now: datetime) -> int:
    department = db.session.get(Department, department_id)
    if department is None:
        return 0
    digest = compose(department, day, now)
    to = recipients(department) if digest.total else []
    claimed = db.session.execute(
        insert(OverdueDigest)
        .values(
            department_id=department.id,
            day=day,
            overdue=digest.overdue,
            due_soon=digest.due_soon,
            recipients=len(to),
        )
        # a concurrent run that inserted first makes this wait for its commit, then skip
        .on_conflict_do_nothing()
        .returning(OverdueDigest.department_id)
    ).first()
    if claimed is None or not to:
        return 0
    payload = digest.payload()
    key = dedupe_key(department, day)
    queued = [
        service.queue_notice(DIGEST_EVENT, None, email, payload, dedupe_key=key) for email in to
    ]
    log.info(
        "overdue digest of %s for %s: %s overdue, %s due by tomorrow, to %s",
        department.code,
        day,
        digest.overdue,
        digest.due_soon,
        len(to),
    )
    return sum(outbox_id is not None for outbox_id in queued)
