"""The departments and crews admin API: /api/v1/admin/departments and /api/v1/admin/crews."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from app.auth.api import BEARER
from app.auth.permissions import roles_required
from app.auth.roles import ADMIN
from app.core.apidocs import ADMIN_ERRORS, error_answers
from app.extensions import db
from app.org import admin, service
from app.org.models import Crew, Department
from app.org.schemas import (
    AdminCrewIn,
    AdminCrewOut,
    AdminCrewPatch,
    AdminDepartmentIn,
    AdminDepartmentOut,
    AdminDepartmentPatch,
    AdminSearchArgs,
)

blp = Blueprint(
    "org_api",
    __name__,
    url_prefix="/api/v1/admin",
    description="Departments and crews (admin); every change is recorded in the audit.",
)


def _errors(*answers: tuple[int, str]) -> Any:
    """Document the error answers of an endpoint."""
    return error_answers(blp, *ADMIN_ERRORS, *answers)


@blp.route("/departments", methods=["GET"])
@roles_required(ADMIN)
@blp.doc(security=BEARER)
@blp.arguments(AdminSearchArgs, location="query")
@blp.response(200, AdminDepartmentOut(many=True))
@_errors()
def list_departments(args: dict[str, Any]) -> list[Department]:
    """List the departments, active or not, by name; `q` searches codes and names."""
    return service.search_departments(args["q"])


@blp.route("/departments", methods=["POST"])
@roles_required(ADMIN)
@blp.doc(security=BEARER)
@blp.arguments(AdminDepartmentIn)
@blp.response(201, AdminDepartmentOut)
@_errors((400, "An empty code or name."), (409, "The code is taken."), (422, "A missing field."))
def create_department(data: dict[str, Any]) -> Department:
    """Create a department; its code is permanent."""
    dept = admin.create_department(data["code"], data["name"], data["email"])
    db.session.commit()
    return dept


@blp.route("/departments/<code>", methods=["PATCH"])
@roles_required(ADMIN)
@blp.doc(security=BEARER)
@blp.arguments(AdminDepartmentPatch)
@blp.response(200, AdminDepartmentOut)
@_errors(
    (400, "An empty name."),
    (404, "No such department."),
    (409, "Deactivation refused: the department still has open requests (the count is said)."),
)
def change_department(data: dict[str, Any], code: str) -> Department:
    """Rename a department, change its email, or deactivate / reactivate it."""
    dept = service.get_department(code)
    admin.change_department(
        dept, name=data.get("name"), email=data.get("email"), active=data.get("active")
    )
    db.session.commit()
    return dept


@blp.route("/crews", methods=["GET"])
@roles_required(ADMIN)
@blp.doc(security=BEARER)
@blp.arguments(AdminSearchArgs, location="query")
@blp.response(200, AdminCrewOut(many=True))
@_errors()
def list_crews(args: dict[str, Any]) -> list[Crew]:
    """List the crews, active or not, by name; `q` searches names."""
    return service.search_crews(args["q"])


@blp.route("/crews", methods=["POST"])
@roles_required(ADMIN)
@blp.doc(security=BEARER)
@blp.arguments(AdminCrewIn)
@blp.response(201, AdminCrewOut)
@_errors(
    (400, "An empty name or a deactivated department."),
    (404, "No such department."),
    (409, "The name is taken."),
    (422, "A missing field."),
)
def create_crew(data: dict[str, Any]) -> Crew:
    """Create a crew of a department (named by its code)."""
    crew = admin.create_crew(data["name"], service.get_department(data["department"]))
    db.session.commit()
    return crew


@blp.route("/crews/<int:crew_id>", methods=["PATCH"])
@roles_required(ADMIN)
@blp.doc(security=BEARER)
@blp.arguments(AdminCrewPatch)
@blp.response(200, AdminCrewOut)
@_errors((400, "An empty name."), (404, "No such crew."), (409, "The name is taken."))
def change_crew(data: dict[str, Any], crew_id: int) -> Crew:
    """Rename a crew, or deactivate / reactivate it."""
    crew = admin.change_crew(
        service.get_crew(crew_id), name=data.get("name"), active=data.get("active")
    )
    db.session.commit()
    return crew
