"""The admin tests commit the test city: the admin pages roll back a refused change, and
that rollback must not take the city (only flushed) with it."""

from __future__ import annotations

import pytest

from app.extensions import db
from tests import factories


@pytest.fixture
def city(db_session) -> factories.City:
    built = factories.make_city()
    db.session.commit()  # a savepoint release: the test's outer transaction still ends it
    return built
