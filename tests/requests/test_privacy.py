"""Personal data kept only as long as needed: the retention purge, a resident's export and erasure.

All on the real database and media folder: the purge empties old closed requests only, the
KPIs read the same after it, the original photo files are deleted and the public copies
kept; export and erasure find every request and follow of an address; both are audited.
"""

from __future__ import annotations

import json
from datetime import timedelta
from io import BytesIO

import pytest
from sqlalchemy import select

from app.core import worker as core_worker
from app.core.audit import AuditEntry
from app.core.clock import utcnow
from app.core.queue import AppJob
from app.extensions import db
from app.media import service as media
from app.media.storage import get_storage
from app.metrics import service as metrics
from app.notifications.models import Outbox, Unsubscribe
from app.requests import privacy
from app.requests import service as requests_service
from app.requests.models import RequestSubscriber, ServiceRequest
from tests import factories
from tests.factories import jpeg_bytes
from tests.helpers import sign_in

OLD = "old.reporter@example.org"
RECENT = "recent.reporter@example.org"
FOLLOWER = "neighbour@example.org"


#: the resident's post a call-taker logged the request from: personal data too
SOCIAL = "https://social.example/@pat/1"


def _report(email: str, requested_days_ago: float, closed_days_ago: float | None, **kw):
    """A request with full contact, a GPS-tagged photo (processed), a follower; maybe closed."""
    now = utcnow()
    sr = factories.submit(
        requested_at=now - timedelta(days=requested_days_ago),
        name="Pat Person",
        email=email,
        phone="555-0111",
        device_id="device-123",
        account_id="account-456",
        source_url=SOCIAL,
        **kw,
    )
    photo = media.attach_photo(
        media.validate_photo(BytesIO(jpeg_bytes(gps=True))), kind="report", request_id=sr.id
    )
    media.make_derivatives(photo)
    db.session.add(RequestSubscriber(request_id=sr.id, email=FOLLOWER, source="follow"))
    db.session.add(Unsubscribe(request_id=sr.id, email=FOLLOWER))
    if closed_days_ago is not None:
        requests_service.close(
            sr,
            reason="fixed",
            actor_id=None,
            note="Filled.",
            at=now - timedelta(days=closed_days_ago),
        )
    db.session.flush()
    # the receipt went out long ago
    db.session.execute(
        Outbox.__table__.update()
        .where(Outbox.request_id == sr.id, Outbox.event == "receipt")
        .values(status="sent", sent_at=now - timedelta(days=requested_days_ago))
    )
    return sr, photo


def _original_exists(stored_name: str) -> bool:
    return get_storage().exists(media.original_key(stored_name))


def _contact(sr: ServiceRequest) -> tuple[str, ...]:
    db.session.refresh(sr)
    return (
        sr.reporter_name,
        sr.reporter_email,
        sr.reporter_phone,
        sr.reporter_device_id,
        sr.reporter_account_id,
        sr.source_url,
    )


def _kpis():
    now = utcnow()
    result = metrics.response_times("department", start=now - timedelta(days=1000), end=now)
    return result.totals, result.rows


@pytest.fixture
def three(city):
    """An old closed request, an old one still open, and one closed last week."""
    old = _report(OLD, 800, 760)
    still_open = _report(OLD, 800, None)
    recent = _report(RECENT, 20, 7)
    return old, still_open, recent


def test_purge_removes_personal_data_of_old_closed_requests_only(app, three):
    (old, old_photo), (still_open, open_photo), (recent, recent_photo) = three
    kpis_before = _kpis()
    old_receipts = [r.recipient for r in db.session.scalars(select(Outbox)) if r.request_id]
    assert OLD in old_receipts

    result = privacy.purge()

    assert result.requests == 1
    assert result.counts["follows"] == 1
    assert result.counts["original_photos"] == 1
    print(f"purged {result.requests} request: {result.counts}")
    # the old closed one: no contact, no follower, no unsubscribe, no address in its outbox
    assert _contact(old) == ("", "", "", "", "", "")
    assert old.personal_data_purged_at is not None
    assert not db.session.scalars(
        select(RequestSubscriber).where(RequestSubscriber.request_id == old.id)
    ).all()
    assert db.session.get(Unsubscribe, (old.id, FOLLOWER)) is None
    rows = db.session.scalars(select(Outbox).where(Outbox.request_id == old.id)).all()
    assert rows and all(r.recipient == f"erased-{r.id}" for r in rows)
    assert {r.status for r in rows if r.event == "receipt"} == {"sent"}
    # its anonymous record stays whole
    assert old.status == "closed" and old.closure_reason == "fixed"
    assert old.description and old.address and old.channel == "web"
    # the original (GPS and all) is gone from storage; the metadata-free copies stay
    assert not _original_exists(old_photo.stored_name)
    for size in media.DERIVATIVES:
        assert get_storage().exists(media.derivative_key(old_photo.stored_name, size))
    assert media.public_photo_bytes(old_photo.id, make_if_missing=False) is not None

    # the open one and the recent one keep everything
    for sr, photo, email in ((still_open, open_photo, OLD), (recent, recent_photo, RECENT)):
        assert _contact(sr) == (
            "Pat Person",
            email,
            "555-0111",
            "device-123",
            "account-456",
            SOCIAL,
        )
        assert sr.personal_data_purged_at is None
        assert _original_exists(photo.stored_name)
        assert db.session.get(Unsubscribe, (sr.id, FOLLOWER)) is not None
        subscribers = db.session.scalars(
            select(RequestSubscriber.email).where(RequestSubscriber.request_id == sr.id)
        ).all()
        assert subscribers == [FOLLOWER]
        assert email in {
            r.recipient
            for r in db.session.scalars(select(Outbox).where(Outbox.request_id == sr.id))
        }

    # the KPIs read exactly the same
    assert _kpis() == kpis_before

    # audited, and a second run has nothing to do
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.purge")).one()
    assert entry.after["requests"] == 1
    assert privacy.purge().requests == 0


def test_purge_honours_the_retention_setting(app, three, monkeypatch):
    (old, _), (still_open, _), (recent, _) = three
    monkeypatch.setitem(app.config, "PRIVACY_RETENTION_DAYS", 3)
    assert privacy.purge().requests == 2
    assert _contact(old)[1] == "" and _contact(recent)[1] == ""
    assert _contact(still_open)[1] == OLD


def test_a_purged_request_followed_again_is_purged_again(app, three):
    (old, _), _, _ = three
    privacy.purge()
    # a neighbour follows it from the tracking page later (in a transaction of its own)
    late = RequestSubscriber(
        request_id=old.id, email="late@example.org", source="follow", created_at=utcnow()
    )
    db.session.add(late)
    db.session.flush()
    assert privacy.purge().requests == 1
    assert not db.session.scalars(
        select(RequestSubscriber).where(RequestSubscriber.request_id == old.id)
    ).all()


def test_an_unprocessed_photo_gets_its_public_copies_before_its_original_goes(app, city):
    sr, _ = _report(OLD, 800, 760)
    late = media.attach_photo(
        media.validate_photo(BytesIO(jpeg_bytes(gps=True))), kind="after", request_id=sr.id
    )
    db.session.flush()
    assert late.processed_at is None
    privacy.purge()
    assert not _original_exists(late.stored_name)
    assert get_storage().exists(media.derivative_key(late.stored_name, "display"))
    assert late.processed_at is not None


def test_purge_command(app, three):
    result = app.test_cli_runner().invoke(args=["privacy", "purge"])
    assert result.exit_code == 0, result.output
    assert "Purged 1 requests" in result.output
    assert "original_photos 1" in result.output


def test_the_worker_runs_the_purge_daily_from_its_cron_scheduler(app, three):
    (old, _), (still_open, _), _ = three
    db.session.commit()
    scheduler = core_worker.cron_scheduler(app)
    [job] = [j for j in scheduler.get_jobs() if j.func is privacy.purge_job]
    assert job.cron == privacy.PURGE_CRON
    assert job.next_enqueue_time - utcnow() <= timedelta(days=1)
    job.next_enqueue_time = utcnow() - timedelta(seconds=1)  # its time has come
    assert scheduler.enqueue_jobs() == [job]

    saved = AppJob.flask_app
    try:
        core_worker.run_worker(app, burst=True, with_sweeper=False)
    finally:
        AppJob.flask_app = saved
    assert _contact(old) == ("", "", "", "", "", "")
    assert _contact(still_open)[1] == OLD


def test_export_then_erase_round_trip(app, city, tmp_path):
    mine_old, _ = _report("Erin@Example.org", 40, 30)
    mine_open, photo = _report("erin@example.org", 2, None)
    followed, _ = _report(RECENT, 3, None)
    db.session.add(
        RequestSubscriber(request_id=followed.id, email="ERIN@example.org", source="follow")
    )
    db.session.flush()
    runner = app.test_cli_runner()

    out = tmp_path / "erin.json"
    result = runner.invoke(
        args=["privacy", "export", "--email", " erin@example.org ", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert [r["id"] for r in data["requests"]] == [mine_old.id, mine_open.id]
    assert data["requests"][0]["contact"]["phone"] == "555-0111"
    assert data["requests"][0]["description"] == mine_old.description
    assert data["requests"][1]["photo_ids"] == [photo.id]
    assert data["requests"][1]["tracking_url"].endswith(f"/{mine_open.id}")
    assert [f["request_id"] for f in data["follows"]] == [followed.id]
    assert {m["event"] for m in data["messages"]} >= {"receipt", "closed"}
    print(
        f"export: {len(data['requests'])} requests, {len(data['follows'])} follows, "
        f"{len(data['messages'])} messages"
    )

    result = runner.invoke(args=["privacy", "erase", "--email", "erin@example.org", "--yes"])
    assert result.exit_code == 0, result.output
    assert "requests 2" in result.output and "follows 1" in result.output

    for sr in (mine_old, mine_open):
        assert _contact(sr) == ("", "", "", "", "", "")
        assert sr.status in ("closed", "new")  # the records stay
    assert not _original_exists(photo.stored_name)
    assert get_storage().exists(media.derivative_key(photo.stored_name, "display"))
    # the other reporter and the other follower of the followed request are untouched
    assert _contact(followed)[1] == RECENT
    left = db.session.scalars(
        select(RequestSubscriber.email).where(RequestSubscriber.request_id == followed.id)
    ).all()
    assert left == [FOLLOWER]
    assert not [
        r for r in db.session.scalars(select(Outbox)) if r.recipient.lower() == "erin@example.org"
    ]

    again = json.loads(
        runner.invoke(args=["privacy", "export", "--email", "erin@example.org"]).output
    )
    assert again["requests"] == again["follows"] == again["messages"] == []

    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.erase")).one()
    assert entry.target_id == f"hmac:{privacy.email_digest('erin@example.org')}"
    assert entry.after["requests"] == 2 and entry.after["follows"] == 1
    held = json.dumps([entry.target_id, entry.target_label, entry.before, entry.after])
    assert "erin" not in held.lower()
    # and the admins' audit page shows the erasure without the address
    client = app.test_client()
    sign_in(client, city.users["admin"])
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "privacy.erase" in page and entry.target_id in page
    assert "erin" not in page.lower()


def test_erase_needs_confirmation(app, city):
    sr, _ = _report("kim@example.org", 2, None)
    result = app.test_cli_runner().invoke(
        args=["privacy", "erase", "--email", "kim@example.org"], input="n\n"
    )
    assert result.exit_code != 0
    assert _contact(sr)[1] == "kim@example.org"
