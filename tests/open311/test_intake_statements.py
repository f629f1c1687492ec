"""The SQL an Open311 POST costs: intake is the hottest path, so its round trips are counted."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, select

from app.extensions import db
from app.notifications.models import Outbox
from app.open311 import keys
from tests.factories import WARD_1_POINT, make_service_type
from tests.open311.conftest import BASE

#: transaction control the test harness adds: its commits are savepoint releases (see
#: tests/conftest.py). In production the driver's BEGIN and COMMIT take their place, and
#: SQLAlchemy's cursor events see neither, so they are left out of the counts below.
HARNESS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")

#: what each statement of the POST is, told by the table it works on; the first match names
#: it, since the intake statement also reads service_types (to re-check a cached entry)
KINDS = (
    ("open311_api_keys", "api key"),  # checked, and its use noted, in one statement
    # district, insert, 'created' event and the receipt owed to the reporter, in one
    ("INSERT INTO service_requests", "intake"),
    ("INSERT INTO outbox", "receipt"),  # a receipt written apart (it must not be)
    ("FROM service_types", "catalogue"),  # the service type as intake needs it
)


def kind(statement: str) -> str:
    """Name a statement by what it does; an unexpected one is returned whole, to be read."""
    return next((name for marker, name in KINDS if marker in statement), statement)


@contextmanager
def statements() -> Iterator[list[str]]:
    """Collect the kinds of the SQL statements sent by any connection of the app's engine."""
    engine = db.session.get_bind().engine
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if not statement.lstrip().upper().startswith(HARNESS):
            seen.append(kind(" ".join(statement.split())))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_post_costs_one_statement_each_for_key_and_intake_with_its_receipt(client, city):
    # a code no earlier test can have put in this process's catalogue cache
    code = f"count-{secrets.token_hex(4)}"
    make_service_type(code, city.public_works)
    _, first_key = keys.create_key("First client")
    _, second_key = keys.create_key("Second client")
    form = {
        "service_code": code,
        # without a description intake reads the service's name for one: a statement more
        "description": "Deep hole by the curb",
        "lat": str(WARD_1_POINT[0]),
        "long": str(WARD_1_POINT[1]),
        "email": "rosa.quarrington@example.org",  # so a receipt is owed
    }

    def post(key: str) -> list[str]:
        with statements() as seen:
            resp = client.post(f"{BASE}/requests.json", data={**form, "api_key": key})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
        request_id = int(resp.get_json()[0]["service_request_id"])
        receipt = db.session.scalar(select(Outbox).where(Outbox.request_id == request_id))
        assert (receipt.event, receipt.recipient) == ("receipt", form["email"])
        return seen

    # Cold: neither the key nor the service type is cached yet. The catalogue lookup is the
    # one statement a cold cache adds; intake is then spared it for CATALOGUE_CACHE_SECONDS.
    assert post(first_key) == ["api key", "catalogue", "intake"]

    # Catalogue warm, a key this process has not checked yet: a client's usual POST.
    assert post(second_key) == ["api key", "intake"]

    # Both warm: a key checked within OPEN311_KEY_CACHE_SECONDS is not looked up again.
    assert post(second_key) == ["intake"]
