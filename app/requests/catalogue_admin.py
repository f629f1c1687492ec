"""Audited admin changes of the service catalogue, shared by its admin pages and API."""

from __future__ import annotations

from typing import Any

from app.core import audit
from app.requests import catalogue, catalogue_edit
from app.requests.models import ServiceType


def create(code: str, changes: dict[str, Any]) -> ServiceType:
    """Add a service type from admin input (name, department_id, sla_value, …) and record it."""
    fields = dict(changes)
    st = catalogue.create_service_type(
        code,
        fields.pop("name", ""),
        fields.pop("department_id"),
        sla_value=fields.pop("sla_value", 0),
        **fields,
    )
    audit.record(
        None,
        "create",
        ("service_type", st.code, st.name),
        after=catalogue_edit.service_type_view(st),
    )
    return st


def update(st: ServiceType, changes: dict[str, Any], *, move_open_due_times: bool = False) -> int:
    """Edit a service type and record what changed; return how many due times moved."""
    before = catalogue_edit.service_type_view(st)
    moved = catalogue_edit.update_service_type(st, changes, move_open_due_times=move_open_due_times)
    after = catalogue_edit.service_type_view(st)
    if moved:
        after["due_times_moved"] = moved
    if after != before:
        action = "update"
        if before["active"] != after["active"]:
            action = "activate" if after["active"] else "deactivate"
        audit.record(None, action, ("service_type", st.code, st.name), before, after)
    return moved
