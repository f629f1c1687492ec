"""Address search: typed addresses and intersections found despite prefixes and typos."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.geo import gazetteer
from app.geo.gazetteer import Crossing, Located

# inside the test city's Ward 1 (box -71.10..-71.05, 42.30..42.35) and Ward 2
ELM = [
    Located("A-12", "12 Elm Street", 42.3201, -71.0801),
    Located("A-14", "14 Elm Street", 42.3203, -71.0801),
    Located("A-120", "120 Elm Street", 42.3230, -71.0801),
    Located("A-7", "7 Main Street", 42.3150, -71.0300),
    Located("A-9", "9 Elmwood Road", 42.3100, -71.0700),
]
CROSSINGS = [
    Crossing("Main Street", "Broad Street", 42.3160, -71.0310),
    Crossing("Elm Street", "Broad Street", 42.3170, -71.0800),
]


@pytest.fixture
def gazetteer_city(city):
    gazetteer.load_addresses(ELM)
    gazetteer.load_intersections(CROSSINGS)
    db.session.flush()
    return city


def labels(resp) -> list[str]:
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return [r["label"] for r in resp.get_json()["results"]]


def test_a_prefix_finds_the_address_with_its_point_and_ward(client, gazetteer_city):
    resp = client.get("/api/v1/addresses", query_string={"q": "12 elm"})
    assert labels(resp)[0] == "12 Elm Street"
    first = resp.get_json()["results"][0]
    assert (first["lat"], first["long"]) == (42.3201, -71.0801)
    assert first["district"] == "Ward 1"
    assert first["kind"] == "address" and first["address_id"] == "A-12"
    # "120 Elm Street" also starts with "12 elm"; the shorter, exact one comes first
    assert "120 Elm Street" in labels(resp)


@pytest.mark.parametrize("typed", ["elm stret", "Elm St", "ELM  street", "12 elm strete"])
def test_typos_and_abbreviations_still_find_the_street(client, gazetteer_city, typed):
    assert "12 Elm Street" in labels(client.get("/api/v1/addresses", query_string={"q": typed}))


@pytest.mark.parametrize(
    "typed", ["Main St & Broad St", "main st and broad st", "broad & main", "Main Stret at Broad"]
)
def test_two_streets_find_their_intersection(client, gazetteer_city, typed):
    resp = client.get("/api/v1/addresses", query_string={"q": typed})
    found = resp.get_json()["results"]
    assert labels(resp)[0] == "Broad Street & Main Street"
    assert found[0]["kind"] == "intersection"
    assert (found[0]["lat"], found[0]["long"]) == (42.316, -71.031)
    assert found[0]["district"] == "Ward 2"


def test_nothing_matching_and_too_short_find_nothing(client, gazetteer_city):
    assert labels(client.get("/api/v1/addresses", query_string={"q": "zzyzx boulevard"})) == []
    assert labels(client.get("/api/v1/addresses", query_string={"q": "el"})) == []


def test_results_are_limited_and_q_is_required(client, gazetteer_city):
    resp = client.get("/api/v1/addresses", query_string={"q": "elm", "limit": 2})
    assert len(labels(resp)) == 2
    missing = client.get("/api/v1/addresses")
    assert missing.status_code == 422
    assert "q is required" in missing.get_json()["message"]
    too_many = client.get("/api/v1/addresses", query_string={"q": "elm", "limit": 500})
    assert too_many.status_code == 422


def test_the_search_uses_the_trigram_index(client, gazetteer_city):
    # enough addresses for the planner to weigh an index (Boston has some 100,000)
    db.session.execute(
        db.text(
            "INSERT INTO addresses (address_id, address, normalized, geom) "
            "SELECT 'X-' || g, g || ' ' || md5(g::text) || ' street', "
            "g || ' ' || md5(g::text) || ' street', ST_SetSRID(ST_MakePoint(-71.08, 42.32), 4326) "
            "FROM generate_series(1, 10000) AS g"
        )
    )
    # as autovacuum does after a load: move the new entries from GIN's pending list
    db.session.execute(db.text("SELECT gin_clean_pending_list('ix_addresses_normalized_trgm')"))
    db.session.execute(db.text("ANALYZE addresses"))
    plan = db.session.execute(
        db.text(
            "EXPLAIN SELECT 1 FROM addresses "
            "WHERE normalized LIKE '12 elm%' OR '12 elm' <% normalized"
        )
    ).scalars()
    assert "ix_addresses_normalized_trgm" in "\n".join(plan)


def test_district_outlines_are_public_geojson(client, gazetteer_city):
    resp = client.get("/api/v1/districts/outlines")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["type"] == "FeatureCollection"
    assert {f["properties"]["name"] for f in body["features"]} == {"Ward 1", "Ward 2"}
    assert body["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")
