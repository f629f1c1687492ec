"""Photos through a stack whose store is an S3 server: gunicorn and the worker share only it.

MEDIA_ROOT points at an empty folder that must stay empty: with MEDIA_STORAGE=s3 nothing of
the upload, the derivative job, the public copy or the closure email's attachment may need a
local disk, since a city's web servers and workers run on different hosts.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests import s3server
from tests.e2e.conftest import LiveStack, running_stack, token_for
from tests.e2e.test_loop import _attachments, _wait_for_mail
from tests.factories import WARD_2_POINT, jpeg_bytes

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def s3_stack(smtp_server, tmp_path_factory) -> Iterator[tuple[LiveStack, dict[str, str], Path]]:
    logs = tmp_path_factory.mktemp("e2e-s3")
    with s3server.running_s3(logs / "moto.log") as endpoint:
        settings = s3server.settings(endpoint, s3server.new_bucket(endpoint))
        empty = tmp_path_factory.mktemp("e2e-s3-no-disk")
        with running_stack(
            smtp_server, tmp_path_factory, {**settings, "MEDIA_ROOT": str(empty)}
        ) as stack:
            yield stack, settings, empty


def _wait_for_copy(http: httpx.Client, url: str, stack: LiveStack, timeout: float = 30) -> bytes:
    """Fetch a public copy once the worker has made it (until then: a placeholder redirect)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        resp = http.get(url)
        if resp.status_code == 200:
            assert resp.headers["content-type"] == "image/jpeg"
            cache = resp.headers["cache-control"]
            assert "public" in cache and "max-age=86400" in cache
            return resp.content
        assert resp.status_code == 302, resp.text
        time.sleep(0.3)
    raise AssertionError(f"{url} was never made\n{stack.logs()}")


def test_upload_derivatives_public_copy_and_closure_photo_on_s3(s3_stack, mailbox):
    stack, settings, empty = s3_stack
    resident = "s3.resident@example.org"
    report = jpeg_bytes((2000, 1500), gps=True)

    with stack.client() as http:
        resp = http.post(
            "/api/v1/requests",
            data={
                "service_code": "pothole",
                "description": "Pothole by the library",
                "lat": str(WARD_2_POINT[0]),
                "long": str(WARD_2_POINT[1]),
                "email": resident,
            },
            files={"photo": ("pothole.jpg", report, "image/jpeg")},
        )
        assert resp.status_code == 201, resp.text
        request_id = resp.json()["id"]
        display = _wait_for_copy(http, resp.json()["photo_url"], stack)
    with Image.open(io.BytesIO(display)) as img:
        assert img.format == "JPEG" and max(img.size) == 1600 and not img.getexif()

    keys = s3server.object_keys(settings["MEDIA_S3_ENDPOINT_URL"], settings["MEDIA_S3_BUCKET"])
    assert {k.split("/")[1] for k in keys} == {"originals", "display", "thumb"}

    # the dispatcher of the department reads the original as uploaded, from the same store
    dispatcher = token_for(stack, "dispatcher@city.test")
    with stack.client(dispatcher) as http:
        detail = http.get(f"/api/v1/requests/{request_id}").json()
        photo_id = detail["photos"][0]["id"]
        original = http.get(f"/staff/photos/{photo_id}/original")
        assert original.status_code == 200, original.text
        assert original.content == report
        assert "no-store" in original.headers["cache-control"]
        resp = http.post(
            "/api/v1/workorders",
            json={"request_ids": [request_id], "crew_id": stack.city["crew_a"]},
        )
        assert resp.status_code == 201, resp.text
        work_order_id = resp.json()["id"]

    crew = token_for(stack, "crew.a@city.test")
    with stack.client(crew) as http:
        resp = http.post(
            f"/api/v1/workorders/{work_order_id}/complete",
            data={"note": "Patched."},
            files={"photo": ("done.jpg", jpeg_bytes((1200, 900), "gray"), "image/jpeg")},
        )
        assert resp.status_code == 200, resp.text
        completion_url = resp.json()["photo_url"]

    done = _wait_for_mail(mailbox, resident, "fixed")
    [attachment] = _attachments(done)
    sent = attachment.get_payload(decode=True)
    with stack.client() as http:
        assert sent == _wait_for_copy(http, completion_url, stack)
    assert not [p for p in empty.rglob("*") if p.is_file()], "a file was written to local disk"
