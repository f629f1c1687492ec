"""Fixtures of the requests tests: the SQL statements a piece of code runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest
from flask import Flask
from sqlalchemy import event

from app.extensions import db


@pytest.fixture
def statements(db_session) -> Callable[[], AbstractContextManager[list[str]]]:
    """Return a context manager that collects the SQL sent to PostgreSQL while it is open.

    It listens on the engine (before_cursor_execute), so it sees every statement of the
    session, of the views and of the signal receivers, each as the one line it starts with.
    """
    engine = db.session.get_bind().engine

    @contextmanager
    def recording() -> Iterator[list[str]]:
        seen: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany) -> None:
            seen.append(statement.strip().splitlines()[0].strip())

        event.listen(engine, "before_cursor_execute", record)
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return recording


@pytest.fixture
def cold_catalogue(app: Flask) -> None:
    """Empty the catalogue cache: earlier tests' types, since rolled back, may be in it."""
    app.extensions.pop("city311_catalogue", None)
