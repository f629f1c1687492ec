"""The service catalogue: service types, their SLA clocks and the questions asked with them."""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from app.core.errors import Conflict, DomainError, NotFound
from app.extensions import db
from app.org.models import Department
from app.requests.models import MAX_TEXT, ServiceRequest, ServiceType
from app.sla import service as sla
from app.sla.calendar import SLA_UNITS

ATTRIBUTE_DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")


def list_service_types(
    *, include_inactive: bool = False, public_only: bool = False
) -> list[ServiceType]:
    """Return the service catalogue ordered by group and name.

    `public_only` leaves out internal types: residents and Open311 clients never see them,
    staff intake and imports use them.
    """
    stmt = select(ServiceType).order_by(ServiceType.group, ServiceType.name)
    if not include_inactive:
        stmt = stmt.where(ServiceType.active.is_(True))
    if public_only:
        stmt = stmt.where(ServiceType.public.is_(True))
    return list(db.session.scalars(stmt))


#: the longest emergency notice (a sentence or two and a number to call)
MAX_NOTICE = 1000


def check_emergency_notice(notice: str | None) -> str:
    """Return the emergency notice trimmed.

    :raises DomainError: it is longer than MAX_NOTICE characters (400).
    """
    notice = (notice or "").strip()
    if len(notice) > MAX_NOTICE:
        raise DomainError(
            f"The emergency notice has at most {MAX_NOTICE} characters.", field="emergency_notice"
        )
    return notice


@dataclass(frozen=True)
class CatalogueEntry:
    """What intake needs of a service type, cached per process for CATALOGUE_CACHE_SECONDS."""

    id: int
    code: str
    name: str
    department_id: int
    department_code: str
    department_name: str
    sla_value: int
    sla_unit: str
    attributes: list[dict[str, Any]]
    public: bool
    emergency_notice: str


def catalogue_entry(code: str, *, fresh: bool = False) -> CatalogueEntry:
    """Return the intake view of an active service type, from the cache when it is recent.

    A stale entry can never store a wrong row: the intake statement re-checks the type's id,
    activity and department, and a mismatch makes submit_request look the type up again.

    :raises DomainError: no active type has this code.
    """
    cache: dict[str, tuple[float, CatalogueEntry]] = current_app.extensions.setdefault(
        "city311_catalogue", {}
    )
    now = time.monotonic()
    hit = cache.get(code)
    if (
        hit is not None
        and not fresh
        and now - hit[0] < current_app.config["CATALOGUE_CACHE_SECONDS"]
    ):
        return hit[1]
    row = db.session.execute(
        select(
            ServiceType.id,
            ServiceType.code,
            ServiceType.name,
            ServiceType.department_id,
            Department.code,
            Department.name,
            ServiceType.sla_value,
            ServiceType.sla_unit,
            ServiceType.attributes,
            ServiceType.public,
            ServiceType.emergency_notice,
        )
        .join(Department, Department.id == ServiceType.department_id)
        .where(ServiceType.code == code, ServiceType.active.is_(True))
    ).one_or_none()
    if row is None:
        cache.pop(code, None)
        raise DomainError(
            f"Unknown service code {code!r}: GET /api/v1/services lists the valid codes.",
            field="service_code",
        )
    entry = CatalogueEntry(*row)
    cache[code] = (now, entry)
    return entry


def create_service_type(
    code: str,
    name: str,
    department_id: int,
    *,
    sla_value: int,
    sla_unit: str = "hours",
    group: str = "",
    description: str = "",
    keywords: str = "",
    attributes: list[dict[str, Any]] | None = None,
    completion_photo_required: bool = True,
    triage: bool = False,
    active: bool = True,
    public: bool = True,
    sensitive: bool = False,
    emergency_notice: str = "",
) -> ServiceType:
    """Add a service type to the catalogue, owned by a department, with its SLA and questions.

    :raises DomainError: a missing code or name, a bad SLA or a malformed question (400).
    :raises NotFound: no such department (404).
    :raises Conflict: a type already has this code (409).
    """
    code, name = (code or "").strip(), (name or "").strip()
    if not code or len(code) > 80:
        raise DomainError("A service code has 1 to 80 characters.", field="code")
    if not name or len(name) > 200:
        raise DomainError("A service name has 1 to 200 characters.", field="name")
    if sla_unit not in SLA_UNITS:
        raise DomainError(f"The SLA unit is one of {', '.join(SLA_UNITS)}.", field="sla_unit")
    if not isinstance(sla_value, int) or isinstance(sla_value, bool) or sla_value <= 0:
        raise DomainError("The SLA target is a whole number above 0.", field="sla_value")
    questions = check_questions(attributes or [])
    emergency_notice = check_emergency_notice(emergency_notice)
    if db.session.get(Department, department_id) is None:
        raise NotFound(f"There is no department {department_id}.", field="department_id")
    if db.session.scalar(select(ServiceType.id).where(ServiceType.code == code)) is not None:
        raise Conflict(f"There is already a service type {code!r}.", field="code")
    st = ServiceType(
        code=code,
        name=name,
        department_id=department_id,
        sla_value=sla_value,
        sla_unit=sla_unit,
        group=group,
        description=description,
        keywords=keywords,
        attributes=questions,
        completion_photo_required=completion_photo_required,
        triage=triage,
        active=active,
        public=public,
        sensitive=sensitive,
        emergency_notice=emergency_notice,
    )
    db.session.add(st)
    db.session.flush()
    return st


def _check_question(q: dict[str, Any]) -> dict[str, Any]:
    code = str(q.get("code") or "").strip()
    if not code:
        raise DomainError("Every question needs a code.", field="attributes")
    datatype = q.get("datatype", "string")
    if datatype not in ATTRIBUTE_DATATYPES:
        raise DomainError(
            f"Question {code}: the datatype is one of {', '.join(ATTRIBUTE_DATATYPES)}.",
            field="attributes",
        )
    if datatype.endswith("valuelist") and not q.get("values"):
        raise DomainError(f"Question {code}: a list question needs values.", field="attributes")
    values = q.get("values") or []
    if not isinstance(values, list) or not all(
        isinstance(v, dict) and str(v.get("key", "")).strip() for v in values
    ):
        raise DomainError(
            f"Question {code}: each value has a key (and a name).", field="attributes"
        )
    keys = [str(v["key"]).strip() for v in values]
    if len(set(keys)) != len(keys):
        raise DomainError(f"Question {code}: two values have the same key.", field="attributes")
    return {**q, "code": code, "datatype": datatype}


def check_questions(attributes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the questions checked.

    :raises DomainError: a malformed question, or two with the same code (400).
    """
    if not isinstance(attributes, list) or not all(isinstance(q, dict) for q in attributes):
        raise DomainError("The questions are a list of objects.", field="attributes")
    questions = [_check_question(q) for q in attributes]
    codes = [q["code"] for q in questions]
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise DomainError(
            f"Two questions have the code {', '.join(twice)}: codes must differ.",
            field="attributes",
        )
    return questions


def compute_due_at(requested_at: datetime, st: ServiceType | CatalogueEntry) -> datetime:
    """Return when a request of this type is due under its SLA (see app.sla for the clock)."""
    return sla.due_at(requested_at, st.sla_value, st.sla_unit)


def validate_attributes(
    st: ServiceType | CatalogueEntry, answers: dict[str, Any]
) -> dict[str, Any]:
    """Check answers against the type's questions; return them normalised.

    Answers to unknown questions are dropped: clients send extras that mean nothing here.

    :raises DomainError: a required answer is missing or an answer is not of its datatype.
    """
    clean: dict[str, Any] = {}
    for q in st.attributes or []:
        value = validate_attribute(q, answers.get(q["code"]))
        if value is not None:
            clean[q["code"]] = value
    return clean


def validate_attribute(q: dict[str, Any], value: Any) -> Any:
    """Check one answer to a question; return it normalised, or None when there is none.

    :raises DomainError: the question is required and unanswered, or the answer is not of
        its datatype.
    """
    if not q.get("variable", True):
        return None  # informational text, nothing to answer
    code = q["code"]
    if isinstance(value, str):
        value = value.strip()
    if value in (None, "", []):
        if q.get("required"):
            label = q.get("description") or q.get("label") or code
            raise DomainError(f"Answer the question {label!r} (attribute {code}).", field=code)
        return None
    return _coerce_answer(q, value)


def _coerce_answer(q: dict[str, Any], value: Any) -> Any:
    code, datatype = q["code"], q.get("datatype", "string")
    allowed = {str(v["key"]) for v in q.get("values", [])}
    if datatype == "number":
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise DomainError(
                f"Attribute {code} must be a number, not {value!r}.", field=code
            ) from None
        if not number.is_finite():
            raise DomainError(f"Attribute {code} must be a finite number.", field=code)
        return float(number)
    if datatype == "datetime":
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise DomainError(
                f"Attribute {code} must be an ISO 8601 date and time, not {value!r}.", field=code
            ) from None
        return moment.isoformat()
    if datatype == "singlevaluelist":
        if isinstance(value, list):
            if len(value) != 1:
                raise DomainError(f"Attribute {code} takes exactly one value.", field=code)
            value = value[0]
        if str(value) not in allowed:
            raise DomainError(
                f"Attribute {code} must be one of {sorted(allowed)}, not {value!r}.", field=code
            )
        return str(value)
    if datatype == "multivaluelist":
        values = value if isinstance(value, list) else [value]
        bad = [v for v in values if str(v) not in allowed]
        if bad:
            raise DomainError(
                f"Attribute {code} values must be among {sorted(allowed)}; {bad!r} are not.",
                field=code,
            )
        return [str(v) for v in values]
    text_value = str(value)
    if len(text_value) > MAX_TEXT:
        raise DomainError(f"Attribute {code} is longer than {MAX_TEXT} characters.", field=code)
    return text_value


def open_requests_by_department(department_ids: Collection[int]) -> dict[int, int]:
    """Return the open requests of each department that has any, in one grouped query.

    What keeps a department from deactivation, and what the admin list of departments shows.
    """
    rows = db.session.execute(
        select(ServiceRequest.department_id, func.count())
        .where(
            ServiceRequest.department_id.in_(list(department_ids)),
            ServiceRequest.status != "closed",
        )
        .group_by(ServiceRequest.department_id)
    )
    return {int(department_id): int(count) for department_id, count in rows}
