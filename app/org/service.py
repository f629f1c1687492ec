"""Domain verbs for departments and crews: the one way their rows are made and found."""

from __future__ import annotations

from sqlalchemy import select

from app.core.errors import Conflict, DomainError, NotFound
from app.extensions import db
from app.org.models import Crew, Department

MAX_CODE = 40
MAX_NAME = 200


def create_department(code: str, name: str, *, email: str | None = None) -> Department:
    """Add a department; its code is what the API, routing rules and imports name it by.

    :raises DomainError: empty or over-long code or name (400).
    :raises Conflict: a department already has this code (409).
    """
    code, name = (code or "").strip(), (name or "").strip()
    if not code or len(code) > MAX_CODE:
        raise DomainError(f"A department code has 1 to {MAX_CODE} characters.", field="code")
    if not name or len(name) > MAX_NAME:
        raise DomainError(f"A department name has 1 to {MAX_NAME} characters.", field="name")
    if db.session.scalar(select(Department.id).where(Department.code == code)) is not None:
        raise Conflict(f"There is already a department {code!r}.", field="code")
    dept = Department(code=code, name=name, email=(email or "").strip() or None)
    db.session.add(dept)
    db.session.flush()
    return dept


def create_crew(name: str, department_id: int, *, active: bool = True) -> Crew:
    """Add a crew to a department.

    :raises DomainError: empty or over-long name (400).
    :raises NotFound: no such department (404).
    :raises Conflict: a crew already has this name (409).
    """
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise DomainError("A crew name has 1 to 120 characters.", field="name")
    if db.session.get(Department, department_id) is None:
        raise NotFound(f"There is no department {department_id}.", field="department_id")
    if db.session.scalar(select(Crew.id).where(Crew.name == name)) is not None:
        raise Conflict(f"There is already a crew named {name!r}.", field="name")
    crew = Crew(name=name, department_id=department_id, active=active)
    db.session.add(crew)
    db.session.flush()
    return crew


def list_departments() -> list[Department]:
    """Return every department, by name."""
    return list(db.session.scalars(select(Department).order_by(Department.name)))


def get_department(code: str) -> Department:
    """Return a department by code.

    :raises NotFound: there is no such department.
    """
    dept = db.session.scalar(select(Department).where(Department.code == code))
    if dept is None:
        raise NotFound(f"There is no department {code!r}.")
    return dept


def list_crews(department_id: int | None = None, *, active_only: bool = False) -> list[Crew]:
    """Return the crews, optionally of one department, ordered by name."""
    stmt = select(Crew).order_by(Crew.name)
    if department_id is not None:
        stmt = stmt.where(Crew.department_id == department_id)
    if active_only:
        stmt = stmt.where(Crew.active.is_(True))
    return list(db.session.scalars(stmt))


def get_crew(crew_id: int) -> Crew:
    """Return a crew by id.

    :raises NotFound: there is no such crew.
    """
    crew = db.session.get(Crew, crew_id)
    if crew is None:
        raise NotFound(f"There is no crew {crew_id}.", field="crew_id")
    return crew
