"""Builders for test data: a small city with two wards, three departments and some staff."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from PIL import Image
from shapely.geometry import box

from app.auth import service as auth_service
from app.auth.models import User
from app.extensions import db
from app.geo import service as geo
from app.geo.models import District
from app.org import service as org
from app.org.models import Crew, Department
from app.requests import service as requests_service
from app.requests.models import ServiceRequest, ServiceType
from app.requests.service import NewRequest

PASSWORD = "correct horse battery"

#: Ward 1 is west of -71.05, Ward 2 east of it; the city is -71.10..-71.00 × 42.30..42.35
WARD_1_POINT = (42.32, -71.08)  # (lat, long)
WARD_2_POINT = (42.32, -71.02)
OUTSIDE_POINT = (40.71, -74.00)


def make_department(code: str, name: str | None = None) -> Department:
    return org.create_department(code, name or f"{code} department")


def make_service_type(
    code: str, department: Department, *, sla_value: int = 48, sla_unit: str = "hours", **kw: Any
) -> ServiceType:
    return requests_service.create_service_type(
        code,
        kw.pop("name", code.replace("_", " ").title()),
        department.id,
        sla_value=sla_value,
        sla_unit=sla_unit,
        **kw,
    )


def make_district(code: str, name: str, polygon: Any, kind: str = "ward") -> District:
    return geo.create_district(kind, code, name, polygon)


def make_crew(name: str, department: Department) -> Crew:
    return org.create_crew(name, department.id)


def make_user(email: str, role: str, **kw: Any) -> User:
    return auth_service.create_user(email=email, password=PASSWORD, role=role, **kw)


def jpeg_bytes(
    size: tuple[int, int] = (640, 480), color: str = "orange", *, gps: bool = False
) -> bytes:
    """Return a real JPEG; with gps=True it carries EXIF GPS tags, as phone photos do."""
    img = Image.new("RGB", size, color)
    buf = io.BytesIO()
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"  # Make
        gps_ifd = {1: "N", 2: (42.0, 19.0, 12.0), 3: "W", 4: (71.0, 4.0, 48.0)}
        exif[0x8825] = gps_ifd
        img.save(buf, "JPEG", exif=exif)
    else:
        img.save(buf, "JPEG")
    return buf.getvalue()


@dataclass
class City:
    public_works: Department
    parks: Department
    pothole: ServiceType
    streetlight: ServiceType
    graffiti: ServiceType
    ward1: District
    ward2: District
    crew_a: Crew
    crew_b: Crew
    parks_crew: Crew
    users: dict[str, User] = field(default_factory=dict)


def make_city() -> City:
    """Build the standard test city (flushed, not committed)."""
    pw = make_department("PWD", "Public Works")
    parks = make_department("PARKS", "Parks and Recreation")
    pothole = make_service_type(
        "pothole",
        pw,
        name="Pothole",
        sla_value=72,
        group="Streets",
        attributes=[
            {
                "code": "size",
                "description": "How big is it?",
                "datatype": "singlevaluelist",
                "required": False,
                "order": 1,
                "variable": True,
                "values": [
                    {"key": "small", "name": "Smaller than a plate"},
                    {"key": "large", "name": "Larger than a plate"},
                ],
            },
        ],
    )
    streetlight = make_service_type(
        "streetlight",
        pw,
        name="Streetlight out",
        sla_value=5,
        sla_unit="business_days",
        group="Streets",
    )
    graffiti = make_service_type("graffiti", parks, name="Graffiti", sla_value=7 * 24)
    ward1 = make_district("1", "Ward 1", box(-71.10, 42.30, -71.05, 42.35))
    ward2 = make_district("2", "Ward 2", box(-71.05, 42.30, -71.00, 42.35))
    crew_a = make_crew("Pothole crew A", pw)
    crew_b = make_crew("Pothole crew B", pw)
    parks_crew = make_crew("Parks crew", parks)
    users = {
        "agent": make_user("agent@city.test", "agent"),
        "dispatcher": make_user("dispatcher@city.test", "dispatcher", department_id=pw.id),
        "parks_dispatcher": make_user(
            "parks.dispatcher@city.test", "dispatcher", department_id=parks.id
        ),
        "crew": make_user("crew.a@city.test", "crew", department_id=pw.id, crew_id=crew_a.id),
        "crew_b": make_user("crew.b@city.test", "crew", department_id=pw.id, crew_id=crew_b.id),
        "manager": make_user("manager@city.test", "manager"),
        "admin": make_user("admin@city.test", "admin"),
    }
    return City(
        pw, parks, pothole, streetlight, graffiti, ward1, ward2, crew_a, crew_b, parks_crew, users
    )


#: the contact details a resident may leave out: with them gone, no receipt is owed
ANONYMOUS: dict[str, str] = {"name": "", "email": "", "phone": ""}


def new_request(
    code: str = "pothole", point: tuple[float, float] = WARD_1_POINT, **fields: Any
) -> NewRequest:
    """Return a resident's report of a `code` problem at `point`, with `fields` overridden."""
    defaults: dict[str, Any] = {
        "description": f"A {code} needs fixing",
        "address": "12 Main St",
        "name": "Rita Reporter",
        "email": "rita@example.org",
        "phone": "(617) 555-0199",
    }
    return NewRequest(service_code=code, lat=point[0], long=point[1], **(defaults | fields))


def submit(
    code: str = "pothole",
    point: tuple[float, float] = WARD_1_POINT,
    *,
    channel: str = "web",
    actor_id: int | None = None,
    requested_at: datetime | None = None,
    **fields: Any,
) -> ServiceRequest:
    """Store `new_request(code, point, **fields)` through the real intake path and return it."""
    result = requests_service.submit_request(
        new_request(code, point, **fields),
        channel=channel,
        actor_id=actor_id,
        requested_at=requested_at,
    )
    return db.session.get(ServiceRequest, result.id)
