"""Managers' targets and the scorecard: actual against target, red/amber/green, and the
change from the previous period of the same length."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text

from app.core.audit import record
from app.core.clock import utcnow
from app.core.errors import DomainError, NotFound
from app.extensions import db
from app.metrics import kpis
from app.metrics.filters import Filters
from app.metrics.models import TARGET_KPIS, KpiTarget

LABELS = {
    "pct_within_sla": "% closed within SLA",
    "median_hours_to_close": "Median hours to close",
    "p90_hours_to_close": "p90 hours to close",
    "median_hours_to_acknowledge": "Median hours to acknowledge",
    "reopen_rate": "Reopen rate %",
    "transfer_rate": "Transfer rate %",
    "overdue": "Overdue now",
}


def rag(kpi: str, actual: float | None, target: float, amber: float) -> str:
    """Return 'green', 'amber' or 'red' for an actual against its target ('none' if unknown).

    Green meets the target; amber misses it by no more than the amber band; red misses
    it by more. Which side is "meets" depends on whether the KPI is better higher.
    """
    if actual is None:
        return "none"
    shortfall = target - actual if TARGET_KPIS[kpi] else actual - target
    if shortfall <= 0:
        return "green"
    return "amber" if shortfall <= amber else "red"


def all_targets() -> list[KpiTarget]:
    return list(db.session.scalars(select(KpiTarget).order_by(KpiTarget.id)))


def _subject_id(table: str, code: str, field: str) -> int:
    found = db.session.execute(text(f"SELECT id FROM {table} WHERE code = :c"), {"c": code})
    value = found.scalar()
    if value is None:
        raise DomainError(f"There is no {field.replace('_', ' ')} {code!r}.", field=field)
    return int(value)


def set_target(
    *,
    kpi: str,
    target: float,
    amber: float = 0.0,
    department: str | None = None,
    service_type: str | None = None,
    actor: Any = None,
) -> KpiTarget:
    """Create or replace the target of one KPI for one department or one service type."""
    if kpi not in TARGET_KPIS:
        raise DomainError(f"kpi must be one of {', '.join(TARGET_KPIS)}, not {kpi!r}.", field="kpi")
    if bool(department) == bool(service_type):
        raise DomainError("Give either a department or a service type, not both or neither.")
    if amber < 0:
        raise DomainError("The amber band cannot be negative.", field="amber")
    if kpi.startswith("pct") or kpi.endswith("rate"):
        if not 0 <= target <= 100:
            raise DomainError("A percentage target is between 0 and 100.", field="target")
    elif target < 0:
        raise DomainError("The target cannot be negative.", field="target")
    dept_id = _subject_id("departments", department, "department") if department else None
    type_id = _subject_id("service_types", service_type, "service_type") if service_type else None
    row = db.session.scalar(
        select(KpiTarget).where(
            KpiTarget.kpi == kpi,
            KpiTarget.department_id.is_not_distinct_from(dept_id),
            KpiTarget.service_type_id.is_not_distinct_from(type_id),
        )
    )
    before = None
    if row is None:
        row = KpiTarget(kpi=kpi, department_id=dept_id, service_type_id=type_id)
        db.session.add(row)
    else:
        before = {"target": row.target, "amber": row.amber}
    row.target, row.amber, row.updated_at = float(target), float(amber), utcnow()
    db.session.flush()
    label = f"{kpi} of {department or service_type}"
    record(
        actor,
        "kpi_target.set",
        ("kpi_target", row.id, label),
        before,
        {"target": row.target, "amber": row.amber},
    )
    return row


def delete_target(target_id: int, *, actor: Any = None) -> None:
    """Remove a target; the scorecard stops showing it."""
    row = db.session.get(KpiTarget, target_id)
    if row is None:
        raise NotFound(f"There is no target {target_id}.")
    record(
        actor,
        "kpi_target.delete",
        ("kpi_target", row.id, row.kpi),
        {"target": row.target, "amber": row.amber},
        None,
    )
    db.session.delete(row)
    db.session.flush()


@dataclass(frozen=True)
class ScoreLine:
    target_id: int
    kpi: str
    label: str
    subject: str
    target: float
    amber: float
    actual: float | None
    previous: float | None
    change: float | None
    state: str
    small_sample: bool


def _actual(figures: kpis.Figures | None, kpi: str) -> tuple[float | None, bool]:
    if figures is None:
        return None, True
    value = getattr(figures, kpi)
    return (None if value is None else float(value)), kpi in figures.small_sample


def scorecard(f: Filters) -> list[ScoreLine]:
    """Score every target over the filters' range, against the previous range of that length."""
    targets = all_targets()
    if not targets:
        return []
    reports: dict[tuple[str, bool], dict[Any, kpis.Figures]] = {}
    for group_by in {"department" if t.department_id else "service_type" for t in targets}:
        for before in (False, True):
            report = kpis.by_group(f.previous() if before else f, group_by)
            reports[(group_by, before)] = {r.key: r for r in report.rows}
    lines = []
    for t in targets:
        group_by = "department" if t.department_id else "service_type"
        subject = t.department if t.department_id else t.service_type
        now_fig = reports[(group_by, False)].get(subject.code)
        prev_fig = reports[(group_by, True)].get(subject.code)
        actual, small = _actual(now_fig, t.kpi)
        previous, _ = _actual(prev_fig, t.kpi)
        change = None if actual is None or previous is None else round(actual - previous, 2)
        lines.append(
            ScoreLine(
                target_id=t.id,
                kpi=t.kpi,
                label=LABELS[t.kpi],
                subject=subject.name,
                target=t.target,
                amber=t.amber,
                actual=actual,
                previous=previous,
                change=change,
                state="small_sample" if small else rag(t.kpi, actual, t.target, t.amber),
                small_sample=small,
            )
        )
    return lines
