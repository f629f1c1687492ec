"""Routing rules: which department, and which crew, a type's requests go to in each district.

A rule for the request's district wins over the type's rule for every district, which wins
over the type's own department. Intake, the bulk importer and transfers all choose the rule
with the same SQL fragment (rule_sql), so the three can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from app.core import audit
from app.core.errors import Conflict, DomainError, NotFound
from app.extensions import db
from app.geo.models import District
from app.geo.routing import routing_kind
from app.org.models import Crew, Department
from app.requests.models import RoutingRule, ServiceRequest, ServiceType

#: requests shown per page of the triage queue
TRIAGE_PAGE_SIZE = 50


def rule_sql(service_type: str, district: str) -> str:
    """Return a SELECT of the rule that routes `service_type` in `district`, or no row.

    Both are SQL expressions (bind parameters, columns); a NULL district matches only the
    type's rule for every district. The row has the rule's id, its department's id, code and
    name, and its crew's id (NULL when it names none or the crew is no longer active).
    """
    return (
        "SELECT r.id, r.department_id, d.code AS department_code, d.name AS department_name, "
        "c.id AS crew_id "
        "FROM routing_rules r JOIN departments d ON d.id = r.department_id "
        "LEFT JOIN crews c ON c.id = r.crew_id AND c.active "
        f"WHERE r.service_type_id = {service_type} "
        f"AND (r.district_id IS NULL OR r.district_id = {district}) "
        # the district's own rule first: NULLs (every district) sort last
        "ORDER BY r.district_id NULLS LAST LIMIT 1"
    )


_RULE_FOR = text(rule_sql(":service_type_id", ":district_id"))


@dataclass(frozen=True)
class Route:
    """Where a request goes: its department, the crew proposed, and the rule that chose them."""

    department_id: int
    crew_id: int | None
    rule_id: int | None


def route_for(service_type: ServiceType, district_id: int | None) -> Route:
    """Return where a request of this type in this district goes, by the rules."""
    row = db.session.execute(
        _RULE_FOR, {"service_type_id": service_type.id, "district_id": district_id}
    ).one_or_none()
    if row is None:
        return Route(department_id=service_type.department_id, crew_id=None, rule_id=None)
    return Route(department_id=row.department_id, crew_id=row.crew_id, rule_id=row.id)


# ---------------------------------------------------------------------------------------------
# the rules themselves: an admin's verbs


def routing_districts() -> list[District]:
    """Return the districts a rule may name: the current ones of the routing kind, by id."""
    return list(
        db.session.scalars(
            select(District)
            .where(District.kind == routing_kind(), District.retired.is_(False))
            .order_by(District.id)
        )
    )


def list_rules() -> list[RoutingRule]:
    """Return every rule, by service type, then the all-district rule, then by district."""
    return list(
        db.session.scalars(
            select(RoutingRule)
            .join(ServiceType, ServiceType.id == RoutingRule.service_type_id)
            .outerjoin(District, District.id == RoutingRule.district_id)
            .order_by(
                ServiceType.name,
                RoutingRule.district_id.is_not(None),
                func.length(District.code),
                District.code,
            )
        )
    )


def create_rule(
    service_code: str,
    *,
    district_code: str | None = None,
    department_code: str | None = None,
    crew_id: int | None = None,
) -> RoutingRule:
    """Send a type's requests (in one district, or all) to a department and propose a crew.

    Without a department, the crew's department is used.

    :raises DomainError: an unknown type, district, department or crew, an inactive crew,
        a crew of another department, or neither department nor crew (400).
    :raises Conflict: the type already has a rule for that district (409).
    """
    service_code = (service_code or "").strip()
    st = db.session.scalar(select(ServiceType).where(ServiceType.code == service_code))
    if st is None:
        raise DomainError(
            f"Unknown service code {service_code!r}: GET /api/v1/services lists the valid codes.",
            field="service_code",
        )
    district = _district(district_code)
    crew = _crew(crew_id)
    department = _department(department_code, crew)
    if crew is not None and crew.department_id != department.id:
        raise DomainError(
            f"{crew.name} works for {crew.department.name}, not {department.name}: "
            "a rule's crew must belong to the rule's department.",
            field="crew_id",
        )
    existing = db.session.scalar(
        select(RoutingRule.id).where(
            RoutingRule.service_type_id == st.id,
            RoutingRule.district_id.is_(None)
            if district is None
            else RoutingRule.district_id == district.id,
        )
    )
    if existing is not None:
        raise _duplicate(st, district, existing)
    rule = RoutingRule(
        service_type=st,
        district=district,
        department=department,
        crew=crew,
    )
    try:
        # a savepoint: another admin's rule for the same pair may land between check and write
        with db.session.begin_nested():
            db.session.add(rule)
    except IntegrityError:
        raise _duplicate(st, district, None) from None
    audit.record(None, "create", _audit_target(rule), after=_audit_view(rule))
    return rule


def _audit_target(rule: RoutingRule) -> tuple[str, int, str]:
    where = rule.district.code if rule.district is not None else "all districts"
    return ("routing_rule", rule.id, f"{rule.service_type.code} in {where}")


def _audit_view(rule: RoutingRule) -> dict[str, object]:
    return {
        "service_code": rule.service_type.code,
        "district": rule.district.code if rule.district is not None else None,
        "department": rule.department.code,
        "crew_id": rule.crew_id,
    }


def delete_rule(rule_id: int) -> RoutingRule:
    """Delete a rule; requests already routed by it keep their department.

    :raises NotFound: there is no such rule (404).
    """
    rule = db.session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound(f"There is no routing rule {rule_id}.")
    audit.record(None, "delete", _audit_target(rule), before=_audit_view(rule))
    db.session.delete(rule)
    db.session.flush()
    return rule


def _duplicate(st: ServiceType, district: District | None, rule_id: int | None) -> Conflict:
    where = f"in {district.name}" if district is not None else "for every district"
    which = f" (rule {rule_id})" if rule_id is not None else ""
    return Conflict(
        f"{st.name} already has a routing rule {where}{which}: delete it first to change it.",
        field="district",
        rule_id=rule_id,
    )


def _district(code: str | None) -> District | None:
    code = (code or "").strip()
    if not code:
        return None
    kind = routing_kind()
    district = db.session.scalar(
        select(District).where(District.kind == kind, District.code == code)
    )
    if district is None:
        raise DomainError(
            f"There is no {kind} {code!r}: a rule names a {kind} by its code, "
            "or no district for every district.",
            field="district",
        )
    return district


def _crew(crew_id: int | None) -> Crew | None:
    if crew_id is None:
        return None
    crew = db.session.get(Crew, crew_id)
    if crew is None:
        raise DomainError(f"There is no crew {crew_id}.", field="crew_id")
    if not crew.active:
        raise DomainError(f"{crew.name} is not an active crew.", field="crew_id")
    return crew


def _department(code: str | None, crew: Crew | None) -> Department:
    code = (code or "").strip()
    if not code:
        if crew is None:
            raise DomainError(
                "Name the department the requests go to, or a crew (its department is used).",
                field="department",
            )
        return crew.department
    department = db.session.scalar(select(Department).where(Department.code == code))
    if department is None:
        raise DomainError(f"There is no department {code!r}.", field="department")
    return department


# ---------------------------------------------------------------------------------------------
# the 311 triage queue


def triage_queue(
    *, page: int = 1, page_size: int = TRIAGE_PAGE_SIZE
) -> tuple[list[ServiceRequest], int]:
    """Return one page of the open requests of triage types, oldest first, and their count."""
    where = (ServiceType.triage.is_(True), ServiceRequest.status != "closed")
    total = db.session.scalar(
        select(func.count())
        .select_from(ServiceRequest)
        .join(ServiceType, ServiceType.id == ServiceRequest.service_type_id)
        .where(*where)
    )
    items = db.session.scalars(
        select(ServiceRequest)
        .join(ServiceType, ServiceType.id == ServiceRequest.service_type_id)
        .where(*where)
        .order_by(ServiceRequest.requested_at, ServiceRequest.id)
        .limit(page_size)
        .offset((max(page, 1) - 1) * page_size)
    )
    return list(items), total or 0
