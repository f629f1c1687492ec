"""The GeoReport v2 API as a third-party client uses it, in both formats."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.core.clock import utcnow
from app.extensions import db
from app.geo import gazetteer
from app.media.models import Photo
from app.notifications.models import Outbox
from app.requests import service as requests_service
from app.requests.models import ServiceRequest
from tests.factories import (
    OUTSIDE_POINT,
    WARD_1_POINT,
    WARD_2_POINT,
    jpeg_bytes,
    make_service_type,
    submit,
)
from tests.helpers import bearer
from tests.open311.conftest import BASE, parse_xml, same_in_both_formats

REPORTER = {
    "first_name": "Rosa",
    "last_name": "Quarrington",
    "email": "rosa.quarrington@example.org",
    "phone": "617-555-0199",
    "device_id": "device-7f3a9c",
    "account_id": "acct-55810",
}


def post(client, key, fmt="json", point=WARD_1_POINT, **fields):
    data = {"service_code": "pothole", "description": "Deep hole by the curb"}
    if point is not None:
        data.update(lat=str(point[0]), long=str(point[1]))
    if key is not None:
        data["api_key"] = key
    data.update(fields)
    return client.post(f"{BASE}/requests.{fmt}", data=data)


def submitted(client, key, **fields) -> int:
    resp = post(client, key, **fields)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return int(resp.get_json()[0]["service_request_id"])


def stored(request_id: int) -> ServiceRequest:
    db.session.expire_all()
    return db.session.get(ServiceRequest, request_id)


def error_of(resp, status, fmt="json"):
    """Assert the spec's error body in the path's format; return the description."""
    assert resp.status_code == status, resp.get_data(as_text=True)
    if fmt == "json":
        assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
        body = resp.get_json()
        assert isinstance(body, list) and len(body) == 1
        assert set(body[0]) == {"code", "description"}
        return body[0]["description"]
    root, data = parse_xml(resp)
    assert root == "errors" and len(data) == 1 and set(data[0]) == {"code", "description"}
    return data[0]["description"]


# ---------------------------------------------------------------------------------------------
# discovery and the service catalogue


@pytest.mark.parametrize("path", ["/open311/discovery", f"{BASE}/discovery"])
def test_discovery_names_the_endpoint_and_both_formats(client, city, path):
    data = same_in_both_formats(client, path)
    assert {"changeset", "contact", "key_service", "endpoints"} <= set(data)
    (endpoint,) = data["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://city311.test/open311/v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert endpoint["type"] == "production"


def test_service_list_is_valid_and_flags_types_with_questions(client, city, schema_validator):
    services = same_in_both_formats(client, f"{BASE}/services")
    schema_validator("services", services)
    by_code = {s["service_code"]: s for s in services}
    assert set(by_code) == {"pothole", "streetlight", "graffiti"}
    assert by_code["pothole"]["metadata"] is True
    assert by_code["graffiti"]["metadata"] is False
    assert by_code["pothole"]["type"] == "realtime"
    assert by_code["pothole"]["group"] == "Streets"


def test_service_list_orders_by_group_and_name_and_leaves_out_hidden_types(
    client, city, schema_validator
):
    make_service_type("bulky", city.public_works, name="Bulky\x01 item\r\npickup", group="Bins")
    make_service_type("abandoned_bike", city.parks, name="Abandoned bike", keywords="bicycle")
    make_service_type("retired", city.parks, active=False)
    make_service_type("meter_audit", city.public_works, public=False)
    services = same_in_both_formats(client, f"{BASE}/services")
    schema_validator("services", services)
    codes = [s["service_code"] for s in services]
    # no group sorts first (PostgreSQL's order, as staff lists show it), then by name
    assert codes == ["abandoned_bike", "graffiti", "bulky", "pothole", "streetlight"]
    bike, bulky = services[0], services[2]
    # empty texts are null, as the spec's examples have them; text as XML can carry it
    assert bike["group"] is None and bike["description"] is None
    assert bike["keywords"] == "bicycle" and bike["metadata"] is False
    assert bulky["service_name"] == "Bulky item\npickup" and bulky["group"] == "Bins"


def test_service_definition_lists_questions_in_order(client, city, schema_validator):
    make_service_type(
        "tree",
        city.parks,
        attributes=[
            {
                "code": "kind",
                "description": "What is wrong?",
                "datatype": "multivaluelist",
                "required": True,
                "order": 2,
                "values": [{"key": "dead", "name": "Dead"}, {"key": "leaning", "name": "Leaning"}],
            },
            {
                "code": "height",
                "description": "How tall, in metres?",
                "datatype": "number",
                "required": False,
                "order": 1,
            },
            {
                "code": "info",
                "description": "Trees on private land are not ours.",
                "datatype": "text",
                "variable": False,
                "order": 3,
            },
        ],
    )
    definition = same_in_both_formats(client, f"{BASE}/services/tree")
    schema_validator("service-definition", definition)
    assert definition["service_code"] == "tree"
    assert [a["code"] for a in definition["attributes"]] == ["height", "kind", "info"]
    kind = definition["attributes"][1]
    assert (kind["datatype"], kind["required"], kind["variable"]) == ("multivaluelist", True, True)
    assert kind["values"] == [
        {"key": "dead", "name": "Dead"},
        {"key": "leaning", "name": "Leaning"},
    ]
    assert definition["attributes"][2]["variable"] is False


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_definition_is_404_in_the_spec_format(client, city, fmt):
    resp = client.get(f"{BASE}/services/no-such-thing.{fmt}")
    assert "no-such-thing" in error_of(resp, 404, fmt)


# ---------------------------------------------------------------------------------------------
# POST requests


def test_post_stores_the_request_and_answers_with_its_id(client, city, api_key, schema_validator):
    resp = post(client, api_key, **REPORTER, **{"attribute[size]": "large"})
    assert resp.status_code == 200
    body = resp.get_json()
    assert isinstance(body, list) and len(body) == 1
    assert isinstance(body[0]["service_request_id"], str)
    assert "Public Works" in body[0]["service_notice"]
    sr = stored(int(body[0]["service_request_id"]))
    assert (sr.channel, sr.status, sr.department_id, sr.district_id) == (
        "open311",
        "new",
        city.public_works.id,
        city.ward1.id,
    )
    assert sr.attributes == {"size": "large"}
    assert (sr.reporter_name, sr.reporter_email, sr.reporter_phone) == (
        "Rosa Quarrington",
        "rosa.quarrington@example.org",
        "617-555-0199",
    )
    assert (sr.reporter_device_id, sr.reporter_account_id) == ("device-7f3a9c", "acct-55810")
    schema_validator("requests", client.get(f"{BASE}/requests/{sr.id}.json").get_json())


def test_post_in_xml_answers_in_xml(client, city, api_key):
    resp = post(client, api_key, fmt="xml")
    assert resp.status_code == 200
    root, data = parse_xml(resp)
    assert root == "service_requests"
    assert stored(int(data[0]["service_request_id"])).channel == "open311"


def test_api_key_may_come_as_a_bearer_header(client, city, api_key):
    resp = client.post(
        f"{BASE}/requests.json",
        data={"service_code": "graffiti", "lat": "42.32", "long": "-71.02", "description": "Tag"},
        headers=bearer(api_key),
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("key", [None, "", "not-a-key"])
def test_missing_or_bad_key_is_403_and_nothing_is_stored(client, city, key, fmt):
    before = db.session.query(ServiceRequest).count()
    assert "api_key" in error_of(post(client, key, fmt=fmt), 403, fmt)
    assert db.session.query(ServiceRequest).count() == before


def test_revoked_key_is_refused_at_once(client, city, api_key):
    from app.open311 import keys

    submitted(client, api_key)  # the process now trusts the key for a while
    keys.revoke_key(prefix=api_key[:8])
    assert "revoked" in error_of(post(client, api_key), 403)


def test_key_use_is_recorded(client, city, api_key):
    from app.open311.models import ApiKey

    submitted(client, api_key)
    db.session.expire_all()
    row = db.session.scalar(select(ApiKey).where(ApiKey.key_prefix == api_key[:8]))
    assert row.last_used_at is not None


@pytest.mark.parametrize(
    "fields, status, message",
    [
        ({"service_code": ""}, 400, "service_code is required"),
        ({"service_code": "nope"}, 404, "no service 'nope'"),
        ({"lat": "", "long": ""}, 400, "Give the location"),
        ({"long": ""}, 400, "both lat and long"),
        ({"lat": "north"}, 400, "lat must be a number"),
        ({"lat": "nan"}, 400, "finite"),
        ({"lat": "95"}, 400, "between -90 and 90"),
        ({"lat": str(OUTSIDE_POINT[0]), "long": str(OUTSIDE_POINT[1])}, 400, "outside"),
        ({"attribute[size]": "huge"}, 400, "must be one of"),
        ({"description": "x" * 4001}, 400, "limit is 4000"),
        ({"email": "not-an-email"}, 400, "not an email"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url must be an http(s) URL"),
        ({"jurisdiction_id": "elsewhere.example"}, 404, "jurisdiction_id"),
    ],
)
def test_bad_post_says_what_to_fix_and_stores_nothing(
    client, city, api_key, fields, status, message
):
    before = db.session.query(ServiceRequest).count()
    assert message in error_of(post(client, api_key, **fields), status)
    assert db.session.query(ServiceRequest).count() == before


def test_attribute_answers_in_both_bracket_forms_are_validated_and_stored(client, city, api_key):
    make_service_type(
        "tree",
        city.parks,
        attributes=[
            {
                "code": "kind",
                "description": "What is wrong?",
                "datatype": "multivaluelist",
                "required": True,
                "order": 1,
                "values": [{"key": "dead", "name": "Dead"}, {"key": "leaning", "name": "Leaning"}],
            },
            {"code": "height", "datatype": "number", "required": False, "order": 2},
            {
                "code": "size",
                "datatype": "singlevaluelist",
                "required": False,
                "order": 3,
                "values": [{"key": "s", "name": "Small"}],
            },
        ],
    )
    missing = post(client, api_key, service_code="tree")
    assert "What is wrong?" in error_of(missing, 400)
    bad_number = post(
        client,
        api_key,
        service_code="tree",
        **{"attribute[kind][]": "dead", "attribute[height]": "tall"},
    )
    assert "must be a number" in error_of(bad_number, 400)
    request_id = submitted(
        client,
        api_key,
        service_code="tree",
        # werkzeug's test client sends a list as a repeated key, as real clients do
        **{
            "attribute[kind][]": ["dead", "leaning"],
            "attribute[height]": "7.5",
            "attribute[size]": "",
        },  # FixMyStreet sends skipped optional lists empty
    )
    assert stored(request_id).attributes == {"kind": ["dead", "leaning"], "height": 7.5}


def test_post_without_description_uses_the_service_name(client, city, api_key):
    request_id = submitted(client, api_key, description="", service_code="graffiti")
    assert stored(request_id).description == "Graffiti"


def test_address_without_a_gazetteer_is_a_clear_400(client, city, api_key):
    resp = post(client, api_key, point=None, address_string="12 Main St, Riverton")
    assert "no address gazetteer" in error_of(resp, 400)


def test_address_string_and_address_id_are_located_by_the_gazetteer(client, city, api_key):
    gazetteer.add_address("A-1001", "12 Main St", WARD_2_POINT[0], WARD_2_POINT[1])
    by_text = submitted(client, api_key, point=None, address_string="12 MAIN ST., Riverton, MA")
    sr = stored(by_text)
    assert (sr.district_id, sr.address_id) == (city.ward2.id, "A-1001")
    assert sr.address == "12 MAIN ST., Riverton, MA"
    by_id = submitted(client, api_key, point=None, address_id="A-1001")
    assert stored(by_id).address == "12 Main St"
    got = client.get(f"{BASE}/requests/{by_id}.json").get_json()[0]
    assert got["address_id"] == "A-1001"
    assert (got["lat"], got["long"]) == pytest.approx(WARD_2_POINT)
    unknown = post(client, api_key, point=None, address_string="99 Nowhere Rd")
    assert "not in the city's address list" in error_of(unknown, 400)


def test_client_media_url_is_published(client, city, api_key):
    url = "https://photos.example.org/pothole.jpg"
    request_id = submitted(client, api_key, media_url=url)
    assert client.get(f"{BASE}/requests/{request_id}.json").get_json()[0]["media_url"] == url


def test_multipart_photo_is_stored_and_published_without_metadata_url(client, city, api_key):
    resp = client.post(
        f"{BASE}/requests.json",
        data={
            "api_key": api_key,
            "service_code": "pothole",
            "description": "Photo attached",
            "lat": str(WARD_1_POINT[0]),
            "long": str(WARD_1_POINT[1]),
            "media": (io.BytesIO(jpeg_bytes(gps=True)), "IMG_0001.jpg", "image/jpeg"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    request_id = int(resp.get_json()[0]["service_request_id"])
    photo = db.session.scalar(select(Photo).where(Photo.request_id == request_id))
    assert photo is not None and photo.kind == "report"
    got = client.get(f"{BASE}/requests/{request_id}.json").get_json()[0]
    assert got["media_url"] == f"http://city311.test/photos/{photo.id}/display.jpg"


def test_a_file_that_is_not_an_image_is_refused(client, city, api_key):
    resp = client.post(
        f"{BASE}/requests.json",
        data={
            "api_key": api_key,
            "service_code": "pothole",
            "description": "x",
            "lat": str(WARD_1_POINT[0]),
            "long": str(WARD_1_POINT[1]),
            "media": (io.BytesIO(b"%PDF-1.4 not a photo"), "doc.pdf", "application/pdf"),
        },
        content_type="multipart/form-data",
    )
    assert "not an image" in error_of(resp, 400)


# ---------------------------------------------------------------------------------------------
# GET requests


def _submit(code="pothole", point=WARD_1_POINT, at=None, **kw) -> int:
    return submit(code, point, requested_at=at, **kw).id


def _ids(resp) -> list[int]:
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return [int(r["service_request_id"]) for r in resp.get_json()]


def test_request_fields_are_filled_and_valid(client, city, schema_validator):
    request_id = _submit(address="1 Main St")
    sr = stored(request_id)
    requests_service.add_note(sr, actor_id=None, note="Crew booked for Tuesday.", public=True)
    data = same_in_both_formats(client, f"{BASE}/requests/{request_id}")
    schema_validator("requests", data)
    (item,) = data
    assert item["service_request_id"] == str(request_id)
    assert item["status"] == "open"
    assert item["status_notes"] == "Crew booked for Tuesday."
    assert (item["service_code"], item["service_name"]) == ("pothole", "Pothole")
    assert item["agency_responsible"] == "Public Works"
    assert item["service_notice"] == "Expected within 72 hours."
    assert datetime.fromisoformat(item["expected_datetime"]) == sr.due_at.replace(microsecond=0)
    assert datetime.fromisoformat(item["requested_datetime"]) == sr.requested_at.replace(
        microsecond=0
    )
    assert item["address"] == "1 Main St"
    assert (item["lat"], item["long"]) == pytest.approx(WARD_1_POINT)
    assert item["media_url"] is None


def test_closed_request_shows_the_closure_note_and_close_time(client, city, schema_validator):
    request_id = _submit()
    sr = stored(request_id)
    requests_service.add_note(sr, actor_id=None, note="Caller is rude", public=False)
    requests_service.close(sr, reason="fixed", actor_id=None, note="Filled with asphalt.")
    (item,) = client.get(f"{BASE}/requests/{request_id}.json").get_json()
    schema_validator("request", item)
    assert (item["status"], item["status_notes"]) == ("closed", "Filled with asphalt.")
    assert datetime.fromisoformat(item["updated_datetime"]) == sr.closed_at.replace(microsecond=0)


def test_internal_notes_never_become_status_notes(client, city):
    request_id = _submit()
    requests_service.add_note(stored(request_id), actor_id=None, note="Internal only", public=False)
    resp = client.get(f"{BASE}/requests/{request_id}.json?extensions=true")
    assert "Internal only" not in resp.get_data(as_text=True)
    assert resp.get_json()[0]["status_notes"] is None


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("request_id", ["999999999", "abc"])
def test_unknown_request_is_404(client, city, request_id, fmt):
    assert "no service request" in error_of(
        client.get(f"{BASE}/requests/{request_id}.{fmt}"), 404, fmt
    )


def test_default_window_is_the_last_90_days(client, city, schema_validator):
    recent = _submit()
    old = _submit(at=utcnow() - timedelta(days=120))
    resp = client.get(f"{BASE}/requests.json")
    schema_validator("requests", resp.get_json())
    assert recent in _ids(resp) and old not in _ids(resp)


def test_filters_by_status_and_service_code(client, city):
    pothole, light, graffiti = _submit(), _submit("streetlight"), _submit("graffiti")
    requests_service.close(stored(light), reason="fixed", actor_id=None)
    assert set(_ids(client.get(f"{BASE}/requests.json?status=closed"))) == {light}
    assert set(_ids(client.get(f"{BASE}/requests.json?status=open"))) == {pothole, graffiti}
    both = client.get(f"{BASE}/requests.json?status=open,closed")
    assert set(_ids(both)) == {pothole, light, graffiti}
    codes = client.get(f"{BASE}/requests.json?service_code=pothole,graffiti")
    assert set(_ids(codes)) == {pothole, graffiti}
    repeated = client.get(f"{BASE}/requests.json?service_code=pothole&service_code=streetlight")
    assert set(_ids(repeated)) == {pothole, light}


def test_service_request_id_list_overrides_every_other_filter(client, city):
    old = _submit(at=utcnow() - timedelta(days=400))
    other = _submit("graffiti")
    resp = client.get(
        f"{BASE}/requests.json?service_request_id={old},{other}&status=closed&service_code=x"
    )
    assert set(_ids(resp)) == {old, other}


def test_start_and_end_date_select_on_requested_time(client, city):
    jan = _submit(at=datetime.fromisoformat("2026-01-10T12:00:00+00:00"))
    feb = _submit(at=datetime.fromisoformat("2026-02-10T12:00:00+00:00"))
    resp = client.get(
        f"{BASE}/requests.json",
        query_string={"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-01-31T00:00:00Z"},
    )
    assert _ids(resp) == [jan]
    # only start_date: the 90 days after it
    resp = client.get(f"{BASE}/requests.json", query_string={"start_date": "2026-01-11T00:00:00Z"})
    assert _ids(resp) == [feb]


@pytest.mark.parametrize(
    "raw",
    [
        "2026-01-01 00:00:00-05:00",  # Python's str(datetime): a space, not T
        "2026-01-01T00:00:00.123456-05:00",  # fractional seconds
        "2026-01-01T05:00:00.5Z",
    ],
)
def test_real_client_dates_are_read(client, city, raw):
    jan = _submit(at=datetime.fromisoformat("2026-01-10T12:00:00+00:00"))
    resp = client.get(f"{BASE}/requests.json", query_string={"start_date": raw})
    assert _ids(resp) == [jan]


def test_plus_in_a_query_string_is_read_as_a_space_or_an_offset(client, city):
    jan = _submit(at=datetime.fromisoformat("2026-01-10T12:00:00+00:00"))
    # chicagorequests: the space of str(datetime) encoded as '+'
    assert _ids(client.get(f"{BASE}/requests.json?start_date=2026-01-01+00:00:00-06:00")) == [jan]
    # an offset's '+' left unencoded arrives as a space
    assert _ids(client.get(f"{BASE}/requests.json?start_date=2026-01-01T00:00:00+05:00")) == [jan]


@pytest.mark.parametrize(
    "args, message",
    [
        ({"start_date": "2026-01-01T00:00:00"}, "no timezone"),
        ({"start_date": "yesterday"}, "W3C datetime"),
        ({"start_date": "2026-02-30T00:00:00Z"}, "not a real date"),
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"}, "90 days"),
        ({"start_date": "2026-02-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, "before"),
        ({"status": "pending"}, "open or closed"),
        ({"page_size": "5000"}, "between 1 and 1000"),
        ({"page": "0"}, "between 1"),
        ({"service_request_id": "12;DROP"}, "request numbers"),
        ({"lat": "42.3"}, "both lat and long"),
        ({"lat": "42.3", "long": "-71.0", "radius": "-5"}, "radius"),
        ({"updated_after": "2026-01-01"}, "W3C datetime"),
    ],
)
def test_bad_query_is_400_saying_what_to_fix(client, city, args, message):
    for fmt in ("json", "xml"):
        assert message in error_of(
            client.get(f"{BASE}/requests.{fmt}", query_string=args), 400, fmt
        )


def test_empty_parameters_behave_as_absent(client, city):
    recent = _submit()
    resp = client.get(
        f"{BASE}/requests.json?service_request_id=&service_code=&status=&start_date=&end_date="
        "&updated_after=&page=&page_size=&lat=&long=&radius=&jurisdiction_id=&extensions="
    )
    assert _ids(resp) == [recent]


def test_updated_after_and_before(client, city):
    old = _submit(at=utcnow() - timedelta(days=200))
    untouched = _submit(at=utcnow() - timedelta(days=200))
    requests_service.acknowledge(stored(old), actor_id=None)  # updated now
    after = (utcnow() - timedelta(hours=1)).isoformat()
    assert _ids(client.get(f"{BASE}/requests.json", query_string={"updated_after": after})) == [old]
    before = client.get(f"{BASE}/requests.json", query_string={"updated_before": after})
    assert untouched in _ids(before) and old not in _ids(before)


def test_pages_walk_through_the_results_newest_first(client, city):
    now = utcnow()
    ids = [_submit(at=now - timedelta(minutes=m)) for m in range(5)]  # newest first
    first = _ids(client.get(f"{BASE}/requests.json?page_size=2"))
    second = _ids(client.get(f"{BASE}/requests.json?page_size=2&page=2"))
    last = _ids(client.get(f"{BASE}/requests.json?page_size=2&page=3"))
    assert first + second + last == ids


def test_radius_search_finds_requests_near_a_point(client, city):
    near = _submit(point=(42.3200, -71.0800))
    far = _submit(point=(42.3200, -71.0200))  # about 5 km east
    resp = client.get(f"{BASE}/requests.json?lat=42.3205&long=-71.0805&radius=200")
    assert _ids(resp) == [near]
    wide = client.get(f"{BASE}/requests.json?lat=42.3205&long=-71.0805&radius=10000")
    assert set(_ids(wide)) == {near, far}


def test_extensions_add_the_public_history(client, city, schema_validator):
    request_id = _submit()
    sr = stored(request_id)
    requests_service.acknowledge(sr, actor_id=None)
    requests_service.add_note(sr, actor_id=None, note="Booked for Tuesday.", public=True)
    requests_service.add_note(sr, actor_id=None, note="Supervisor grumbles", public=False)
    requests_service.close(sr, reason="fixed", actor_id=None, note="Done.")
    data = same_in_both_formats(client, f"{BASE}/requests", query_string={"extensions": "true"})
    schema_validator("requests", data)
    (item,) = [r for r in data if r["service_request_id"] == str(request_id)]
    assert [n["type"] for n in item["notes"]] == ["submitted", "activity", "note", "closed"]
    assert [n["description"] for n in item["notes"]][2:] == ["Booked for Tuesday.", "Done."]
    assert item["extended_attributes"]["detailed_status"] == "closed"
    assert item["extended_attributes"]["closure_reason"] == "fixed"
    assert "grumbles" not in str(data)
    plain = client.get(f"{BASE}/requests.json").get_json()
    assert "notes" not in plain[0] and "extended_attributes" not in plain[0]


def test_token_resolves_to_the_request_id(client, city):
    request_id = _submit()
    data = same_in_both_formats(client, f"{BASE}/tokens/{request_id}")
    assert data == [{"service_request_id": str(request_id), "token": str(request_id)}]
    assert "no token" in error_of(client.get(f"{BASE}/tokens/zzz.json"), 404)


# ---------------------------------------------------------------------------------------------
# FixMyStreet service request updates


def test_service_request_updates_follow_status_changes(client, city):
    request_id = _submit()
    sr = stored(request_id)
    requests_service.acknowledge(sr, actor_id=None)
    requests_service.add_note(sr, actor_id=None, note="Booked for Tuesday.", public=True)
    requests_service.add_note(sr, actor_id=None, note="Internal remark", public=False)
    requests_service.close(sr, reason="fixed", actor_id=None, note="Filled.")
    start = (utcnow() - timedelta(hours=1)).isoformat()
    end = (utcnow() + timedelta(hours=1)).isoformat()
    updates = same_in_both_formats(
        client,
        f"{BASE}/servicerequestupdates",
        query_string={"start_date": start, "end_date": end, "api_key": "ignored"},
    )
    mine = [u for u in updates if u["service_request_id"] == str(request_id)]
    assert [(u["status"], u["description"]) for u in mine] == [
        ("open", "Acknowledged by the department."),
        ("open", "Booked for Tuesday."),
        ("fixed", "Filled."),
    ]
    assert all(
        {
            "update_id",
            "service_request_id",
            "status",
            "updated_datetime",
            "description",
            "media_url",
        }
        <= set(u)
        for u in mine
    )
    assert len({u["update_id"] for u in mine}) == 3
    later = client.get(
        f"{BASE}/servicerequestupdates.json",
        query_string={"start_date": end, "end_date": (utcnow() + timedelta(hours=2)).isoformat()},
    )
    assert later.get_json() == []


# ---------------------------------------------------------------------------------------------
# errors, jurisdiction, privacy


@pytest.mark.parametrize(
    "path, fmt",
    [
        (f"{BASE}/nothing.json", "json"),
        (f"{BASE}/services.csv", "xml"),
        (f"{BASE}/services", "xml"),
        ("/open311/v3/services.json", "json"),
    ],
)
def test_unknown_paths_are_404_in_the_spec_format(client, city, path, fmt):
    assert "no such Open311 resource" in error_of(client.get(path), 404, fmt)


def test_wrong_method_is_405_in_the_spec_format(client, city):
    resp = client.delete(f"{BASE}/requests.json")
    assert "DELETE" in error_of(resp, 405)
    assert "POST" in resp.headers["Allow"]
    error_of(client.post(f"{BASE}/services.xml"), 405, "xml")


def test_other_paths_keep_their_own_error_format(client, city):
    resp = client.get("/api/v1/no-such-endpoint")
    assert resp.status_code == 404
    assert isinstance(resp.get_json(), dict)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_jurisdiction_id_ours_is_accepted_and_another_is_404(client, city, app, fmt):
    ours = app.config["OPEN311_JURISDICTION_ID"]
    assert client.get(f"{BASE}/services.{fmt}?jurisdiction_id={ours}").status_code == 200
    resp = client.get(f"{BASE}/services.{fmt}?jurisdiction_id=sfgov.org")
    assert "sfgov.org" in error_of(resp, 404, fmt)


def test_reporter_data_never_appears_in_any_get(client, city, api_key):
    request_id = submitted(client, api_key, **REPORTER)
    sr = stored(request_id)
    requests_service.acknowledge(sr, actor_id=None)
    requests_service.close(sr, reason="fixed", actor_id=None, note="Fixed it.")
    window = {
        "start_date": (utcnow() - timedelta(hours=1)).isoformat(),
        "end_date": (utcnow() + timedelta(hours=1)).isoformat(),
    }
    paths = [
        ("/requests", {}),
        ("/requests", {"extensions": "true"}),
        (f"/requests/{request_id}", {"extensions": "true"}),
        (f"/tokens/{request_id}", {}),
        ("/servicerequestupdates", window),
    ]
    secrets = [*REPORTER.values(), "Rosa", "Quarrington", "rosa.quarrington"]
    for path, args in paths:
        for fmt in ("json", "xml"):
            body = client.get(f"{BASE}{path}.{fmt}", query_string=args).get_data(as_text=True)
            assert str(request_id) in body
            leaked = [s for s in secrets if s.lower() in body.lower()]
            assert not leaked, (path, fmt, leaked)


def test_post_takes_the_reporters_channels_and_locale(client, city, api_key):
    resp = post(
        client,
        api_key,
        email="rosa@example.org",
        phone="(617) 555-0199",
        notify="both",
        locale="es_US",
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    sr = stored(int(resp.get_json()[0]["service_request_id"]))
    assert (sr.notify, sr.reporter_phone, sr.language) == ("both", "+16175550199", "es")
    owed = db.session.execute(
        select(Outbox.channel, Outbox.recipient).where(Outbox.request_id == sr.id)
    ).all()
    assert sorted(owed) == [("email", "rosa@example.org"), ("sms", "+16175550199")]
    # no locale: the Accept-Language header, else English
    resp = client.post(
        f"{BASE}/requests.json",
        data={
            "service_code": "pothole",
            "description": "Hole",
            "api_key": api_key,
            "lat": str(WARD_1_POINT[0]),
            "long": str(WARD_1_POINT[1]),
        },
        headers={"Accept-Language": "es-MX, en;q=0.5"},
    )
    assert stored(int(resp.get_json()[0]["service_request_id"])).language == "es"
    assert stored(submitted(client, api_key, locale="fr_CA")).language == "en"
