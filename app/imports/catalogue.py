"""Departments and service types of an import, matched by code or name, else created.

Created through the org and catalogue verbs, so an imported department or type obeys the
same rules as one an admin adds. Lookups are remembered for the file; `forget` drops them
when a batch (and what it created) is rolled back.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.core.errors import Conflict
from app.extensions import db
from app.org import service as org_service
from app.org.models import Department
from app.requests import service as requests_service
from app.requests.models import ServiceType

#: the SLA of a type the import creates; rows with a recorded due time keep theirs
DEFAULT_SLA_HOURS = 72


def _code(name: str, length: int, upper: bool) -> str:
    code = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")[:length] or "imported"
    return code.upper() if upper else code.lower()


class Catalogue:
    def __init__(self) -> None:
        self._departments: dict[tuple[str, str], tuple[int, str]] = {}
        self._types: dict[str, str] = {}

    def forget(self) -> None:
        self._departments.clear()
        self._types.clear()

    def department(self, code: str, name: str) -> tuple[int, str]:
        """Return (id, code) of the department the export names by `code`, else by `name`."""
        key = (code.lower(), name.lower())
        if key not in self._departments:
            self._departments[key] = self._find_department(code, name) or self._add_department(
                code, name
            )
        return self._departments[key]

    def service_type(self, name: str, department_id: int, group: str) -> str:
        """Return the code of the service type called `name`; create it for the department."""
        key = name.lower()
        if key not in self._types:
            found = db.session.scalar(
                select(ServiceType.code)
                .where(func.lower(ServiceType.name) == key)
                .order_by(ServiceType.id)
                .limit(1)
            )
            self._types[key] = found or self._add_type(name, department_id, group)
        return self._types[key]

    def _find_department(self, code: str, name: str) -> tuple[int, str] | None:
        stmt = select(Department.id, Department.code)
        if code:
            stmt = stmt.where(func.lower(Department.code) == code.lower()[: org_service.MAX_CODE])
        else:
            stmt = stmt.where(func.lower(Department.name) == name.lower())
        row = db.session.execute(stmt.order_by(Department.id).limit(1)).first()
        return (row[0], row[1]) if row else None

    def _add_department(self, code: str, name: str) -> tuple[int, str]:
        base = code[: org_service.MAX_CODE] or _code(name, org_service.MAX_CODE - 4, upper=True)
        for n in range(1, 100):
            try:
                dept = org_service.create_department(
                    base if n == 1 else f"{base}_{n}", (name or code)[: org_service.MAX_NAME]
                )
                return dept.id, dept.code
            except Conflict:
                continue
        raise Conflict(f"No free department code for {name!r}.")

    def _add_type(self, name: str, department_id: int, group: str) -> str:
        base = _code(name, 76, upper=False)
        for n in range(1, 100):
            try:
                return requests_service.create_service_type(
                    base if n == 1 else f"{base}_{n}",
                    name[:200],
                    department_id,
                    sla_value=DEFAULT_SLA_HOURS,
                    group=group[:100],
                ).code
            except Conflict:
                continue
        raise Conflict(f"No free service code for {name!r}.")
