"""The GeoReport v2 service catalogue: the service list and each service's questions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, text

from app.core.errors import NotFound
from app.extensions import db
from app.open311.sql_text import as_json_array, clean
from app.requests.models import ServiceType

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"


def service_notice(sla_value: int, sla_unit: str) -> str:
    """Say how soon a request of this type is expected to be dealt with."""
    if sla_unit == "business_days":
        unit = "business day" if sla_value == 1 else "business days"
    else:
        unit = "hour" if sla_value == 1 else "hours"
    return f"Expected within {sla_value} {unit}."


def service_notice_sql(value: str, unit: str) -> str:
    """Return SQL for service_notice of two columns, for answers PostgreSQL writes."""
    return (
        f"'Expected within ' || {value} || CASE WHEN {unit} = 'business_days'"
        f" THEN CASE WHEN {value} = 1 THEN ' business day.' ELSE ' business days.' END"
        f" ELSE CASE WHEN {value} = 1 THEN ' hour.' ELSE ' hours.' END END"
    )


def _questions(st: ServiceType) -> list[dict[str, Any]]:
    return sorted(st.attributes or [], key=lambda q: (q.get("order") or 0, q.get("code", "")))


_GROUP = """nullif(st."group", '')"""
#: one service of the list; every text as formats.same_text leaves it, empty ones null
_SERVICE = f"""
SELECT {clean("st.code")} AS service_code,
       {clean("st.name")} AS service_name,
       {clean("nullif(st.description, '')")} AS description,
       coalesce(jsonb_array_length(CASE WHEN jsonb_typeof(st.attributes) = 'array'
                                        THEN st.attributes END), 0) > 0 AS metadata,
       'realtime' AS type,
       {clean("nullif(st.keywords, '')")} AS keywords,
       {clean(_GROUP)} AS "group"
"""


def services_json() -> str:
    """Return the JSON text of the GeoReport service list, written by PostgreSQL.

    Active public types ordered by group and name. One statement and no ORM object per type:
    Open311 apps fetch this list on every start, and a city has a hundred or more types.
    """
    statement = f"""
SELECT {as_json_array("row_to_json(r)::text", 'st."group", st.name')}
  FROM service_types st
  CROSS JOIN LATERAL ({_SERVICE}) r
 WHERE st.active AND st.public
"""
    return db.session.execute(text(statement)).scalar_one()


def service_definition(code: str) -> dict[str, Any]:
    """Return the GeoReport definition (the questions) of a service.

    :raises NotFound: no active public service has this code.
    """
    st = db.session.scalar(
        select(ServiceType).where(
            ServiceType.code == code, ServiceType.active.is_(True), ServiceType.public.is_(True)
        )
    )
    if st is None:
        raise NotFound(f"There is no service {code!r}; services.xml lists them.")
    return definition_of(st)


def definition_of(st: ServiceType) -> dict[str, Any]:
    """Return the GeoReport definition of a type as it stands (saved or being edited)."""
    attributes = []
    for index, q in enumerate(_questions(st), start=1):
        item: dict[str, Any] = {
            "variable": bool(q.get("variable", True)),
            "code": str(q["code"]),
            "datatype": q.get("datatype", "string"),
            "required": bool(q.get("required", False)),
            "datatype_description": q.get("datatype_description") or None,
            "order": int(q.get("order") or index),
            "description": q.get("description") or q.get("label") or str(q["code"]),
        }
        if item["datatype"] in ("singlevaluelist", "multivaluelist"):
            item["values"] = [
                {"key": str(v["key"]), "name": str(v.get("name", v["key"]))}
                for v in q.get("values", [])
            ]
        attributes.append(item)
    return {"service_code": st.code, "attributes": attributes}
