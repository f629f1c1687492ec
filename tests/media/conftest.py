"""Fixtures of the photo tests: the photo store, on the local disk and on an S3 server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests import s3server


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory) -> Iterator[str]:
    """The endpoint URL of an S3-compatible server on loopback, for the whole session."""
    with s3server.running_s3(tmp_path_factory.mktemp("s3") / "moto.log") as url:
        yield url


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, app: Flask, tmp_path: Path) -> Iterator[str]:
    """Run the test against each backend, empty: MEDIA_STORAGE=local in a fresh folder, then
    s3 in a fresh bucket (with MEDIA_ROOT still set, to show that nothing is written there)."""
    if request.param == "local":
        new = {"MEDIA_ROOT": str(tmp_path / "media")}
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        new = s3server.settings(endpoint, s3server.new_bucket(endpoint))
    saved = {name: app.config.get(name) for name in new}
    app.config.update(new)
    try:
        yield request.param
    finally:
        app.config.update(saved)
