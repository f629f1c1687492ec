"""Guards on the intake hot path: the SQL it runs, and the catalogue cache in front of it."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select, text

from app.core import limits
from app.core.errors import DomainError, OutsideJurisdiction
from app.extensions import db
from app.requests import service
from app.requests.models import ServiceRequest
from tests.factories import ANONYMOUS, WARD_1_POINT, new_request

# the first line of each statement, as the recorder keeps it
SAVEPOINT = "SAVEPOINT sa_savepoint_"
RELEASE = "RELEASE SAVEPOINT sa_savepoint_"
CATALOGUE_READ = "SELECT service_types.id, service_types.code"
INTAKE = "WITH input AS MATERIALIZED ("


def assert_statements(seen: list[str], expected: list[str]) -> None:
    assert len(seen) == len(expected), seen
    for line, start in zip(seen, expected, strict=True):
        assert line.startswith(start), (line, start)


#: a report that owes no receipt, so that the statements counted are intake's alone
ANONYMOUS_REPORT = new_request(**ANONYMOUS)


#: a resident's JSON report with an email (a receipt owed)
REPORT = {
    "service_code": "pothole",
    "description": "Deep pothole in the bike lane",
    "lat": WARD_1_POINT[0],
    "long": WARD_1_POINT[1],
    "email": "rita.reporter@example.org",
}


def requests_of(department_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(ServiceRequest)
        .where(ServiceRequest.department_id == department_id)
    )


def test_json_intake_with_an_email_runs_one_statement_in_its_transaction(
    client, city, statements, cold_catalogue
):
    body = REPORT
    assert client.post("/api/v1/requests", json=body).status_code == 201  # warms the cache
    with statements() as seen:
        resp = client.post("/api/v1/requests", json=body)
    assert resp.status_code == 201
    assert_statements(
        seen,
        [
            SAVEPOINT,  # the view's transaction begins (a savepoint inside the test's own)
            # the district lookup, the request, its 'created' event and the receipt owed to
            # the reporter (with the NOTIFY that wakes a worker at commit): one statement
            INTAKE,
            RELEASE,  # the view commits
        ],
    )


def test_a_warm_catalogue_does_not_read_service_types_again(city, statements, cold_catalogue):
    with statements() as cold:
        service.submit_request(ANONYMOUS_REPORT, channel="web")
    with statements() as warm:
        service.submit_request(ANONYMOUS_REPORT, channel="web")
    assert_statements(cold, [CATALOGUE_READ, INTAKE])
    assert_statements(warm, [INTAKE])


def test_a_type_moved_behind_the_caches_back_is_read_again_and_routed_right(
    city, statements, cold_catalogue
):
    assert service.submit_request(ANONYMOUS_REPORT, channel="web").department_code == "PWD"
    db.session.execute(
        text("UPDATE service_types SET department_id = :parks WHERE code = 'pothole'"),
        {"parks": city.parks.id},
    )
    public_works_before = requests_of(city.public_works.id)

    with statements() as seen:
        moved = service.submit_request(ANONYMOUS_REPORT, channel="web")
    # the cached department fails the intake statement's check, which stores nothing;
    # the type is read again and the request stored under its new department
    assert_statements(seen, [INTAKE, CATALOGUE_READ, INTAKE])
    assert (moved.department_code, moved.department_name) == ("PARKS", "Parks and Recreation")
    assert db.session.get(ServiceRequest, moved.id).department_id == city.parks.id
    assert requests_of(city.public_works.id) == public_works_before

    with statements() as seen:
        assert service.submit_request(ANONYMOUS_REPORT, channel="web").department_code == "PARKS"
    assert_statements(seen, [INTAKE])  # the cache now holds the new department


def test_a_type_deactivated_behind_the_caches_back_is_refused(city, statements, cold_catalogue):
    service.submit_request(ANONYMOUS_REPORT, channel="web")
    db.session.execute(text("UPDATE service_types SET active = false WHERE code = 'pothole'"))
    before = db.session.scalar(select(func.count()).select_from(ServiceRequest))

    with statements() as seen, pytest.raises(DomainError, match="Unknown service code"):
        service.submit_request(ANONYMOUS_REPORT, channel="web")
    assert_statements(seen, [INTAKE, CATALOGUE_READ])
    with statements() as seen, pytest.raises(DomainError, match="Unknown service code"):
        service.submit_request(ANONYMOUS_REPORT, channel="web")
    assert_statements(seen, [CATALOGUE_READ])  # the cache forgot the type
    assert db.session.scalar(select(func.count()).select_from(ServiceRequest)) == before


def test_the_intake_statement_owes_the_receipt_and_wakes_a_worker_at_commit(city):
    from app.notifications.models import Outbox
    from app.notifications.tasks import OUTBOX_CHANNEL
    from app.requests import companions

    texted = service.submit_request(
        new_request(email="rita@example.org", phone="617 555 0199", notify="both"),
        channel="web",
    )
    owed = db.session.execute(
        select(Outbox.channel, Outbox.recipient, Outbox.payload)
        .where(Outbox.request_id == texted.id)
        .order_by(Outbox.channel)
    ).all()
    assert [tuple(row) for row in owed] == [
        ("email", "rita@example.org", {"request_id": texted.id, "lang": "en"}),
        ("sms", "+16175550199", {"request_id": texted.id, "lang": "en"}),
    ]
    sql = str(companions.statement(lambda columns: "", "", "{extra}"))
    assert f"pg_notify('{OUTBOX_CHANNEL}', '')" in sql  # delivered when the commit is
    silent = service.submit_request(ANONYMOUS_REPORT, channel="web")
    assert db.session.scalar(select(func.count()).where(Outbox.request_id == silent.id)) == 0


def test_a_self_committing_intake_notifies_the_worker_once_per_window(
    city, db_session, monkeypatch
):
    """A POST's statement commits itself: it leaves its NOTIFY out for a moment after one.

    PostgreSQL serialises the commits that notify; the worker's trailing wake-up drains the
    reports committed without one (tests/core/test_wakeups.py, tests/notifications/
    test_wake_window.py).
    """
    from app.core import wakeups
    from app.notifications.tasks import OUTBOX_CHANNEL

    now = [1000.0]
    monkeypatch.setattr(wakeups.time, "monotonic", lambda: now[0])
    monkeypatch.setattr(wakeups, "_windows", {})
    engine = db_session.get_bind().engine
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().startswith(INTAKE):
            sent.append(statement)

    def notifies(**fields: str) -> bool:
        alone = fields.pop("alone", "yes") == "yes"
        sent.clear()
        service.submit_request(new_request(**fields), channel="open311", alone=alone)
        statement = sent[-1]  # (after a retry, when the catalogue cache was stale)
        return f"pg_notify('{OUTBOX_CHANNEL}', '')" in statement

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert not notifies(**ANONYMOUS), "no receipt owed, nothing to announce"
        assert notifies(email="first@example.org"), "the first receipt of the window"
        assert not notifies(email="second@example.org"), "within the window of the first"
        assert notifies(email="third@example.org", alone="no"), "its commit comes later"
        now[0] += wakeups.NOTIFY_EVERY_SECONDS * 1.01
        with pytest.raises(OutsideJurisdiction):
            service.submit_request(
                new_request(email="lost@example.org", point=(0.0, 0.0)),
                channel="open311",
                alone=True,
            )
        assert notifies(email="fourth@example.org"), "the claim of a refused report lapsed"
        assert not notifies(email="fifth@example.org")
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_json_intake_waits_on_no_redis_call_and_its_counts_go_in_one(app, client, city):
    """The anonymous report's limits are decided without a Redis call on the request thread.

    Its per-address and per-contact counts go to Redis in the background, one script call
    for all; the receipt's wake-up rides on the commit (NOTIFY), not on a Redis call.
    """
    import threading

    import redis

    body = {**REPORT, "phone": "617 555 0142"}
    assert client.post("/api/v1/requests", json=body).status_code == 201
    with app.app_context():
        limits.sync_counts()  # loads the script
    # (the background sync may send the next counts before this test asks: any thread's
    # calls are recorded, the request's own by its thread, which is this one)
    sent: list[tuple[bool, bytes]] = []
    original = redis.connection.Connection.send_packed_command
    here = threading.get_ident()
    posting = True

    def counted(self, command, check_health=True):
        packed = bytes(command[0] if isinstance(command, list | tuple) else command)
        sent.append((posting and threading.get_ident() == here, packed))
        return original(self, command, check_health)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(redis.connection.Connection, "send_packed_command", counted)
        assert client.post("/api/v1/requests", json=body).status_code == 201
        posting = False
        with app.app_context():
            limits.sync_counts()
    assert [packed for by_request, packed in sent if by_request] == []
    assert len(sent) == 1, sent
    words = sent[0][1].split(b"\r\n")  # RESP: *count, then $length and value for each word
    assert words[2] == b"EVALSHA"
    # its keys: the address (one window in the test config), the email and the phone
    assert words[6] == b"3"
