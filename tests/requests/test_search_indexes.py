"""Staff search has the indexes it needs at city scale, and still finds the right requests."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.extensions import db
from tests.factories import submit
from tests.helpers import bearer

SEARCH_INDEXES = {
    "ix_service_requests_phone_key": "btree",
    "ix_service_requests_email_lower": "btree",
    "ix_service_requests_description_trgm": "gin",
    "ix_service_requests_address_trgm": "gin",
}


def index_definitions() -> dict[str, str]:
    rows = db.session.execute(
        text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'service_requests'")
    )
    return {name: definition for name, definition in rows}


def ids(client, token: str, q: str) -> list[int]:
    resp = client.get("/api/v1/requests", query_string={"q": q}, headers=bearer(token))
    assert resp.status_code == 200, resp.get_json()
    return [item["id"] for item in resp.get_json()]


def test_the_search_indexes_exist(db_session):
    found = index_definitions()
    for name, method in SEARCH_INDEXES.items():
        assert name in found, f"{name} is missing"
        assert f"USING {method} " in found[name]
    assert "gin_trgm_ops" in found["ix_service_requests_description_trgm"]
    assert "lower((reporter_email)::text)" in found["ix_service_requests_email_lower"]


@pytest.mark.parametrize(
    "typed, found",
    [
        ("617 555 0199", ["boston"]),
        ("+1 (508) 555-0199", ["worcester"]),
        ("555-0199", ["worcester", "boston"]),  # 7 digits: every number ending with them
        ("55-0199", []),  # 6 digits is not a phone search, and no request has that number
    ],
)
def test_phone_search_tells_apart_numbers_that_share_their_last_digits(
    client, city, tokens, typed, found
):
    made = {
        "boston": submit(phone="(617) 555-0199"),
        "worcester": submit(phone="508.555.0199"),
        "other": submit(phone="(617) 555-0198"),
    }
    expected = [made[name].id for name in found]
    assert ids(client, tokens["agent"], typed) == sorted(expected, reverse=True)


def test_words_match_in_either_column_and_all_must_match(client, city, tokens):
    both = submit(description="Broken swing in the playground", address="40 Tremont St")
    submit(description="Swing set needs paint", address="12 Elm St")
    submit(description="Tremont crossing light is out", address="7 Oak St")
    assert ids(client, tokens["agent"], "swing TREMONT") == [both.id]
    # a word never spans the description and the address
    assert ids(client, tokens["agent"], "playground40") == []
    assert ids(client, tokens["agent"], "swing_") == []  # _ is a character, not a wildcard


def test_email_search_uses_the_whole_address_whatever_its_case(client, city, tokens):
    hers = submit(email="Ana.Lima@Example.org")
    submit(email="ana.lima@example.org.uk")
    assert ids(client, tokens["agent"], "ANA.LIMA@EXAMPLE.ORG") == [hers.id]
