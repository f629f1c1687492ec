"""A web process warms its pages before it takes traffic, storing and sending nothing."""

from __future__ import annotations

import gc

from sqlalchemy import text

from app.core import warmup
from app.extensions import db

#: every table a page could write to, if a warm-up ever wrote
WRITTEN = ("service_requests", "request_events", "outbox", "audit_entries", "idempotency_keys")


def counts() -> dict[str, int]:
    tables = [
        t
        for (t,) in db.session.execute(
            text("SELECT tablename FROM pg_tables WHERE tablename = ANY(:t)"),
            {"t": list(WRITTEN)},
        )
    ]
    return {t: db.session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}


def test_warm_renders_each_page_stores_nothing_and_freezes_what_it_made(app, db_session, city):
    before = counts()
    app.jinja_env.cache.clear()
    frozen = gc.get_freeze_count()
    try:
        statuses = warmup.warm(app)
        assert statuses == {path: 200 for path in warmup.PATHS}
        # the home page's template is compiled: the first resident does not wait for it
        assert any(name == "requests/form.html" for _, name in app.jinja_env.cache)
        assert gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()  # the rest of the test session keeps its garbage collected
    assert counts() == before
    assert len(before) == len(WRITTEN)  # the check saw every table it names


def test_a_page_that_answers_an_error_does_not_stop_the_others(app, db_session, city, monkeypatch):
    monkeypatch.setattr(warmup, "PATHS", ("/performance", "/no-such-page", "/"))
    try:
        statuses = warmup.warm(app)
    finally:
        gc.unfreeze()
    assert statuses == {"/performance": 200, "/no-such-page": 404, "/": 200}
