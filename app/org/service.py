"""Domain verbs for departments and crews: the one way their rows are made and found."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from sqlalchemy import or_, select

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
    dept = db.session.get(Department, department_id)
    if dept is None:
        raise NotFound(f"There is no department {department_id}.", field="department_id")
    if not dept.active:
        raise DomainError(
            f"{dept.name} is deactivated: reactivate it first.", field="department_id"
        )
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


# ---------------------------------------------------------------------------------------------
# administration: rename and deactivate, with the open work that holds a department back

#: callables that count open work per department, for the department ids given, in one query
#: each (requests registers one at start-up): org sits below requests, so it asks instead of
#: importing. A department with no open work may be left out of a counter's answer.
_open_work_counters: list[Callable[[Collection[int]], Mapping[int, int]]] = []


def register_open_work(counter: Callable[[Collection[int]], Mapping[int, int]]) -> None:
    """Register a count of open work per department that keeps one from being deactivated."""
    if counter not in _open_work_counters:
        _open_work_counters.append(counter)


def open_work_by_department(department_ids: Collection[int]) -> dict[int, int]:
    """Return how many open items (requests, …) each department holds, 0 for none.

    One grouped query per kind of work, whatever the number of departments: the admin list
    shows every department's count.
    """
    totals = dict.fromkeys(department_ids, 0)
    if not totals:
        return totals
    for counter in _open_work_counters:
        for department_id, count in counter(list(totals)).items():
            totals[department_id] = totals.get(department_id, 0) + count
    return totals


def open_work(department_id: int) -> int:
    """Return how many open items (requests, …) a department still holds."""
    return open_work_by_department([department_id])[department_id]


def search_departments(query: str = "", *, include_inactive: bool = True) -> list[Department]:
    """Return departments whose code or name contains `query`, by name."""
    stmt = select(Department).order_by(Department.name)
    if query.strip():
        like = f"%{query.strip()}%"
        stmt = stmt.where(or_(Department.code.ilike(like), Department.name.ilike(like)))
    if not include_inactive:
        stmt = stmt.where(Department.active.is_(True))
    return list(db.session.scalars(stmt))


def get_department_by_id(department_id: int) -> Department:
    """Return a department by id.

    :raises NotFound: there is no such department (404).
    """
    dept = db.session.get(Department, department_id)
    if dept is None:
        raise NotFound(f"There is no department {department_id}.", field="department_id")
    return dept


def update_department(
    dept: Department, *, name: str | None = None, email: str | None = None
) -> Department:
    """Rename a department or change its email; its code never changes.

    :raises DomainError: an empty or over-long name (400).
    """
    if name is not None:
        name = name.strip()
        if not name or len(name) > MAX_NAME:
            raise DomainError(f"A department name has 1 to {MAX_NAME} characters.", field="name")
        dept.name = name
    if email is not None:
        dept.email = email.strip() or None
    db.session.flush()
    return dept


def set_department_active(dept: Department, active: bool) -> Department:
    """Deactivate a department whose queue is empty, or reactivate one.

    :raises Conflict: it still has open work: transfer or close it first (409).
    """
    if not active and dept.active:
        count = open_work(dept.id)
        if count:
            raise Conflict(
                f"{dept.name} still has {count} open request{'s' if count != 1 else ''}: "
                "close or transfer them before deactivating it.",
                field="active",
            )
    dept.active = active
    db.session.flush()
    return dept


def search_crews(query: str = "", department_id: int | None = None) -> list[Crew]:
    """Return crews whose name contains `query`, optionally of one department, by name."""
    stmt = select(Crew).order_by(Crew.name)
    if query.strip():
        stmt = stmt.where(Crew.name.ilike(f"%{query.strip()}%"))
    if department_id is not None:
        stmt = stmt.where(Crew.department_id == department_id)
    return list(db.session.scalars(stmt))


def update_crew(crew: Crew, *, name: str | None = None, active: bool | None = None) -> Crew:
    """Rename, deactivate or reactivate a crew.

    :raises DomainError: an empty or over-long name (400).
    :raises Conflict: another crew has this name (409).
    """
    if name is not None:
        name = name.strip()
        if not name or len(name) > 120:
            raise DomainError("A crew name has 1 to 120 characters.", field="name")
        clash = db.session.scalar(select(Crew.id).where(Crew.name == name, Crew.id != crew.id))
        if clash is not None:
            raise Conflict(f"There is already a crew named {name!r}.", field="name")
        crew.name = name
    if active is not None:
        crew.active = active
    db.session.flush()
    return crew


def department_view(dept: Department) -> dict[str, Any]:
    """Return what the audit keeps of a department."""
    return {"code": dept.code, "name": dept.name, "email": dept.email, "active": dept.active}


def crew_view(crew: Crew) -> dict[str, Any]:
    """Return what the audit keeps of a crew."""
    return {"name": crew.name, "department_id": crew.department_id, "active": crew.active}
