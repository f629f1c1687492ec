"""Call-takers record how a request came in: phone, walk-in, email or social media (+ link)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.requests.models import ServiceRequest
from tests.factories import WARD_1_POINT
from tests.helpers import sign_in

POST = "https://social.example/@resident/1234"


def call(**extra: str) -> dict[str, str]:
    return {
        "service_code": "pothole",
        "description": "Seen on social media: a hole by the school",
        "lat": str(WARD_1_POINT[0]),
        "long": str(WARD_1_POINT[1]),
        **extra,
    }


def newest() -> ServiceRequest:
    return db.session.scalar(select(ServiceRequest).order_by(ServiceRequest.id.desc()).limit(1))


def test_the_call_form_offers_every_channel(client, city):
    sign_in(client, city.users["agent"].email)
    page = client.get("/agent/requests/new").get_data(as_text=True)
    for code, label in [
        ("phone", "Phone call"),
        ("walk_in", "Walk-in"),
        ("email", "Email"),
        ("social", "Social media"),
    ]:
        assert f'<option value="{code}"' in page and label in page
    assert 'id="source_url"' in page
    # call-takers find the place by the same address search as residents
    assert 'id="address-q" role="combobox"' in page
    # residents choose no channel: theirs is the web form
    client.post("/logout")
    assert 'id="channel"' not in client.get("/").get_data(as_text=True)


def test_a_social_media_message_is_logged_with_its_link_for_staff_only(client, city):
    sign_in(client, city.users["agent"].email)
    resp = client.post("/agent/requests/new", data=call(channel="social", source_url=POST))
    assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
    sr = newest()
    assert (sr.channel, sr.source_url) == ("social", POST)
    detail = client.get(f"/staff/requests/{sr.id}").get_data(as_text=True)
    assert f'href="{POST}"' in detail
    client.post("/logout")
    assert POST not in client.get(f"/requests/{sr.id}").get_data(as_text=True)
    assert POST not in client.get(f"/api/v1/requests/{sr.id}").get_data(as_text=True)


def test_walk_in_and_phone_by_default(client, city):
    sign_in(client, city.users["agent"].email)
    client.post("/agent/requests/new", data=call(channel="walk_in"))
    assert newest().channel == "walk_in"
    client.post("/agent/requests/new", data=call())
    assert newest().channel == "phone"


def test_a_bad_channel_or_link_is_refused_with_the_form_kept(client, city):
    sign_in(client, city.users["agent"].email)
    before = newest()
    resp = client.post(
        "/agent/requests/new", data=call(channel="pigeon", source_url="javascript:alert(1)")
    )
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "Choose how the request came in" in page
    assert "must be a web address starting with https://" in page
    assert "a hole by the school" in page
    assert newest() == before
