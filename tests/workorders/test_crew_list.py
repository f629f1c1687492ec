"""A crew's list of open orders: nearest first by KNN with metres on the ground, or by priority."""

from __future__ import annotations

import math
from datetime import date, timedelta

import pytest
from sqlalchemy import event, text

from app.extensions import db
from app.workorders import service
from tests.helpers import bearer, sign_in
from tests.workorders.helpers import dispatch_api, submit

#: where the crew stands, west of the three jobs below
CREW_AT = (42.32, -71.09)
#: 0.010° east (~823 m), 0.0085° north (~945 m), 0.015° south (~1668 m): in degrees the
#: north one is nearer than the east one; on the ground it is not
EAST, NORTH, SOUTH = (42.32, -71.08), (42.3285, -71.09), (42.305, -71.09)


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance on the mean Earth sphere."""
    (lat1, lon1), (lat2, lon2) = (map(math.radians, p) for p in (a, b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def order_at(client, tokens, city, point, crew=None, **extra) -> int:
    sr = submit(point=point, address=f"{point}")
    resp = dispatch_api(client, tokens["dispatcher"], [sr.id], (crew or city.crew_a).id, **extra)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def crew_list(client, token, crew_id, query=""):
    return client.get(f"/api/v1/crews/{crew_id}/workorders{query}", headers=bearer(token))


@pytest.fixture
def three_jobs(client, city, tokens) -> dict[str, int]:
    jobs = {name: order_at(client, tokens, city, p) for name, p in
            [("south", SOUTH), ("north", NORTH), ("east", EAST)]}  # fmt: skip
    order_at(client, tokens, city, (42.3201, -71.0901), crew=city.crew_b)  # another crew's
    done = order_at(client, tokens, city, CREW_AT)
    city.pothole.completion_photo_required = False
    service.complete(service.get_work_order(done), actor=city.users["crew"])
    db.session.commit()
    return jobs


def test_nearest_first_with_the_distance_on_the_ground(client, city, tokens, three_jobs):
    lat, long = CREW_AT
    resp = crew_list(client, tokens["crew"], city.crew_a.id, f"?lat={lat}&long={long}")
    assert resp.status_code == 200, resp.get_json()
    items = resp.get_json()
    assert [i["id"] for i in items] == [three_jobs[n] for n in ("east", "north", "south")]
    for item, point in zip(items, (EAST, NORTH, SOUTH), strict=True):
        # PostGIS measures on the spheroid; the sphere is within half a percent of it
        assert item["distance_m"] == pytest.approx(metres(CREW_AT, point), rel=0.005)
        assert item["status"] == "assigned" and item["crew"]["id"] == city.crew_a.id
    assert 800 < items[0]["distance_m"] < 850


def test_the_knn_order_can_use_the_location_index(client, city, tokens, three_jobs):
    statements: list[tuple[str, dict]] = []
    connection = db.session.connection()

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "<->" in statement:
            statements.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", capture)
    try:
        service.crew_open_orders(city.crew_a.id, near=CREW_AT)
    finally:
        event.remove(connection, "before_cursor_execute", capture)
    (statement, parameters) = statements[0]
    # with so few rows the planner would rather sort; forbid that to see the index can serve
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    db.session.execute(text("SET LOCAL enable_sort = off"))
    plan = "\n".join(
        row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
    )
    assert "idx_work_orders_location" in plan, plan
    assert "Order By: (location <-> " in plan


def test_without_a_position_by_priority_then_planned_day_then_age(client, city, tokens):
    today = date(2026, 12, 1)
    make = {
        "low_oldest": {"priority": "low"},
        "normal_later": {"scheduled_for": (today + timedelta(days=3)).isoformat()},
        "normal_unplanned_old": {},
        "normal_unplanned_new": {},
        "high_tomorrow": {"priority": "high", "scheduled_for": (today + timedelta(1)).isoformat()},
        "high_today": {"priority": "high", "scheduled_for": today.isoformat()},
        "urgent": {"priority": "urgent"},
    }
    ids = {name: order_at(client, tokens, city, EAST, **extra) for name, extra in make.items()}
    db.session.execute(
        text("UPDATE work_orders SET created_at = created_at - interval '2 days' WHERE id = :id"),
        {"id": ids["normal_unplanned_old"]},
    )
    db.session.commit()
    expected = [
        "urgent",
        "high_today",
        "high_tomorrow",
        "normal_later",
        "normal_unplanned_old",
        "normal_unplanned_new",
        "low_oldest",
    ]
    resp = crew_list(client, tokens["crew"], city.crew_a.id)
    assert [i["id"] for i in resp.get_json()] == [ids[name] for name in expected]
    assert {i["distance_m"] for i in resp.get_json()} == {None}


def test_who_may_read_a_crews_list(client, city, tokens, three_jobs):
    crew_a = city.crew_a.id
    assert crew_list(client, tokens["crew"], crew_a).status_code == 200
    for role in ("dispatcher", "manager", "admin"):
        assert crew_list(client, tokens[role], crew_a).status_code == 200, role
    other_crew = crew_list(client, tokens["crew_b"], crew_a)
    assert other_crew.status_code == 403
    assert "own crew" in other_crew.get_json()["message"]
    other_department = crew_list(client, tokens["parks_dispatcher"], crew_a)
    assert other_department.status_code == 403
    assert "own department" in other_department.get_json()["message"]
    assert crew_list(client, tokens["agent"], crew_a).status_code == 403
    assert crew_list(client, tokens["crew"], 987654).status_code == 404
    assert client.get(f"/api/v1/crews/{crew_a}/workorders").status_code == 401


@pytest.mark.parametrize("query", ["?lat=42.3", "?long=-71", "?lat=91&long=0", "?lat=x&long=1"])
def test_a_half_or_bad_position_is_refused(client, city, tokens, query):
    resp = crew_list(client, tokens["crew"], city.crew_a.id, query)
    assert resp.status_code == 422
    assert "query" in resp.get_json()["errors"]


def test_the_phone_page_sorts_from_the_given_position_and_keeps_it(
    client, city, tokens, three_jobs
):
    sign_in(client, city.users["crew"])
    page = client.get("/crew").get_data(as_text=True)
    assert 'data-sorted="default"' in page
    assert page.index(f"Work order #{three_jobs['south']}") < page.index(
        f"Work order #{three_jobs['east']}"
    )
    assert "away</strong>" not in page
    assert 'src="/static/js/crew.js"' in page

    lat, long = CREW_AT
    page = client.get(f"/crew?lat={lat}&long={long}").get_data(as_text=True)
    assert 'data-sorted="near"' in page
    positions = [page.index(f"Work order #{three_jobs[n]}") for n in ("east", "north", "south")]
    assert positions == sorted(positions)
    assert '<strong class="distance">820 m away</strong>' in page
    assert '<strong class="distance">1.7 km away</strong>' in page
    # the forms lead back to the list sorted from the same place
    east = three_jobs["east"]
    assert f'action="/crew/workorders/{east}/start?lat=42.320000&amp;long=-71.090000"' in page
    resp = client.post(f"/crew/workorders/{east}/start?lat=42.320000&long=-71.090000")
    assert resp.headers["Location"].endswith("/crew?lat=42.32&long=-71.09")
