"""What every demo city has: wards, crews, one account per role; and wiping a city clean."""

from __future__ import annotations

import json
import random
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from geoalchemy2.shape import to_shape
from shapely.geometry import Point, shape
from sqlalchemy import func, inspect, select, text

from app.auth import service as auth_service
from app.auth.models import User
from app.auth.roles import ADMIN, AGENT, CREW, DISPATCHER, MANAGER
from app.core.clock import utcnow
from app.extensions import db
from app.geo import gazetteer
from app.geo import service as geo
from app.geo.gazetteer import Crossing, Located
from app.geo.models import District
from app.org import service as org
from app.org.models import Crew, Department
from app.requests import service as requests_service
from app.requests.models import ServiceType

DEMO_EMAIL_DOMAIN = "demo.city311.org"
#: gazetteer rows written per statement batch
GAZETTEER_BATCH = 5000


@dataclass(frozen=True)
class Account:
    role: str
    email: str
    password: str
    detail: str
    user_id: int


@dataclass(frozen=True)
class LoadReport:
    city: str
    departments: int
    service_types: int
    districts: int
    crews: int
    requests: int
    imported: int
    skipped: dict[str, int]
    accounts: list[Account]
    #: imported with the location unknown (the export had no usable point)
    unlocated: int = 0
    #: gazetteer entries: addresses and intersections
    places: int = 0


def add_gazetteer(addresses: list[Located], crossings: list[Crossing]) -> int:
    """Load the city's addresses and intersections, in batches; return how many."""
    for start in range(0, len(addresses), GAZETTEER_BATCH):
        gazetteer.load_addresses(addresses[start : start + GAZETTEER_BATCH])
    gazetteer.load_intersections(crossings)
    return len(addresses) + len(crossings)


def city_counts() -> dict[str, int]:
    """Count what makes a city: departments, districts and staff accounts."""
    return {
        "departments": db.session.scalar(select(func.count()).select_from(Department)) or 0,
        "districts": db.session.scalar(select(func.count()).select_from(District)) or 0,
        "users": db.session.scalar(select(func.count()).select_from(User)) or 0,
    }


def account_id(accounts: list[Account], role: str) -> int:
    return next(a.user_id for a in accounts if a.role == role)


def is_loaded() -> bool:
    """Tell whether the database already holds a city (ours or anyone's)."""
    return any(city_counts().values())


def reset_city() -> list[str]:
    """Delete every row the app owns and restart the id sequences; return the tables emptied.

    One TRUNCATE of all the tables together is FK-safe whatever the order (PostgreSQL checks
    that every referencing table is in the same statement), and it is transactional.
    """
    existing = set(inspect(db.session.connection()).get_table_names())
    # children first, so the statement reads in the order a DELETE would need
    tables = [t.name for t in reversed(db.metadata.sorted_tables) if t.name in existing]
    if tables:
        quoted = ", ".join(f'"{name}"' for name in tables)
        db.session.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY"))
    db.session.expunge_all()
    return tables


def add_department(code: str, name: str) -> Department:
    return org.create_department(code, name)


def add_service_type(
    code: str,
    name: str,
    department: Department,
    *,
    group: str,
    sla_value: int,
    sla_unit: str = "hours",
    attributes: list[dict[str, Any]] | None = None,
    completion_photo_required: bool = True,
    triage: bool = False,
) -> ServiceType:
    st = requests_service.create_service_type(
        code,
        name,
        department.id,
        group=group,
        sla_value=sla_value,
        sla_unit=sla_unit,
        attributes=attributes,
        completion_photo_required=completion_photo_required,
    )
    # "Other / not sure": its requests wait in the 311 triage queue for an agent
    st.triage = triage
    return st


def add_wards(features: list[dict[str, Any]], *, code_key: str) -> list[District]:
    """Store GeoJSON polygon features as wards (kind 'ward', named 'Ward N')."""
    wards = []
    for feature in features:
        code = str(int(feature["properties"][code_key]))
        wards.append(geo.create_district("ward", code, f"Ward {code}", shape(feature["geometry"])))
    return wards


def load_geojson(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)["features"]


def add_crews(pothole_dept: Department, others: list[Department]) -> dict[str, Crew]:
    """Two crews for the pothole department and one for each other department."""
    names = [("Pothole Crew 1", pothole_dept), ("Pothole Crew 2", pothole_dept)]
    names += [(f"{d.name} Crew", d) for d in others if d.id != pothole_dept.id]
    return {name: org.create_crew(name, dept.id) for name, dept in names}


def add_accounts(pothole_dept: Department, crew: Crew) -> list[Account]:
    """Create one account per role with a fresh random password, returned in clear once."""
    specs = [
        (AGENT, "Call-centre agent", {}),
        (DISPATCHER, f"dispatches {pothole_dept.name}", {"department_id": pothole_dept.id}),
        (
            CREW,
            f"works in {crew.name}",
            {"department_id": pothole_dept.id, "crew_id": crew.id},
        ),
        (MANAGER, "sees every department and the KPIs", {}),
        (ADMIN, "everything, including accounts", {}),
    ]
    accounts = []
    for role, detail, links in specs:
        password = secrets.token_urlsafe(12)
        email = f"{role}@{DEMO_EMAIL_DOMAIN}"
        user = auth_service.create_user(
            email=email, password=password, role=role, name=f"Demo {role}", **links
        )
        accounts.append(
            Account(role=role, email=email, password=password, detail=detail, user_id=user.id)
        )
    return accounts


# ---------------------------------------------------------------------------------------------
# recent requests, made the way residents and agents make them

_REPORTERS = [
    ("Maria Alvarez", "maria.alvarez@example.org", "555-0142"),
    ("Dev Patel", "", "555-0117"),
    ("Chris Okafor", "chris.okafor@example.org", ""),
    ("", "", ""),
    ("Sam Lee", "", "555-0190"),
]
_CLOSE_NOTES = {
    "fixed": "The crew fixed it. Thank you for reporting.",
    "duplicate": "This was already reported; we are working on the first report.",
    "no_action_needed": "We inspected the site and found nothing that needs work.",
    "referred": "This belongs to another agency; we passed your report on to them.",
}


def random_point(wards: list[District], rng: random.Random) -> tuple[float, float]:
    """Return a (lat, long) inside one of the wards, chosen at random."""
    shapes = [to_shape(w.geom) for w in wards]
    target = rng.choice(shapes)
    minx, miny, maxx, maxy = target.bounds
    for _ in range(1000):
        p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if target.contains(p):
            return round(p.y, 6), round(p.x, 6)
    c = target.representative_point()
    return c.y, c.x


def _answers(st: ServiceType, rng: random.Random) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for q in st.attributes or []:
        if q.get("values") and (q.get("required") or rng.random() < 0.6):
            keys = [v["key"] for v in q["values"]]
            answers[q["code"]] = (
                [rng.choice(keys)] if q["datatype"] == "multivaluelist" else rng.choice(keys)
            )
    return answers


def add_recent_requests(
    samples: list[tuple[str, str, str]],
    wards: list[District],
    *,
    count: int,
    days: int = 60,
    closed_share: float = 0.6,
    agent_id: int | None = None,
    seed: int = 311,
) -> int:
    """Submit `count` requests over the last `days` days through the requests service.

    `samples` are (service code, description, address) to draw from. Older ones are more
    likely to be closed, as in any real queue; a few of the open ones are acknowledged.
    """
    rng = random.Random(seed)
    now = utcnow()
    types = {st.code: st for st in db.session.scalars(select(ServiceType))}
    made = 0
    for i in range(count):
        code, description, address = samples[i % len(samples)]
        st = types[code]
        age = timedelta(days=days) * ((count - i) / count) - timedelta(minutes=rng.randint(0, 600))
        requested_at = now - max(age, timedelta(hours=1))
        lat, long = random_point(wards, rng)
        name, email, phone = rng.choice(_REPORTERS)
        if age > timedelta(days=1):
            # backdated history: its reporters were notified long ago, not at every demo load
            email = ""
        channel = rng.choice(("web", "web", "mobile", "phone", "api"))
        submitted = requests_service.submit_request(
            requests_service.NewRequest(
                service_code=code,
                description=description,
                lat=lat,
                long=long,
                address=address,
                name=name,
                email=email,
                phone=phone,
                attributes=_answers(st, rng),
            ),
            channel=channel,
            actor_id=agent_id if channel == "phone" else None,
            requested_at=requested_at,
        )
        made += 1
        sr = requests_service.get_request(submitted.id)
        old_enough = age > timedelta(days=2)
        if old_enough and rng.random() < closed_share + 0.3 * (age.days / days):
            reason = rng.choices(
                ["fixed", "duplicate", "no_action_needed", "referred"], weights=[14, 2, 2, 1]
            )[0]
            # most work lands inside its SLA and some runs late, as in a real department
            sla = sr.due_at - requested_at
            closed_at = min(requested_at + sla * rng.uniform(0.1, 1.6), now)
            requests_service.close(
                sr, reason=reason, actor_id=agent_id, note=_CLOSE_NOTES[reason], at=closed_at
            )
        elif rng.random() < 0.4:
            acknowledged_at = min(requested_at + timedelta(hours=rng.uniform(0.5, 30)), now)
            requests_service.acknowledge(sr, actor_id=agent_id, at=acknowledged_at)
    db.session.flush()
    return made
