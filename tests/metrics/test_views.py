from datetime import timedelta

from sqlalchemy import delete

from app.core.clock import utcnow
from app.extensions import db
from app.metrics import rollup
from app.metrics.models import RollupState
from tests.helpers import sign_in
from tests.metrics.test_service import make_request


def test_dashboard_shows_tiles_and_tables(client, city):
    now = utcnow()
    make_request("pothole", now - timedelta(days=3), ack_hours=1, close_hours=20)
    make_request("pothole", now - timedelta(days=5), ack_hours=1, close_hours=100)
    make_request("graffiti", now - timedelta(days=10), reason="fixed")  # open, overdue
    sign_in(client, "manager@city.test")

    html = client.get("/metrics/exact").get_data(as_text=True)
    assert "<h1>Response times</h1>" in html
    assert "<span>Requests</span><strong>3</strong>" in html
    assert "<span>Median to close</span><strong>2.5 d</strong>" in html  # 60 h
    assert "<span>Closed within SLA</span><strong>50%</strong>" in html
    assert "<span>Overdue now</span><strong>1</strong>" in html
    assert "2 fixed · 0 other reasons" in html
    assert '<th scope="row">Public Works</th>' in html
    assert '<th scope="row">Pothole</th>' in html
    assert '<th scope="row">Graffiti</th>' in html
    assert '<option value="30" selected>' in html
    assert "private.reporter@example.org" not in html


def test_window_selector_narrows_the_figures(client, city):
    now = utcnow()
    make_request("graffiti", now - timedelta(days=10))
    make_request("graffiti", now - timedelta(days=1))
    sign_in(client, "admin@city.test")
    html = client.get("/metrics/exact?days=7").get_data(as_text=True)
    assert '<option value="7" selected>' in html
    assert "<span>Requests</span><strong>1</strong>" in html
    assert "<span>Open backlog</span><strong>2</strong>" in html
    # an unknown window falls back to 30 days instead of failing
    html = client.get("/metrics/exact?days=9999").get_data(as_text=True)
    assert "<span>Requests</span><strong>2</strong>" in html


def test_dashboard_is_for_managers_and_admins(client, city):
    resp = client.get("/metrics")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login?next=")
    sign_in(client, "dispatcher@city.test")
    resp = client.get("/metrics")
    assert resp.status_code == 403
    assert "you are signed in as dispatcher" in resp.get_data(as_text=True)


def test_dashboard_says_when_its_figures_are_not_built_yet(client, city):
    # never built in this test's transaction, whatever tests before it left behind
    db.session.execute(delete(RollupState))
    db.session.expire_all()
    sign_in(client, "manager@city.test")
    html = client.get("/metrics").get_data(as_text=True)
    assert "The figures have not been built yet." in html
    assert "The worker builds them every minute" in html  # nothing to do if it runs
    assert "Figures as of" not in html
    rollup.refresh()
    html = client.get("/metrics").get_data(as_text=True)
    assert "Figures as of" in html
    assert "not been built" not in html
