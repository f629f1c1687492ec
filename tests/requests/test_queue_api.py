"""GET /api/v1/departments/<code>/queue: filters, order, paging, and imported history left out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from app.extensions import db
from app.requests import service
from app.requests.importer import HistoricalRequest, import_requests
from app.requests.models import ServiceRequest
from app.workorders import service as workorders
from tests.factories import WARD_1_POINT, WARD_2_POINT, submit
from tests.helpers import bearer, sign_in

URL = "/api/v1/departments/PWD/queue"
# about 22 m north of WARD_1_POINT: within the default 50 m duplicate radius
NEAR_WARD_1 = (WARD_1_POINT[0] + 0.0002, WARD_1_POINT[1])


def queue(client, token, **params):
    resp = client.get(URL, headers=bearer(token), query_string=params)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp


def ids(resp) -> list[int]:
    return [item["id"] for item in resp.get_json()]


def due_in(sr: ServiceRequest, hours: float) -> ServiceRequest:
    sr.due_at = datetime.now(UTC) + timedelta(hours=hours)
    db.session.flush()
    return sr


def historical(n: int, *, channel: str, point=WARD_1_POINT, **kw) -> list[int]:
    """Store `n` open requests through the bulk importer; return their ids."""
    opened = datetime.now(UTC) - timedelta(days=400)
    rows = [
        HistoricalRequest(
            service_code=kw.get("service_code", "pothole"),
            description=f"Row {i}",
            lat=point[0],
            long=point[1],
            # pairs share a time, so the order must break ties to page right
            requested_at=opened + timedelta(hours=i // 2),
            channel=channel,
            # only "import" rows are history; the others stand for live requests
            import_source="history" if channel == "import" else None,
        )
        for i in range(n)
    ]
    return import_requests(rows).ids


# ---------------------------------------------------------------------------------------------
# filters


def test_status_filter_takes_one_or_more_open_statuses(client, city, tokens):
    new = submit()
    acked = submit()
    service.acknowledge(acked, actor_id=None)
    held = submit()
    service.acknowledge(held, actor_id=None)
    service.put_on_hold(held, actor_id=None, reason="weather", note="")
    db.session.commit()
    token = tokens["dispatcher"]

    assert ids(queue(client, token, status="new")) == [new.id]
    both = client.get(
        URL, headers=bearer(token), query_string=[("status", "new"), ("status", "on_hold")]
    )
    assert sorted(ids(both)) == sorted([new.id, held.id])
    assert sorted(ids(queue(client, token, status="acknowledged,on_hold"))) == sorted(
        [acked.id, held.id]
    )
    assert len(ids(queue(client, token))) == 3


def test_service_code_and_district_filters(client, city, tokens):
    hole_1 = submit("pothole", WARD_1_POINT)
    hole_2 = submit("pothole", WARD_2_POINT)
    light_1 = submit("streetlight", WARD_1_POINT)
    db.session.commit()
    token = tokens["dispatcher"]

    assert sorted(ids(queue(client, token, service_code="pothole"))) == [hole_1.id, hole_2.id]
    assert sorted(ids(queue(client, token, district="1"))) == sorted([hole_1.id, light_1.id])
    assert ids(queue(client, token, district="2", service_code="pothole")) == [hole_2.id]
    # a blank value, as an HTML form sends it, filters nothing
    assert len(ids(queue(client, token, district="", service_code=""))) == 3


def test_overdue_filter(client, city, tokens):
    late = due_in(submit(), -3)
    on_time = due_in(submit(), 20)
    db.session.commit()
    token = tokens["dispatcher"]
    assert ids(queue(client, token, overdue="true")) == [late.id]
    assert ids(queue(client, token, overdue="false")) == [on_time.id]


def test_crew_filter_is_the_crews_open_orders_and_what_routing_proposed_for_it(
    client, city, tokens
):
    dispatcher = city.users["dispatcher"]
    on_order = submit()
    workorders.create_work_order([on_order.id], city.crew_a.id, actor=dispatcher)
    proposed = submit()
    proposed.crew_id = city.crew_a.id
    on_other_crew = submit()
    workorders.create_work_order([on_other_crew.id], city.crew_b.id, actor=dispatcher)
    back_in_queue = submit()
    cancelled = workorders.create_work_order([back_in_queue.id], city.crew_a.id, actor=dispatcher)
    workorders.cancel(cancelled, actor=dispatcher, reason="Rain")
    db.session.commit()

    resp = queue(client, tokens["dispatcher"], crew_id=city.crew_a.id)
    assert sorted(ids(resp)) == sorted([on_order.id, proposed.id])
    by_id = {item["id"]: item for item in resp.get_json()}
    assert by_id[proposed.id]["proposed_crew"] == {"id": city.crew_a.id, "name": "Pothole crew A"}
    assert by_id[on_order.id]["proposed_crew"] is None
    assert ids(queue(client, tokens["dispatcher"], crew_id=city.crew_b.id)) == [on_other_crew.id]


def test_q_finds_words_numbers_and_reporters_as_the_staff_search(client, city, tokens):
    bakery = submit(description="Deep hole outside the bakery", address="3 Elm St")
    other = submit(description="Crack by the school", email="sam@example.org")
    submit("graffiti", description="Tag outside the bakery")  # another department
    db.session.commit()
    token = tokens["dispatcher"]
    assert ids(queue(client, token, q="bakery elm")) == [bakery.id]
    assert ids(queue(client, token, q=str(other.id))) == [other.id]
    assert ids(queue(client, token, q="SAM@example.org")) == [other.id]
    assert ids(queue(client, token, q="nothing like this")) == []


def test_sort_by_due_age_or_distance(client, city, tokens):
    now = datetime.now(UTC)
    far_old = submit(point=WARD_2_POINT, requested_at=now - timedelta(hours=30))
    near_new = submit(point=WARD_1_POINT, requested_at=now - timedelta(hours=1))
    middle = submit(point=(42.32, -71.05), requested_at=now - timedelta(hours=10))
    due_in(far_old, 50)
    due_in(near_new, 5)
    due_in(middle, -1)
    db.session.commit()
    token = tokens["dispatcher"]

    assert ids(queue(client, token)) == [middle.id, near_new.id, far_old.id]
    assert ids(queue(client, token, sort="due")) == [middle.id, near_new.id, far_old.id]
    assert ids(queue(client, token, sort="age")) == [far_old.id, middle.id, near_new.id]
    resp = queue(client, token, sort="distance", lat=WARD_1_POINT[0], long=WARD_1_POINT[1])
    assert ids(resp) == [near_new.id, middle.id, far_old.id]
    metres = [item["distance_m"] for item in resp.get_json()]
    # 0.03 and 0.06 degrees of longitude at latitude 42.32
    assert metres[0] == 0 and metres[1] == pytest.approx(2467, rel=0.01)
    assert metres[2] == pytest.approx(2 * metres[1], rel=0.01)
    # lat/long without the distance sort: still due order, with distances
    resp = queue(client, token, lat=WARD_2_POINT[0], long=WARD_2_POINT[1])
    assert ids(resp) == [middle.id, near_new.id, far_old.id]
    assert resp.get_json()[2]["distance_m"] == 0
    assert "distance_m" not in queue(client, token).get_json()[0]


def test_items_count_likely_duplicates(client, city, tokens):
    first = submit()
    second = submit(point=NEAR_WARD_1)
    alone = submit(point=WARD_2_POINT)
    db.session.commit()
    items = {i["id"]: i for i in queue(client, tokens["dispatcher"]).get_json()}
    assert items[first.id]["duplicates"] == items[second.id]["duplicates"] == 1
    assert items[alone.id]["duplicates"] == 0
    assert items[alone.id]["imported"] is False


# ---------------------------------------------------------------------------------------------
# paging and imported history


def test_paging_reaches_every_open_request_exactly_once(client, city, tokens):
    """Today's cap stopped at 500 rows: 520 requests over three pages of 200 all come back."""
    stored = historical(520, channel="phone")
    closed = submit()
    service.close(closed, reason="fixed", actor_id=None)
    db.session.commit()

    seen: list[int] = []
    page = 1
    while True:
        resp = queue(client, tokens["dispatcher"], page=page, page_size=200)
        pagination = json.loads(resp.headers["X-Pagination"])
        assert pagination["total"] == 520 and pagination["total_pages"] == 3
        seen += ids(resp)
        if "next_page" not in pagination:
            break
        page = pagination["next_page"]
    assert page == 3
    assert len(seen) == len(set(seen)) == 520
    assert set(seen) == set(stored)
    # the old facade name lists them all too, with no silent cap
    assert len(service.department_queue(city.public_works.id)) == 520


def test_default_page_is_50(client, city, tokens):
    historical(60, channel="web")
    db.session.commit()
    resp = queue(client, tokens["dispatcher"])
    assert len(resp.get_json()) == 50
    assert json.loads(resp.headers["X-Pagination"])["total"] == 60
    assert len(queue(client, tokens["dispatcher"], page=2).get_json()) == 10


def test_imported_history_is_left_out_unless_asked_for(client, city, tokens):
    today = submit()
    old = historical(3, channel="import")
    old_elsewhere = historical(2, channel="import", point=WARD_2_POINT)
    db.session.commit()
    token = tokens["dispatcher"]

    resp = queue(client, token)
    assert ids(resp) == [today.id]
    assert resp.headers["X-Hidden-Imported"] == "5"
    assert json.loads(resp.headers["X-Pagination"])["total"] == 1
    # the count follows the other filters
    assert queue(client, token, district="2").headers["X-Hidden-Imported"] == "2"

    resp = queue(client, token, include_imported="true")
    assert set(ids(resp)) == {today.id, *old, *old_elsewhere}
    assert resp.headers["X-Hidden-Imported"] == "0"
    assert json.loads(resp.headers["X-Pagination"])["total"] == 6
    assert {i["id"] for i in resp.get_json() if i["imported"]} == {*old, *old_elsewhere}


def test_a_long_queue_is_counted_so_far_and_every_page_is_still_reached(
    client, city, tokens, monkeypatch
):
    # a department's backlog of 200,000 open requests is not counted at every page
    monkeypatch.setattr("app.requests.queue.QUEUE_COUNT_CAP", 4)
    live = historical(60, channel="phone")
    historical(6, channel="import")
    db.session.commit()
    token = tokens["dispatcher"]

    # counted to one past the page (the cap is smaller): enough to know there is more
    resp = queue(client, token, page_size=20)
    pagination = json.loads(resp.headers["X-Pagination"])
    assert pagination["total"] == 21 and pagination["total_is_lower_bound"] is True
    assert pagination["next_page"] == 2
    assert resp.headers["X-Hidden-Imported"] == "4"  # counted as far as the cap, too
    seen, page = ids(resp), 2
    while True:
        resp = queue(client, token, page=page, page_size=20)
        pagination = json.loads(resp.headers["X-Pagination"])
        seen += ids(resp)
        if "next_page" not in pagination:
            break
        page = pagination["next_page"]
    assert sorted(seen) == sorted(live)
    # the last page counts to the end: the total is exact once it is within reach
    assert pagination["total"] == 60 and "total_is_lower_bound" not in pagination

    # and the dispatcher's page says so
    sign_in(client, city.users["dispatcher"])
    html = client.get("/dispatch?page_size=50").get_data(as_text=True)
    assert "Open requests (more than 51)" in html
    assert "Page 1 of at least 2" in html
    assert "More than 4 open historical requests hidden" in html


# ---------------------------------------------------------------------------------------------
# who, and bad input


def test_another_departments_dispatcher_is_refused_whatever_the_filters(client, city, tokens):
    submit()
    db.session.commit()
    resp = client.get(
        URL, headers=bearer(tokens["parks_dispatcher"]), query_string={"overdue": "true"}
    )
    assert resp.status_code == 403
    assert "another department" in resp.get_json()["message"]
    assert client.get(URL, query_string={"status": "bogus"}).status_code == 401


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"status": "closed"}, "status must be among the open ones: new, acknowledged"),
        ({"status": "new,bogus"}, "status must be among the open ones"),
        ({"sort": "priority"}, "sort must be one of due, age, distance"),
        ({"sort": "distance"}, "sort=distance needs lat and long"),
        ({"sort": "distance", "lat": "42.3"}, "lat and long go together"),
        ({"lat": "100", "long": "-71"}, "lat must be a number from -90 to 90"),
        ({"lat": "north", "long": "-71"}, "lat must be a number from -90 to 90"),
        ({"overdue": "maybe"}, "overdue must be true or false"),
        ({"include_imported": "perhaps"}, "include_imported must be true or false"),
        ({"crew_id": "abc"}, "crew_id must be a crew's number"),
        ({"service_code": "volcano"}, "service_code 'volcano' is not a service type of Public"),
        ({"district": "9"}, "district '9' is not a ward code: use one of 1, 2"),
        ({"page_size": "500"}, "page_size"),
        ({"page": "0"}, "page"),
    ],
)
def test_bad_filters_are_422_naming_the_parameter(client, city, tokens, params, words):
    resp = client.get(URL, headers=bearer(tokens["dispatcher"]), query_string=params)
    assert resp.status_code == 422, resp.get_data(as_text=True)
    assert words in resp.get_json()["message"]


def test_a_crew_of_another_department_is_422_naming_the_crews_allowed(client, city, tokens):
    resp = client.get(
        URL, headers=bearer(tokens["dispatcher"]), query_string={"crew_id": city.parks_crew.id}
    )
    assert resp.status_code == 422
    message = resp.get_json()["message"]
    assert f"crew_id {city.parks_crew.id} is not a crew of Public Works" in message
    assert f"{city.crew_a.id} (Pothole crew A)" in message
    assert resp.get_json()["errors"] == {"crew_id": [message]}


def test_openapi_documents_the_queue_parameters_and_headers(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    get = spec["paths"]["/api/v1/departments/{code}/queue"]["get"]
    names = {p["name"] for p in get["parameters"]}
    assert {
        "status",
        "service_code",
        "district",
        "overdue",
        "crew_id",
        "q",
        "sort",
        "lat",
        "long",
        "include_imported",
        "page",
        "page_size",
    } <= names
    headers = get["responses"]["200"]["headers"]
    assert {"X-Pagination", "X-Hidden-Imported"} <= set(headers)


def test_a_page_reads_no_ward_outline_and_no_department_per_request(client, city, tokens):
    submit()
    submit(point=WARD_2_POINT)
    db.session.commit()
    seen: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        seen.append(" ".join(statement.split()))

    engine = db.session.get_bind().engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert len(ids(queue(client, tokens["dispatcher"]))) == 2
    finally:
        event.remove(engine, "before_cursor_execute", record)
    (page,) = [s for s in seen if s.startswith("SELECT service_requests.id,")]
    # a ward's outline is kilobytes, and each request joined its department twice
    assert "districts" in page and "geom" not in page
    assert "departments" not in page
    # the department the URL names, read once, serves every request on the page
    assert sum("FROM departments" in s for s in seen) == 1
