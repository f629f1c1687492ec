"""A real S3-compatible server on loopback for the photo-store tests: moto's HTTP server.

moto_server speaks the S3 REST protocol over HTTP as MinIO or AWS do, so boto3 talks to it
exactly as it would in production; it runs as a separate process, like the store would.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import free_port

BIN = Path(sys.executable).parent
#: moto accepts any credentials; these are passed so that boto3 never looks for real ones
ACCESS_KEY = "city311-test"
SECRET_KEY = "city311-test-secret"
REGION = "us-east-1"


@contextmanager
def running_s3(log_path: Path) -> Iterator[str]:
    """Run moto_server on a free loopback port; yield its endpoint URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"moto_server exited with {proc.returncode}")
                try:
                    httpx.get(f"{url}/moto-api/", timeout=1)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("moto_server did not start") from None
                    time.sleep(0.2)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def settings(endpoint: str, bucket: str) -> dict[str, str]:
    """Return the MEDIA_* settings of a store in `bucket` on the server at `endpoint`."""
    return {
        "MEDIA_STORAGE": "s3",
        "MEDIA_S3_BUCKET": bucket,
        "MEDIA_S3_ENDPOINT_URL": endpoint,
        "MEDIA_S3_REGION": REGION,
        "MEDIA_S3_ACCESS_KEY_ID": ACCESS_KEY,
        "MEDIA_S3_SECRET_ACCESS_KEY": SECRET_KEY,
        "MEDIA_S3_PREFIX": "city311",
    }


def new_bucket(endpoint: str) -> str:
    """Create an empty bucket of a random name; return the name."""
    from app.media.storage import s3_client

    name = f"photos-{secrets.token_hex(6)}"
    s3_client(settings(endpoint, name)).create_bucket(Bucket=name)
    return name


def object_keys(endpoint: str, bucket: str) -> set[str]:
    """Return every key in the bucket."""
    from app.media.storage import s3_client

    client = s3_client(settings(endpoint, bucket))
    keys: set[str] = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys.update(item["Key"] for item in page.get("Contents", []))
    return keys
