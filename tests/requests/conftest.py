"""Fixtures of the requests tests: a cold catalogue cache."""

from __future__ import annotations

import pytest
from flask import Flask


@pytest.fixture
def cold_catalogue(app: Flask) -> None:
    """Empty the catalogue cache: earlier tests' types, since rolled back, may be in it."""
    app.extensions.pop("city311_catalogue", None)
