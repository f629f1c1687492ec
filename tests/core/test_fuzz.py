"""Property-based: whatever odd parameters or bodies a client sends, the answer is never a 500.

Hypothesis mixes the values the fuzzers found troublesome (huge numbers, NUL bytes, control
characters, Unicode digits, dates at the ends of the calendar) with arbitrary text.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import submit
from tests.helpers import bearer

ODD = st.sampled_from(
    [
        "",
        "0",
        "-1",
        str(2**31),
        str(2**63),
        "9" * 40,
        "1e309",
        "NaN",
        "a\x00b",
        "\r\n",
        "\x07\x1b",
        "²",
        "١٢٣",
        "𝟙",
        "0001-01-01T00:00:00+05:00",
        "9999-12-31T23:59:59-05:00",
        "2026-02-30T00:00:00Z",
        "true",
        "[]",
        "{}",
    ]
)
VALUES = st.one_of(ODD, st.text(max_size=30))
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _ok(resp: Any) -> None:
    assert resp.status_code < 500, resp.get_data(as_text=True)[:500]


OPEN311_PARAMS = [
    "service_request_id",
    "service_code",
    "status",
    "start_date",
    "end_date",
    "updated_after",
    "updated_before",
    "page",
    "page_size",
    "lat",
    "long",
    "radius",
    "jurisdiction_id",
    "extensions",
]


@FUZZ
@given(params=st.dictionaries(st.sampled_from(OPEN311_PARAMS), VALUES, max_size=5))
def test_open311_requests_with_odd_parameters(client, city, params) -> None:
    _ok(client.get("/open311/v2/requests.json", query_string=params))


@FUZZ
@given(
    raw=VALUES,
    fmt=st.sampled_from(["json", "xml"]),
    params=st.dictionaries(st.sampled_from(["start_date", "end_date", "page"]), VALUES),
)
def test_open311_ids_tokens_and_updates(client, city, raw, fmt, params) -> None:
    part = quote(raw, safe="")
    _ok(client.get(f"/open311/v2/requests/{part}.{fmt}"))
    _ok(client.get(f"/open311/v2/tokens/{part}.{fmt}"))
    _ok(client.get(f"/open311/v2/servicerequestupdates.{fmt}", query_string=params))


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(["q", "status", "page", "page_size", "department", "crew_id", "sort"]),
        VALUES,
        max_size=4,
    ),
    metrics=st.dictionaries(st.sampled_from(["start", "end", "group_by"]), VALUES, max_size=3),
)
def test_staff_api_reads_with_odd_parameters(client, tokens, params, metrics) -> None:
    auth = bearer(tokens["admin"])
    _ok(client.get("/api/v1/requests", query_string=params, headers=auth))
    _ok(client.get("/api/v1/departments/PWD/queue", query_string=params, headers=auth))
    _ok(client.get("/api/v1/metrics/response-times", query_string=metrics, headers=auth))


JSON_VALUES = st.one_of(
    VALUES,
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
)


@FUZZ
@given(
    body=st.fixed_dictionaries(
        {},
        optional={
            k: JSON_VALUES
            for k in ("service_code", "description", "lat", "long", "email", "attributes")
        },
    ),
    action=st.sampled_from(["close", "reopen", "notes", "hold", "merge", "transfer"]),
)
def test_json_bodies_with_odd_values(client, city, tokens, body, action) -> None:
    _ok(client.post("/api/v1/requests", json=body))
    sr = submit()
    staff_body = {"reason": body.get("service_code"), "note": body.get("description")}
    staff_body |= {"into": body.get("lat"), "service_code": body.get("email")}
    url = f"/api/v1/requests/{sr.id}/{action}"
    _ok(client.post(url, json=staff_body, headers=bearer(tokens["admin"])))
