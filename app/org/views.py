"""The admin pages of departments and crews: a list with search, and forms that change them."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from app.auth.permissions import roles_required
from app.auth.roles import ADMIN
from app.core.errors import DomainError
from app.extensions import db
from app.org import admin, service

bp = Blueprint("org_admin", __name__, url_prefix="/admin")


def _departments_page(
    *, errors: Mapping[str, str] | None = None, form: Mapping[str, str] | None = None
) -> str:
    q = request.args.get("q", "")
    departments = service.search_departments(q)
    return render_template(
        "admin/departments.html",
        departments=departments,
        open_work=service.open_work_by_department([d.id for d in departments]),
        q=q,
        errors=errors or {},
        form=form or {},
    )


@bp.get("/departments")
@roles_required(ADMIN)
def departments() -> str:
    """List the departments with their open requests, and a form to add one."""
    return _departments_page()


@bp.post("/departments")
@roles_required(ADMIN)
def add_department() -> Response | tuple[str, int]:
    """Create a department from the form."""
    form = request.form.to_dict()
    try:
        dept = admin.create_department(
            form.get("code", ""), form.get("name", ""), form.get("email") or None
        )
    except DomainError as err:
        db.session.rollback()
        return _departments_page(errors={err.field or "code": err.message}, form=form), (
            err.status_code
        )
    db.session.commit()
    flash(f"Created the department {dept.name} ({dept.code}).", "success")
    return redirect(url_for("org_admin.departments"), 303)


@bp.post("/departments/<code>")
@roles_required(ADMIN)
def change_department(code: str) -> Response | tuple[str, int]:
    """Rename a department, or deactivate / reactivate it."""
    dept = service.get_department(code)
    action = request.form.get("action", "rename")
    try:
        if action == "rename":
            admin.change_department(dept, name=request.form.get("name", ""))
        else:
            admin.change_department(dept, active=action == "activate")
    except DomainError as err:
        db.session.rollback()
        return _departments_page(errors={code: err.message}), err.status_code
    db.session.commit()
    flash(f"{dept.name} ({dept.code}) is saved{'' if dept.active else ', deactivated'}.", "success")
    return redirect(url_for("org_admin.departments"), 303)


def _crews_page(
    *, errors: Mapping[str, str] | None = None, form: Mapping[str, str] | None = None
) -> str:
    q = request.args.get("q", "")
    return render_template(
        "admin/crews.html",
        crews=service.search_crews(q),
        departments=service.search_departments(include_inactive=False),
        q=q,
        errors=errors or {},
        form=form or {},
    )


@bp.get("/crews")
@roles_required(ADMIN)
def crews() -> str:
    """List the crews, and a form to add one."""
    return _crews_page()


@bp.post("/crews")
@roles_required(ADMIN)
def add_crew() -> Response | tuple[str, int]:
    """Create a crew from the form."""
    form = request.form.to_dict()
    try:
        dept = service.get_department(form.get("department", ""))
        crew = admin.create_crew(form.get("name", ""), dept)
    except DomainError as err:
        db.session.rollback()
        field = "department" if err.field == "department_id" else err.field or "name"
        return _crews_page(errors={field: err.message}, form=form), err.status_code
    db.session.commit()
    flash(f"Created the crew {crew.name} of {crew.department.name}.", "success")
    return redirect(url_for("org_admin.crews"), 303)


@bp.post("/crews/<int:crew_id>")
@roles_required(ADMIN)
def change_crew(crew_id: int) -> Response | tuple[str, int]:
    """Rename a crew, or deactivate / reactivate it."""
    crew = service.get_crew(crew_id)
    action = request.form.get("action", "rename")
    try:
        if action == "rename":
            admin.change_crew(crew, name=request.form.get("name", ""))
        else:
            admin.change_crew(crew, active=action == "activate")
    except DomainError as err:
        db.session.rollback()
        return _crews_page(errors={str(crew_id): err.message}), err.status_code
    db.session.commit()
    flash(f"{crew.name} is saved{'' if crew.active else ', deactivated'}.", "success")
    return redirect(url_for("org_admin.crews"), 303)
