"""Hostile input gets a 4xx that says what is wrong, never a server error.

Numbers beyond PostgreSQL's integers, NUL bytes, nameless multipart parts, dates at the
ends of the calendar and Unicode digits, sent where the fuzzers found them.
"""

from __future__ import annotations

import pytest

from app import create_app
from app.extensions import db
from tests.conftest import TEST_DB_URL
from tests.helpers import bearer

HUGE = "9" * 25  # beyond int8
INT8_OVER = str(2**63)  # one past int8
INT4_OVER = str(2**31)  # one past int4


def _no_server_error(resp) -> None:
    assert resp.status_code < 500, resp.get_data(as_text=True)[:500]


@pytest.mark.parametrize("number", [HUGE, INT8_OVER, INT4_OVER])
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/requests/{n}",
        "/api/v1/requests/{n}/events",
        "/api/v1/requests/{n}/duplicates",
        "/api/v1/workorders/{n}",
        "/api/v1/crews/{n}/workorders",
        "/requests/{n}",
        "/photos/{n}/display.jpg",
        "/staff/requests/{n}",
        "/open311/v2/requests/{n}.json",
        "/open311/v2/requests.json?service_request_id={n}",
        "/api/v1/departments/PWD/queue?crew_id={n}",
        "/api/v1/departments/PWD/queue?page={n}",
        "/api/v1/requests?page={n}",
    ],
)
def test_huge_numbers_get_4xx(client, tokens, path, number) -> None:
    resp = client.get(path.format(n=number), headers=bearer(tokens["admin"]))
    _no_server_error(resp)
    # a filter or page beyond every row finds nothing; an id beyond bigint is no such thing
    expected = (200, 400, 422) if "?" in path else (400, 404)
    assert resp.status_code in expected


@pytest.mark.parametrize("number", [HUGE, INT8_OVER, INT4_OVER])
def test_huge_numbers_in_bodies_get_4xx(client, city, tokens, number) -> None:
    from tests.factories import submit

    sr = submit()
    resp = client.post(
        f"/api/v1/requests/{sr.id}/merge",
        data=f'{{"into": {number}, "note": "same"}}',
        content_type="application/json",
        headers=bearer(tokens["admin"]),
    )
    _no_server_error(resp)
    resp = client.post(
        "/api/v1/workorders",
        data=f'{{"crew_id": {number}, "request_ids": [{number}]}}',
        content_type="application/json",
        headers=bearer(tokens["admin"]),
    )
    _no_server_error(resp)


def test_nul_bytes_are_refused_with_400(client, city, tokens) -> None:
    body = {
        "service_code": "pothole",
        "description": "A hole\x00 in the road",
        "lat": 42.32,
        "long": -71.08,
    }
    resp = client.post("/api/v1/requests", json=body)
    assert resp.status_code == 400
    assert "NUL" in resp.get_json()["message"]
    resp = client.get("/api/v1/requests?q=a%00b", headers=bearer(tokens["admin"]))
    assert resp.status_code == 400
    resp = client.get("/open311/v2/requests.json?service_code=a%00b")
    assert resp.status_code == 400
    resp = client.post("/login", data={"email": "a\x00@city.test", "password": "x"})
    assert resp.status_code == 400
    resp = client.post("/", data={"service_code": "pothole", "description": "x\x00"})
    assert resp.status_code == 400


NAMELESS = (
    b"--b\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n"
    b'--b\r\nContent-Disposition: form-data; name="email"\r\n\r\nx@y.z\r\n--b--\r\n'
)


@pytest.mark.parametrize("path", ["/login", "/", "/api/v1/requests", "/open311/v2/requests.json"])
def test_a_multipart_part_without_a_name_gets_400(client, city, path) -> None:
    resp = client.post(path, data=NAMELESS, content_type="multipart/form-data; boundary=b")
    assert resp.status_code == 400, resp.get_data(as_text=True)[:300]


def test_a_nameless_part_does_not_break_the_csrf_check(app) -> None:
    csrf_app = create_app(
        "test", {"SQLALCHEMY_DATABASE_URI": TEST_DB_URL, "WTF_CSRF_ENABLED": True}
    )
    resp = csrf_app.test_client().post(
        "/login", data=NAMELESS, content_type="multipart/form-data; boundary=b"
    )
    with csrf_app.app_context():
        db.engine.dispose()
    csrf_app.extensions["rq"].redis.close()
    assert resp.status_code == 400
    assert "no name" in resp.get_data(as_text=True)


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_extreme_dates_get_400(client, tokens, moment) -> None:
    from urllib.parse import quote

    m = quote(moment)
    for url in (
        f"/api/v1/metrics/response-times?start={m}",
        f"/api/v1/metrics/response-times?end={m}",
        f"/open311/v2/requests.json?start_date={m}",
        f"/open311/v2/requests.json?end_date={m}",
        f"/open311/v2/requests.json?updated_after={m}",
        f"/open311/v2/servicerequestupdates.json?start_date={m}",
        f"/open311/v2/servicerequestupdates.json?end_date={m}",
    ):
        resp = client.get(url, headers=bearer(tokens["admin"]))
        assert resp.status_code in (400, 422), (url, resp.get_data(as_text=True)[:300])


@pytest.mark.parametrize("raw", ["²", "١٢", "1²", "𝟙𝟚"])
def test_unicode_digits_in_open311_ids(client, city, raw) -> None:
    for url in (
        f"/open311/v2/requests/{raw}.json",
        f"/open311/v2/requests.json?service_request_id={raw}",
        f"/open311/v2/tokens/{raw}.json",
    ):
        resp = client.get(url)
        _no_server_error(resp)


@pytest.mark.parametrize("path", ["/api/v1/services", "/api/v1/requests/1", "/login", "/healthz"])
def test_a_wrong_method_is_405_with_allow(client, path) -> None:
    resp = client.open(path, method="TRACE")
    assert resp.status_code == 405
    assert "GET" in resp.headers["Allow"]
