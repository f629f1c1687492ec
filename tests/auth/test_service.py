"""Signing in does not tell, by how long it takes, whether an email has an account."""

from __future__ import annotations

import statistics
import time

import pytest

from app.auth import service
from tests import factories


@pytest.fixture
def scrypt(app):
    """Hash with production's method (the test config uses a cheap one)."""
    saved = app.config["PASSWORD_HASH_METHOD"]
    app.config["PASSWORD_HASH_METHOD"] = "scrypt"
    yield
    app.config["PASSWORD_HASH_METHOD"] = saved


def _seconds(email: str) -> float:
    started = time.perf_counter()
    assert service.authenticate(email, "not the password") is None
    return time.perf_counter() - started


def test_an_unknown_email_costs_as_much_as_a_wrong_password(db_session, scrypt):
    factories.make_user("known@city.test", "agent")  # hashed with scrypt
    service.authenticate("ghost@city.test", "warm-up")  # the dummy hash is made once, lazily
    # interleaved, so that a busy moment of the machine slows both alike
    pairs = [(_seconds("known@city.test"), _seconds("ghost@city.test")) for _ in range(5)]
    known = statistics.median(k for k, _ in pairs)
    unknown = statistics.median(u for _, u in pairs)
    # Both run the same scrypt check; a cheaper dummy hash would take a few percent of it.
    assert unknown > 0.5 * known, (known, unknown)
    assert known > 0.5 * unknown, (known, unknown)
