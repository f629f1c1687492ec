"""The managers' dashboard, the exact drill-down tables, and the targets page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import text

from app.auth.permissions import roles_required
from app.core.clock import utcnow
from app.core.errors import DomainError
from app.core.replica import reads_from_replica
from app.extensions import db
from app.metrics import (
    backlog,
    filters,
    kpis,
    panels,
    permissions,
    rollup,
    service,
    targets,
)
from app.metrics.models import TARGET_KPIS
from app.requests.models import CHANNELS

bp = Blueprint("metrics", __name__)

WINDOWS = (7, 30, 90)
DEFAULT_DAYS = 30


def trend_period(f: filters.Filters) -> str:
    """Pick the trend's step so a chart has tens of points, not thousands."""
    if f.days <= 62:
        return "day"
    return "week" if f.days <= 366 else "month"


def choices() -> dict[str, list[tuple[str, str]]]:
    """Return the codes and names the filter drop-downs offer."""
    out: dict[str, list[tuple[str, str]]] = {}
    for field, group_by in (
        ("department", "department"),
        ("service_type", "service_type"),
        ("district", "district"),
    ):
        out[field] = sorted(kpis.names(group_by).values(), key=lambda c: c[1])
    out["channel"] = [(c, c.capitalize()) for c in CHANNELS]
    return out


@bp.route("/metrics")
@roles_required(*permissions.READERS)
@reads_from_replica
def dashboard() -> str:
    """Show the scorecard, headline KPIs, charts, the map and the per-group tables."""
    f = filters.parse(request.args)
    reports = {g: kpis.by_group(f, g) for g in filters.GROUP_BYS}
    query = {
        k: v
        for k, v in request.args.items()
        if k in ("from", "to", "department", "service_type", "district", "channel")
    }
    return render_template(
        "metrics/dashboard.html",
        f=f,
        reports=reports,
        totals=reports["department"].totals,
        scorecard=targets.scorecard(f),
        aging=backlog.aging(f),
        period=trend_period(f),
        choices=choices(),
        args=request.args,
        query=query,
        max_error=reports["department"].max_relative_error,
        refreshed_at=rollup.last_refreshed(),
    )


@bp.route("/metrics/data/<name>")
@roles_required(*permissions.READERS)
@reads_from_replica
def data(name: str) -> Response:
    """Serve a panel to the signed-in dashboard, as /api/v1/metrics/<name> does to tokens."""
    if name not in panels.PANELS:
        abort(404)
    return panels.respond_json(name, request.args)


@bp.route("/metrics/exact")
@roles_required(*permissions.READERS)
@reads_from_replica
def exact() -> str:
    """Show response times computed exactly from the raw requests (drill-down)."""
    days = request.args.get("days", type=int)
    if days not in WINDOWS:
        days = DEFAULT_DAYS
    end = utcnow()
    start = end - timedelta(days=days)
    by_department = service.response_times("department", start, end)
    by_type = service.response_times("service_type", start, end)
    return render_template(
        "metrics/exact.html",
        days=days,
        windows=WINDOWS,
        totals=by_department.totals,
        by_department=by_department,
        by_type=by_type,
    )


@bp.route("/metrics/targets", methods=["GET", "POST"])
@roles_required(*permissions.READERS)
def targets_page() -> Any:
    """List the targets; set or remove one."""
    error: DomainError | None = None
    if request.method == "POST":
        form = request.form
        try:
            if form.get("delete"):
                targets.delete_target(int(form["delete"]))
                flash("Target removed.", "success")
            else:
                subject = form.get("subject", "")
                kind, _, code = subject.partition(":")
                targets.set_target(
                    kpi=form.get("kpi", ""),
                    department=code if kind == "department" else None,
                    service_type=code if kind == "service_type" else None,
                    target=_number(form.get("target"), "target"),
                    amber=_number(form.get("amber") or "0", "amber"),
                )
                flash("Target saved.", "success")
            db.session.commit()
            return redirect(url_for("metrics.targets_page"))
        except DomainError as err:  # checked before anything is written: nothing to undo
            error = err
    return _targets_page(error), 400 if error else 200


def _number(raw: str | None, field: str) -> float:
    try:
        return float(raw or "")
    except ValueError:
        raise DomainError(f"{field} must be a number.", field=field) from None


def _targets_page(error: DomainError | None) -> str:
    subjects = [
        ("department:" + c, n)
        for c, n in db.session.execute(text("SELECT code, name FROM departments ORDER BY name"))
    ]
    subjects += [
        ("service_type:" + c, "Type: " + n)
        for c, n in db.session.execute(text("SELECT code, name FROM service_types ORDER BY name"))
    ]
    return render_template(
        "metrics/targets.html",
        rows=targets.all_targets(),
        labels=targets.LABELS,
        kpis=list(TARGET_KPIS),
        subjects=subjects,
        error=error,
        form=request.form,
    )
