"""`flask demo load`: the built-in city, idempotence, --reset, and Boston's real data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from app.auth import service as auth_service
from app.auth.models import ROLES, User
from app.demo import boston
from app.extensions import db
from app.geo.models import District
from app.org.models import Crew
from app.requests.models import RequestEvent, ServiceRequest, ServiceType

ACCOUNT_LINE = re.compile(r"^\s+(\w+)\s+(\S+@demo\.city311\.org)\s+(\S+)", re.M)


def load(app, *args: str):
    result = app.test_cli_runner().invoke(args=["demo", "load", *args])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def accounts(output: str) -> dict[str, tuple[str, str]]:
    return {role: (email, pw) for role, email, pw in ACCOUNT_LINE.findall(output)}


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_builtin_demo_builds_a_working_city(app, db_session):
    output = load(app, "--builtin")

    assert count(District, District.kind == "ward") == 6
    pothole = db.session.scalar(select(ServiceType).where(ServiceType.code == "pothole"))
    assert pothole is not None and pothole.attributes[0]["datatype"] == "singlevaluelist"
    for code in ("streetlight", "graffiti", "missed_trash_pickup", "abandoned_vehicle"):
        assert count(ServiceType, ServiceType.code == code) == 1
    assert count(Crew, Crew.department_id == pothole.department_id) >= 2

    # every role has an account, and the password printed once signs it in
    printed = accounts(output)
    assert set(printed) == set(ROLES)
    for role, (email, password) in printed.items():
        user = auth_service.authenticate(email, password)
        assert user is not None and user.role == role
    dispatcher = db.session.scalar(select(User).where(User.role == "dispatcher"))
    crew_member = db.session.scalar(select(User).where(User.role == "crew"))
    assert dispatcher.department_id == pothole.department_id
    assert crew_member.crew.name == "Pothole Crew 1"

    # demo requests went through intake: routed to a ward, with history, some closed
    assert count(ServiceRequest) == 40
    assert count(ServiceRequest, ServiceRequest.district_id.is_(None)) == 0
    assert count(RequestEvent, RequestEvent.kind == "created") == 40
    closed = count(ServiceRequest, ServiceRequest.status == "closed")
    assert 5 <= closed <= 35
    oldest = db.session.scalar(select(func.min(ServiceRequest.requested_at)))
    newest = db.session.scalar(select(func.max(ServiceRequest.requested_at)))
    assert (newest - oldest).days >= 50


def test_demo_load_gathers_the_planner_statistics(app, db_session):
    """The first pages after a load are planned on the loaded tables, not on empty ones."""
    load(app, "--builtin")
    codes = db.session.scalar(
        text(
            "SELECT concat(histogram_bounds::text, most_common_vals::text) FROM pg_stats "
            "WHERE tablename = 'service_types' AND attname = 'code'"
        )
    )
    assert codes is not None and "missed_trash_pickup" in codes


def test_builtin_wards_tile_without_overlap(app, db_session):
    load(app, "--builtin")
    overlap = db.session.scalar(
        text(
            "SELECT max(ST_Area(ST_Intersection(a.geom, b.geom))) FROM districts a "
            "JOIN districts b ON a.id < b.id"
        )
    )
    assert overlap == 0
    parts = db.session.scalar(text("SELECT ST_NumGeometries(ST_Union(geom)) FROM districts"))
    assert parts == 1


def test_second_load_changes_nothing_and_shows_no_passwords(app, db_session):
    first = load(app, "--builtin")
    before = (count(User), count(ServiceRequest), count(District))
    second = load(app, "--builtin")
    assert "already loaded" in second and "--reset" in second
    assert accounts(second) == {}
    for _, password in accounts(first).values():
        assert password not in second
    assert (count(User), count(ServiceRequest), count(District)) == before


def test_reset_deletes_everything_and_loads_again(app, db_session):
    first = accounts(load(app, "--builtin"))
    output = load(app, "--builtin", "--reset")
    second = accounts(output)

    assert "Deleted all city data" in output
    assert count(User) == len(ROLES)
    assert count(ServiceRequest) == 40
    assert count(District) == 6
    # identities restarted, so the city looks freshly made
    assert db.session.scalar(select(func.min(District.id))) == 1
    email, old_password = first["admin"]
    assert auth_service.authenticate(email, old_password) is None
    assert auth_service.authenticate(*second["admin"]) is not None


def test_data_option_must_point_at_the_data(app, db_session, tmp_path):
    result = app.test_cli_runner().invoke(args=["demo", "load", "--data", str(tmp_path)])
    assert result.exit_code == 2
    assert "boston_311_2011" in result.output
    assert count(District) == 0


# ---------------------------------------------------------------------------------------------
# Boston, from the city's own data


@pytest.fixture
def data_dir(app) -> Path:
    path = Path(app.root_path).parent.parent / "shared" / "data"
    if not boston.data_available(path):
        pytest.skip(f"Boston data not found in {path} (needs ../shared/data next to the repo)")
    return path


@pytest.mark.shared_data
def test_boston_catalogue_wards_and_history(app, db_session, data_dir):
    report = boston.load(data_dir, history=2000, recent=0)

    assert count(District, District.kind == "ward") == 22
    assert {c for (c,) in db.session.execute(select(District.code))} == {
        str(n) for n in range(1, 23)
    }
    depts = dict(
        db.session.execute(
            text(
                "SELECT st.code, d.code FROM service_types st "
                "JOIN departments d ON d.id = st.department_id"
            )
        ).all()
    )
    assert len(depts) == 141
    assert depts["pothole"] == "PWDx"
    assert depts["streetlight"] == "PWDx"
    assert depts["graffiti"] == "PROP"
    slas = dict(db.session.execute(select(ServiceType.code, ServiceType.sla_value)).all())
    # sidewalk repair really had a one-year target in 2011
    assert all(0 < hours <= 365 * 24 for hours in slas.values())
    assert 24 <= slas["pothole"] <= 7 * 24
    assert count(Crew) >= 3 and count(User) == len(ROLES)

    # history: about 2,000 rows asked for, one in 29 of the whole half-year, none dropped
    assert report.imported == len(range(0, 58251, 29))
    assert report.skipped == {"bad rows": 0, "batches not stored": 0}
    rows = {r["case_enquiry_id"]: r for r in boston.read_rows(data_dir)}
    stored = db.session.execute(
        text(
            "SELECT sr.external_id, d.code, sr.status, sr.closed_at IS NOT NULL, "
            "sr.location IS NULL FROM service_requests sr "
            "LEFT JOIN districts d ON d.id = sr.district_id WHERE sr.import_source = 'boston'"
        )
    ).all()
    assert len(stored) == report.imported
    # City Hall's placeholder point is kept as an unknown location, never as City Hall
    placeholder = {
        s
        for s, *_ in stored
        if rows[s]["latitude"] == "42.3594" and rows[s]["longitude"] == "-71.0587"
    }
    assert placeholder and all(unknown for s, _, _, _, unknown in stored if s in placeholder)
    assert report.unlocated >= len(placeholder)
    with_ward = [(boston.ward_number(rows[s]["ward"]), code) for s, code, *_ in stored if code]
    with_ward = [(csv_ward, ours) for csv_ward, ours in with_ward if csv_ward]
    agree = sum(1 for csv_ward, ours in with_ward if csv_ward == ours) / len(with_ward)
    assert agree >= 0.98, f"ward agreement {agree:.1%}"
    for source_id, _, status, has_closed, _ in stored:
        assert (status == "closed") == (rows[source_id]["case_status"] == "Closed") == has_closed
    assert count(RequestEvent, RequestEvent.kind == "closed") == sum(1 for p in stored if p[3])


@pytest.mark.shared_data
def test_boston_load_by_command_prints_accounts(app, db_session, data_dir):
    output = load(app, "--data", str(data_dir), "--history", "0")
    assert set(accounts(output)) == set(ROLES)
    assert count(ServiceRequest, ServiceRequest.import_source.is_not(None)) == 0
    assert count(District) == 22


def test_boston_ward_numbers():
    assert boston.ward_number("Ward 07") == boston.ward_number("7") == "7"
    assert boston.ward_number(" ") is None


def test_builtin_demo_ships_a_gazetteer_with_addresses_and_intersections(app, db_session):
    load(app, "--builtin")
    with app.test_client() as client:
        found = client.get("/api/v1/addresses", query_string={"q": "12 elm"}).get_json()
        assert found["results"][0]["label"] == "12 Elm Street"
        assert found["results"][0]["district"].startswith("Ward ")
        crossing = client.get("/api/v1/addresses", query_string={"q": "Main St & Broad St"})
        assert crossing.get_json()["results"][0]["label"] == "Broad Street & Main Street"


@pytest.mark.shared_data
def test_boston_gazetteer_comes_from_the_places_reported(app, db_session, data_dir):
    report = boston.load(data_dir, history=0, recent=0)
    assert report.places > 20000
    with app.test_client() as client:
        found = client.get("/api/v1/addresses", query_string={"q": "39 lorraine st"}).get_json()
        assert found["results"][0]["label"] == "39 Lorraine St, Roslindale"
        crossing = client.get(
            "/api/v1/addresses", query_string={"q": "groveland st and river st"}
        ).get_json()
        assert crossing["results"][0]["kind"] == "intersection"
