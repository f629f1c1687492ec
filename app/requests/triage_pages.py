"""Pages of routing: the admin's routing rules, the 311 triage queue, and a request's transfer."""

from __future__ import annotations

import math
from collections.abc import Mapping

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.auth.permissions import roles_required
from app.auth.roles import ADMIN
from app.core.clock import to_city_time
from app.core.errors import DomainError, Forbidden
from app.extensions import db
from app.org import service as org
from app.requests import routing, service
from app.requests.models import ServiceRequest
from app.requests.permissions import ACTION_ROLES, TRIAGE_ROLES, check_may_handle, transfer_request

bp = Blueprint("triage", __name__)


def _page_number(raw: str | None) -> int:
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


# ---------------------------------------------------------------------------------------------
# routing rules (admin)


def _rules_page(
    *, errors: Mapping[str, str] | None = None, form: Mapping[str, str] | None = None
) -> str:
    return render_template(
        "triage/rules.html",
        rules=routing.list_rules(),
        service_types=service.list_service_types(include_inactive=True),
        districts=routing.routing_districts(),
        departments=org.list_departments(),
        crews=org.list_crews(active_only=True),
        errors=errors or {},
        form=form or {},
    )


@bp.get("/admin/routing-rules")
@roles_required(ADMIN)
def rules() -> str:
    """List the routing rules, with a form to add one."""
    return _rules_page()


@bp.post("/admin/routing-rules")
@roles_required(ADMIN)
def add_rule() -> Response | tuple[str, int]:
    """Add a routing rule from the form."""
    form = request.form.to_dict()
    crew = form.get("crew_id", "").strip()
    try:
        if crew and not crew.isdigit():
            raise DomainError("Choose a crew from the list.", field="crew_id")
        rule = routing.create_rule(
            form.get("service_code", ""),
            district_code=form.get("district") or None,
            department_code=form.get("department") or None,
            crew_id=int(crew) if crew else None,
        )
    except DomainError as err:  # create_rule refuses before it writes
        return _rules_page(errors={err.field or "form": err.message}, form=form), err.status_code
    db.session.commit()
    where = rule.district.name if rule.district else "every district"
    crew_words = f", crew {rule.crew.name}" if rule.crew else ""
    flash(
        f"{rule.service_type.name} in {where} now goes to {rule.department.name}{crew_words}.",
        "success",
    )
    return redirect(url_for("triage.rules"), 303)


@bp.post("/admin/routing-rules/<int:rule_id>/delete")
@roles_required(ADMIN)
def delete_rule(rule_id: int) -> Response:
    """Delete a routing rule."""
    rule = routing.delete_rule(rule_id)
    where = rule.district.name if rule.district else "every district"
    db.session.commit()
    flash(f"Deleted the rule for {rule.service_type.name} in {where}.", "success")
    return redirect(url_for("triage.rules"), 303)


# ---------------------------------------------------------------------------------------------
# the 311 triage queue and transfers


@bp.get("/staff/triage")
@roles_required(*TRIAGE_ROLES)
def queue() -> str:
    """List the open requests whose reporters did not know the type: oldest first."""
    page = _page_number(request.args.get("page"))
    items, total = routing.triage_queue(page=page)
    return render_template(
        "triage/queue.html",
        items=items,
        total=total,
        page=page,
        pages=max(1, math.ceil(total / routing.TRIAGE_PAGE_SIZE)),
    )


def _transfer_page(
    sr: ServiceRequest,
    *,
    errors: Mapping[str, str] | None = None,
    form: Mapping[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    types = [st for st in service.list_service_types() if st.id != sr.service_type_id]
    page = render_template(
        "triage/transfer.html",
        sr=sr,
        service_types=types,
        errors=errors or {},
        form=form or {},
    )
    return page, status


@bp.get("/staff/requests/<int:request_id>/transfer")
@roles_required(*ACTION_ROLES["transfer"])
def transfer_form(request_id: int) -> tuple[str, int]:
    """Ask which type the request really is, and why."""
    sr = service.get_request(request_id)
    check_may_handle(sr, "transfer")
    return _transfer_page(sr)


@bp.post("/staff/requests/<int:request_id>/transfer")
@roles_required(*ACTION_ROLES["transfer"])
def transfer(request_id: int) -> Response | tuple[str, int]:
    """Move the request to the chosen type and its department."""
    sr = service.get_request(request_id, for_update=True)
    db.session.refresh(sr)  # the lock is taken: act on what the last commit left
    check_may_handle(sr, "transfer")  # a refusal is a 403 page, whatever the form says
    form = request.form.to_dict()
    try:
        if not form.get("service_code"):
            raise DomainError("Choose the type the request really is.", field="service_code")
        # a savepoint, so that a refusal after a partial write leaves nothing half-stored
        with db.session.begin_nested():
            transfer_request(sr, service_code=form["service_code"], note=form.get("note", ""))
    except Forbidden:
        raise
    except DomainError as err:
        # shown beside the field, with what was typed
        db.session.refresh(sr)
        return _transfer_page(
            sr,
            errors={err.field or "form": err.message},
            form=form,
            status=err.status_code,
        )
    db.session.commit()
    crew = f" Proposed crew: {org.get_crew(sr.crew_id).name}." if sr.crew_id else ""
    flash(
        f"Request {sr.id} is now {sr.service_type.name}, in the {sr.department.name} queue, "
        f"due {to_city_time(sr.due_at):%b %d, %Y %H:%M}.{crew}",
        "success",
    )
    return redirect(url_for("staff.request_detail", request_id=sr.id), 303)
