"""The admin area's front: /admin links every admin page, and /admin/audit lists the changes.

It links pages of several features, so it sits at the top beside create_app and navigation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask import Blueprint, Flask, render_template, request

from app.auth.permissions import roles_required
from app.auth.roles import ADMIN
from app.core import audit

bp = Blueprint("admin", __name__, url_prefix="/admin")


@dataclass(frozen=True)
class AdminPage:
    endpoint: str
    label: str
    about: str


ADMIN_PAGES = (
    AdminPage("org_admin.departments", "Departments", "Create, rename and deactivate departments."),
    AdminPage("org_admin.crews", "Crews", "Create, rename and deactivate crews."),
    AdminPage(
        "catalogue_admin.service_types",
        "Service types",
        "What residents can report: SLA, questions, owning department.",
    ),
    AdminPage(
        "triage.rules", "Routing rules", "Which department and crew a type goes to, by ward."
    ),
    AdminPage("sla.holidays", "Holidays", "Days business-day service targets skip."),
    AdminPage("open311_admin.keys", "Open311 keys", "API keys of client applications."),
    AdminPage("admin.audit_log", "Audit", "Who changed which setting, when, before and after."),
)


@bp.get("")
@roles_required(ADMIN)
def index() -> str:
    """List the admin pages."""
    return render_template("admin/index.html", pages=ADMIN_PAGES)


@bp.get("/audit")
@roles_required(ADMIN)
def audit_log() -> str:
    """List the configuration changes, newest first, filtered by target kind and actor."""
    kind = request.args.get("kind", "").strip()
    actor = request.args.get("actor", "").strip()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    entries, total = audit.list_entries(kind=kind or None, actor=actor or None, page=page)
    return render_template(
        "admin/audit.html",
        entries=entries,
        total=total,
        page=page,
        pages=max(1, math.ceil(total / audit.PAGE_SIZE)),
        kinds=audit.target_kinds(),
        kind=kind,
        actor=actor,
    )


def init_app(app: Flask) -> None:
    """Register the admin area's front pages."""
    app.register_blueprint(bp)
