"""The dispatcher page: its filters, paging, map data, and assigning many requests at once."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.requests import service as requests_service
from app.requests.importer import HistoricalRequest, import_requests
from app.workorders.models import WorkOrder
from tests.factories import WARD_1_POINT, WARD_2_POINT
from tests.helpers import sign_in
from tests.workorders.helpers import event_kinds, fresh, make_overdue, submit

NEAR_WARD_1 = (WARD_1_POINT[0] + 0.0002, WARD_1_POINT[1])


def rows(page: str) -> list[str]:
    """Return the queue table's rows, in order."""
    body = page.split('<table class="queue-table">', 1)[1].split("</table>", 1)[0]
    return body.split("<tr>")[2:]


def row_ids(page: str) -> list[int]:
    return [int(m) for r in rows(page) for m in re.findall(r'data-id="(\d+)"', r)]


def work_orders() -> list[WorkOrder]:
    return list(db.session.scalars(select(WorkOrder).order_by(WorkOrder.id)))


def imported(n: int) -> list[int]:
    opened = datetime.now(UTC) - timedelta(days=500)
    return import_requests(
        [
            HistoricalRequest(
                service_code="pothole",
                description=f"Old row {i}",
                lat=WARD_1_POINT[0],
                long=WARD_1_POINT[1],
                requested_at=opened,
            )
            for i in range(n)
        ]
    ).ids


# ---------------------------------------------------------------------------------------------
# filters, paging, map


def test_filters_narrow_the_list_and_the_form_keeps_them(client, city):
    late_light = submit("streetlight", WARD_2_POINT, address="9 Dark Rd")
    make_overdue(late_light)
    submit("streetlight", WARD_2_POINT, address="4 Lit Ln")
    submit("pothole", WARD_2_POINT, address="1 Hole Way")
    sign_in(client, city.users["dispatcher"])

    resp = client.get("/dispatch?service_code=streetlight&district=2&overdue=true&status=new")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert row_ids(page) == [late_light.id]
    assert "4 Lit Ln" not in page and "1 Hole Way" not in page
    assert "Open requests (1)" in page
    assert '<option value="streetlight" selected>' in page
    assert '<option value="2" selected>' in page
    assert '<option value="true" selected>Overdue only</option>' in page
    assert re.search(r'name="status" value="new" checked', page)
    # the assign form posts back to the same filtered view
    assert re.search(r'<form method="post" action="/dispatch/workorders\?[^"]*overdue=true', page)

    # the status filter is in use, so its folded part of the form shows
    assert '<details class="more-filters" open>' in page

    everything = client.get("/dispatch?page_size=50&lat=&sort=due").get_data(as_text=True)
    assert len(row_ids(everything)) == 3
    assert '<details class="more-filters">' in everything


def test_sort_by_age_and_by_distance_from_a_point(client, city):
    now = datetime.now(UTC)
    old_far = submit(point=WARD_2_POINT, requested_at=now - timedelta(days=2))
    new_near = submit(point=WARD_1_POINT, requested_at=now - timedelta(hours=1))
    sign_in(client, city.users["dispatcher"])
    assert row_ids(client.get("/dispatch?sort=age").get_data(as_text=True)) == [
        old_far.id,
        new_near.id,
    ]
    page = client.get(
        f"/dispatch?sort=distance&lat={WARD_1_POINT[0]}&long={WARD_1_POINT[1]}"
    ).get_data(as_text=True)
    assert row_ids(page) == [new_near.id, old_far.id]
    assert "Nearest first." in page and "0 m away" in page


def test_a_bad_filter_is_422_with_the_message_beside_the_form(client, city):
    submit(address="1 Late Ln")
    sign_in(client, city.users["dispatcher"])
    resp = client.get("/dispatch?sort=distance&q=elm")
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert 'id="filters-error"' in page and "sort=distance needs lat and long" in page
    assert 'value="elm"' in page  # what was typed stays
    resp = client.get("/dispatch?district=77")
    assert resp.status_code == 422
    assert "district &#39;77&#39; is not a ward code: use one of 1, 2." in resp.get_data(
        as_text=True
    )


def test_pages_link_to_each_other_with_the_filters(client, city):
    for i in range(55):
        submit(address=f"{i} Long St")
    sign_in(client, city.users["dispatcher"])
    first = client.get("/dispatch?q=Long").get_data(as_text=True)
    assert len(rows(first)) == 50
    assert "Page 1 of 2" in first and "1–50 of 55" in first
    (next_url,) = re.findall(r'href="([^"]*)">Next page', first)
    assert "q=Long" in next_url and "page=2" in next_url
    second = client.get(next_url.replace("&amp;", "&")).get_data(as_text=True)
    assert len(rows(second)) == 5
    assert not set(row_ids(first)) & set(row_ids(second))
    bigger = client.get("/dispatch?page_size=100").get_data(as_text=True)
    assert len(rows(bigger)) == 55


def test_imported_history_is_hidden_with_a_link_to_show_it(client, city):
    today = submit()
    old = imported(3)
    sign_in(client, city.users["dispatcher"])
    page = client.get("/dispatch").get_data(as_text=True)
    assert row_ids(page) == [today.id]
    assert "3 open historical requests hidden" in page
    (show,) = re.findall(r'href="([^"]*)">show them', page)
    shown = client.get(show.replace("&amp;", "&")).get_data(as_text=True)
    assert set(row_ids(shown)) == {today.id, *old}
    assert "historical requests hidden" not in shown
    assert shown.count('<span class="badge">Imported</span>') == 3


def test_rows_carry_map_data_and_a_duplicates_badge_linking_to_the_staff_page(client, app, city):
    first = submit(address="12 Main St")
    twin = submit(point=NEAR_WARD_1, address="14 Main St")
    make_overdue(twin)
    alone = submit(point=WARD_2_POINT, address="2 East St")
    sign_in(client, city.users["dispatcher"])
    page = client.get("/dispatch").get_data(as_text=True)

    (twin_row,) = [r for r in rows(page) if "14 Main St" in r]
    assert f'data-lat="{NEAR_WARD_1[0]:.6f}" data-long="{NEAR_WARD_1[1]:.6f}"' in twin_row
    assert 'data-overdue="true"' in twin_row
    assert f'<a class="badge dupes" href="/staff/requests/{twin.id}">1 possible duplicate</a>' in (
        twin_row
    )
    (first_row,) = [r for r in rows(page) if "12 Main St" in r]
    assert 'data-overdue="false"' in first_row and "1 possible duplicate" in first_row
    (alone_row,) = [r for r in rows(page) if "2 East St" in r]
    assert "possible duplicate" not in alone_row
    assert f'data-url="/staff/requests/{alone.id}"' in alone_row
    # the map: vendored Leaflet, the cluster plugin, the page's script; tiles from the setting
    for path in (
        "vendor/leaflet/leaflet.js",
        "vendor/leaflet.markercluster/leaflet.markercluster.js",
        "vendor/leaflet.markercluster/MarkerCluster.css",
        "js/queue.js",
    ):
        assert f"/static/{path}" in page
        static = client.get(f"/static/{path}")
        assert static.status_code == 200
        static.close()
    assert f'data-tile-url="{app.config["MAP_TILE_URL"]}"' in page
    assert not re.search(r"<script>(?!</script>)|<script(?![^>]*src=)[^>]*>", page)
    assert first.id in row_ids(page)


# ---------------------------------------------------------------------------------------------
# assigning many at once


def test_one_work_order_for_all_the_ticked_requests(client, city):
    first, second, left = submit(), submit(), submit()
    sign_in(client, city.users["dispatcher"])
    planned = date.today() + timedelta(days=2)
    resp = client.post(
        "/dispatch/workorders?overdue=false",
        data={
            "department": "PWD",
            "request_id": [str(first.id), str(second.id)],
            "crew_id": str(city.crew_b.id),
            "mode": "one",
            "priority": "high",
            "scheduled_for": planned.isoformat(),
        },
    )
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/dispatch?overdue=false&department=PWD"
    (wo,) = work_orders()
    assert sorted(sr.id for sr in wo.requests) == [first.id, second.id]
    assert (wo.crew_id, wo.priority, wo.scheduled_for) == (city.crew_b.id, "high", planned)
    assert fresh(left).status == "new"
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert f"Work order #{wo.id} sent to Pothole crew B with 2 requests." in page


def test_one_work_order_each(client, city):
    first, second, third = submit(), submit(), submit()
    sign_in(client, city.users["dispatcher"])
    resp = client.post(
        "/dispatch/workorders",
        data={
            "department": "PWD",
            "request_id": [str(third.id), str(first.id), str(second.id)],
            "crew_id": str(city.crew_a.id),
            "mode": "each",
            "priority": "urgent",
            "instructions": "Cones in the van",
        },
    )
    assert resp.status_code == 303
    orders = work_orders()
    assert [[sr.id for sr in wo.requests] for wo in orders] == [[first.id], [second.id], [third.id]]
    assert {(wo.crew_id, wo.priority, wo.instructions, wo.scheduled_for) for wo in orders} == {
        (city.crew_a.id, "urgent", "Cones in the van", None)
    }
    assert all(fresh(sr).status == "assigned" for sr in (first, second, third))
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    numbers = ", ".join(f"#{wo.id}" for wo in orders)
    assert f"3 work orders ({numbers}) sent to Pothole crew A, one per request." in page


def test_a_request_closed_meanwhile_fails_the_whole_bulk_assign(client, city):
    first, closed_meanwhile, third = submit(), submit(), submit()
    sign_in(client, city.users["dispatcher"])
    page = client.get("/dispatch").get_data(as_text=True)
    assert f'name="request_id" value="{closed_meanwhile.id}"' in page
    # another dispatcher closes it between the page load and the submit
    requests_service.close(
        fresh(closed_meanwhile),
        reason="no_action_needed",
        actor_id=city.users["manager"].id,
        note="The utility fixed it.",
    )
    db.session.commit()

    for mode in ("each", "one"):
        resp = client.post(
            "/dispatch/workorders",
            data={
                "department": "PWD",
                "request_id": [str(first.id), str(closed_meanwhile.id), str(third.id)],
                "crew_id": str(city.crew_a.id),
                "mode": mode,
            },
        )
        assert resp.status_code == 409
        page = resp.get_data(as_text=True)
        expected = f"Nothing was assigned. Request {closed_meanwhile.id} is already closed."
        assert expected in page, mode
        # the other ticks stay, so the dispatcher can untick the closed one and resend
        assert re.search(rf'value="{first.id}"[^>]*checked', page)
        assert work_orders() == []
        assert fresh(first).status == fresh(third).status == "new"
        assert "assigned" not in event_kinds(first) + event_kinds(third)


def test_assign_input_errors_store_nothing(client, city):
    sr = submit()
    db.session.commit()  # the view's rollback must not take the request with it
    sign_in(client, city.users["dispatcher"])
    base = {"department": "PWD", "request_id": [str(sr.id)], "crew_id": str(city.crew_a.id)}
    cases = [
        ({"scheduled_for": "next tuesday"}, "scheduled_for", "is not a date"),
        ({"priority": "asap"}, "priority", "Unknown priority &#39;asap&#39;"),
        ({"mode": "some"}, "mode", "one work order for all, or one each"),
    ]
    for extra, field, words in cases:
        resp = client.post("/dispatch/workorders", data=base | extra)
        assert resp.status_code == 400, field
        assert words in resp.get_data(as_text=True)
        assert work_orders() == []
        assert fresh(sr).status == "new"


def test_the_assign_form_offers_both_modes_priorities_and_a_date(client, city):
    submit()
    sign_in(client, city.users["dispatcher"])
    page = client.get("/dispatch").get_data(as_text=True)
    assert re.search(r'name="mode" value="one"\s+checked', page)
    assert 'name="mode" value="each"' in page
    assert re.findall(r'<option value="(\w+)"[^>]*>\1</option>', page.split('id="priority"')[1])[
        :4
    ] == ["low", "normal", "high", "urgent"]
    assert 'type="date" id="scheduled_for" name="scheduled_for"' in page


def test_a_queue_of_only_history_says_so_rather_than_all_closed(client, city):
    imported(2)
    sign_in(client, city.users["dispatcher"])
    page = client.get("/dispatch").get_data(as_text=True)
    assert "2 open historical requests hidden" in page
    assert "the only open requests of Public Works are historical ones" in page
    assert "every request of Public Works is closed" not in page
