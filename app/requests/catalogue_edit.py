"""Admin edits of the service catalogue that keep codes, history and promises made."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from app.core.errors import DomainError, NotFound
from app.extensions import db
from app.org.models import Department
from app.requests.catalogue import check_emergency_notice, check_questions, compute_due_at
from app.requests.models import ServiceRequest, ServiceType
from app.sla.calendar import SLA_UNITS

#: the fields of a service type an admin may change (never the code)
EDITABLE = (
    "name",
    "description",
    "group",
    "keywords",
    "department_id",
    "sla_value",
    "sla_unit",
    "attributes",
    "completion_photo_required",
    "triage",
    "active",
    "public",
    "sensitive",
    "emergency_notice",
)


def service_type_view(st: ServiceType) -> dict[str, Any]:
    """Return what the audit keeps of a service type."""
    return {"code": st.code, **{name: getattr(st, name) for name in EDITABLE}}


def search_service_types(query: str = "") -> list[ServiceType]:
    """Return every type, active or not, whose code, name or group contains `query`."""
    stmt = select(ServiceType).order_by(ServiceType.group, ServiceType.name)
    if query.strip():
        like = f"%{query.strip()}%"
        stmt = stmt.where(
            ServiceType.code.ilike(like)
            | ServiceType.name.ilike(like)
            | ServiceType.group.ilike(like)
        )
    return list(db.session.scalars(stmt))


def get_service_type(code: str) -> ServiceType:
    """Return a service type, active or not, by code.

    :raises NotFound: there is no such type (404).
    """
    st = db.session.scalar(select(ServiceType).where(ServiceType.code == code))
    if st is None:
        raise NotFound(f"There is no service type {code!r}.", field="code")
    return st


def open_requests_of_type(st: ServiceType) -> int:
    """Return how many open requests of this type there are (an SLA edit may move them)."""
    return (
        db.session.scalar(
            select(func.count(ServiceRequest.id)).where(
                ServiceRequest.service_type_id == st.id, ServiceRequest.status != "closed"
            )
        )
        or 0
    )


def update_service_type(
    st: ServiceType, changes: dict[str, Any], *, move_open_due_times: bool = False
) -> int:
    """Change a type's editable fields (its code never changes); return the due times moved.

    Open requests keep the due time they were promised unless `move_open_due_times`: then
    each is counted again from when it was asked, plus its time on hold, as a transfer does.
    Everything is checked before anything is written.

    :raises DomainError: a bad name, SLA or question, or an unknown field (400).
    :raises NotFound: no such department (404).
    """
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise DomainError(
            f"These fields cannot be changed: {', '.join(unknown)}.", field=unknown[0]
        )
    merged = {**service_type_view(st), **changes}
    name = str(merged["name"] or "").strip()
    if not name or len(name) > 200:
        raise DomainError("A service name has 1 to 200 characters.", field="name")
    if merged["sla_unit"] not in SLA_UNITS:
        raise DomainError(f"The SLA unit is one of {', '.join(SLA_UNITS)}.", field="sla_unit")
    sla_value = merged["sla_value"]
    if not isinstance(sla_value, int) or isinstance(sla_value, bool) or sla_value <= 0:
        raise DomainError("The SLA target is a whole number above 0.", field="sla_value")
    questions = check_questions(merged["attributes"] or [])
    notice = check_emergency_notice(merged["emergency_notice"])
    if changes.get("department_id", st.department_id) != st.department_id:
        dept = db.session.get(Department, merged["department_id"])
        if dept is None:
            raise NotFound(
                f"There is no department {merged['department_id']}.", field="department_id"
            )
        if not dept.active:
            raise DomainError(f"{dept.name} is deactivated.", field="department_id")
    for text_field, limit in (("group", 100), ("keywords", 400)):
        if len(str(merged[text_field] or "")) > limit:
            raise DomainError(f"The {text_field} has at most {limit} characters.", field=text_field)
    sla_changed = (sla_value, merged["sla_unit"]) != (st.sla_value, st.sla_unit)
    for field_name in EDITABLE:
        setattr(st, field_name, merged[field_name])
    st.name, st.attributes, st.emergency_notice = name, questions, notice
    st.department = db.session.get(Department, st.department_id)
    db.session.flush()
    # this process sees the edit at once; the others within CATALOGUE_CACHE_SECONDS
    current_app.extensions.get("city311_catalogue", {}).pop(st.code, None)
    if not (sla_changed and move_open_due_times):
        return 0
    moved = 0
    for sr in db.session.scalars(
        select(ServiceRequest).where(
            ServiceRequest.service_type_id == st.id, ServiceRequest.status != "closed"
        )
    ):
        sr.due_at = compute_due_at(sr.requested_at + timedelta(seconds=sr.held_seconds), st)
        moved += 1
    db.session.flush()
    return moved
