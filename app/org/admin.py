"""Audited admin changes of departments and crews, shared by the admin pages and the API."""

from __future__ import annotations

from app.core import audit
from app.extensions import db
from app.org import service
from app.org.models import Crew, Department


def create_department(code: str, name: str, email: str | None = None) -> Department:
    """Create a department and record it."""
    dept = service.create_department(code, name, email=email)
    audit.record(
        None, "create", ("department", dept.code, dept.name), after=service.department_view(dept)
    )
    return dept


def change_department(
    dept: Department,
    *,
    name: str | None = None,
    email: str | None = None,
    active: bool | None = None,
) -> Department:
    """Rename, re-address or (de)activate a department, and record what changed."""
    before = service.department_view(dept)
    # a savepoint: a refused deactivation must not leave the rename half-done
    with db.session.begin_nested():
        service.update_department(dept, name=name, email=email)
        if active is not None:
            service.set_department_active(dept, active)
    after = service.department_view(dept)
    if after != before:
        action = (
            "update"
            if before["active"] == after["active"]
            else ("activate" if after["active"] else "deactivate")
        )
        audit.record(None, action, ("department", dept.code, dept.name), before, after)
    return dept


def create_crew(name: str, department: Department) -> Crew:
    """Create a crew and record it."""
    crew = service.create_crew(name, department.id)
    audit.record(None, "create", ("crew", crew.id, crew.name), after=service.crew_view(crew))
    return crew


def change_crew(crew: Crew, *, name: str | None = None, active: bool | None = None) -> Crew:
    """Rename or (de)activate a crew, and record what changed."""
    before = service.crew_view(crew)
    with db.session.begin_nested():
        service.update_crew(crew, name=name, active=active)
    after = service.crew_view(crew)
    if after != before:
        action = (
            "update"
            if before["active"] == after["active"]
            else ("activate" if after["active"] else "deactivate")
        )
        audit.record(None, action, ("crew", crew.id, crew.name), before, after)
    return crew
