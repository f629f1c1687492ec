"""The admin area's front: /admin links every admin page, and /admin/audit lists the changes.

It links pages of several features, so it sits at the top beside create_app and navigation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, render_template, request
from flask_smorest import Blueprint as ApiBlueprint
from marshmallow import EXCLUDE, Schema, fields

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
    AdminPage("users_admin.users", "Users", "Invite staff; role, department, crew; deactivate."),
    AdminPage("users_admin.tokens", "API tokens", "Staff API tokens: when used, revoke."),
    AdminPage("org_admin.departments", "Departments", "Create, rename and deactivate departments."),
    AdminPage("org_admin.crews", "Crews", "Create, rename and deactivate crews; their members."),
    AdminPage(
        "catalogue_admin.service_types",
        "Service types",
        "What residents can report: SLA, questions, owning department.",
    ),
    AdminPage(
        "districts_admin.districts",
        "Districts",
        "Upload ward boundaries (GeoJSON), preview on a map, replace all or nothing.",
    ),
    AdminPage(
        "triage.rules", "Routing rules", "Which department and crew a type goes to, by ward."
    ),
    AdminPage("sla.holidays", "Holidays", "Days business-day service targets skip."),
    AdminPage("open311_admin.keys", "Open311 keys", "API keys of client applications."),
    AdminPage("outbox_admin.failed", "Failed messages", "Notifications given up on, to resend."),
    AdminPage(
        "admin.audit_log", "Audit", "Who changed which setting, when, before and after; sign-ins."
    ),
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


api_blp = ApiBlueprint(
    "admin_api", __name__, url_prefix="/api/v1/admin", description="The configuration audit."
)


class AuditArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    kind = fields.String(load_default="", metadata={"description": "department, crew, …"})
    actor = fields.String(load_default="", metadata={"description": "Part of the actor's email."})
    page = fields.Integer(load_default=1, metadata={"description": f"{audit.PAGE_SIZE} a page."})


class AuditEntryOut(Schema):
    id = fields.Integer()
    at = fields.AwareDateTime()
    actor_email = fields.String()
    action = fields.String()
    target_kind = fields.String()
    target_id = fields.String()
    target_label = fields.String()
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)


class AuditPageOut(Schema):
    total = fields.Integer()
    entries = fields.List(fields.Nested(AuditEntryOut))


@api_blp.route("/audit")
@roles_required(ADMIN)
@api_blp.doc(security=[{"bearerAuth": []}])
@api_blp.arguments(AuditArgs, location="query")
@api_blp.response(200, AuditPageOut)
@api_blp.alt_response(401, response="DEFAULT_ERROR", description="No bearer token.")
@api_blp.alt_response(403, response="DEFAULT_ERROR", description="Not an admin.")
def audit_api(args: dict[str, Any]) -> dict[str, Any]:
    """List configuration changes, newest first, filtered by target kind and actor."""
    entries, total = audit.list_entries(
        kind=args["kind"] or None, actor=args["actor"] or None, page=max(1, args["page"])
    )
    return {"total": total, "entries": entries}


def init_app(app: Flask) -> None:
    """Register the admin area's front pages and the audit API."""
    from app.extensions import api

    app.register_blueprint(bp)
    api.register_blueprint(api_blp)
