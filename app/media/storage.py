"""Where photo files live, behind one small interface.

Keys are relative, slash-separated names ("originals/ab/ab12…", "display/ab/ab12….jpg").
MEDIA_STORAGE chooses the backend:

- "local" (the default) keeps them under MEDIA_ROOT on this machine's disk;
- "s3" keeps them in a bucket of an S3-compatible object store (AWS S3, MinIO, Ceph, …), so
  that web processes and workers on different hosts share one photo store.

Nothing outside this module knows which one is in use: callers write, read and delete bytes
by key, never a file path.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from flask import Flask, current_app

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

BACKENDS = ("local", "s3")
#: the settings an "s3" store needs, and those it may have (see README, "Photo storage")
S3_REQUIRED = ("MEDIA_S3_BUCKET",)
S3_SETTINGS = (
    "MEDIA_S3_BUCKET",
    "MEDIA_S3_ENDPOINT_URL",
    "MEDIA_S3_REGION",
    "MEDIA_S3_ACCESS_KEY_ID",
    "MEDIA_S3_SECRET_ACCESS_KEY",
    "MEDIA_S3_PREFIX",
)


class StorageUnavailable(OSError):
    """The photo store did not answer, or refused: try again later."""


class Storage(Protocol):
    def write(self, key: str, data: bytes) -> None:
        """Store data under key, all or nothing."""

    def read(self, key: str) -> bytes | None:
        """Return what key holds; None when it holds nothing."""

    def exists(self, key: str) -> bool:
        """Tell whether key holds a file."""

    def delete(self, key: str) -> None:
        """Remove key; no error when it is already gone."""

    def older_than(self, prefix: str, cutoff: datetime) -> Iterator[str]:
        """Yield the keys under prefix last written before cutoff."""


class LocalStorage:
    """Files on a local (or shared) disk under one root folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def local_path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        # keys are made by us, but a path outside the root must never be read or deleted
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"media key {key!r} leaves the media root")
        return path

    def write(self, key: str, data: bytes) -> None:
        path = self.local_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)  # never a half-written file under the real name

    def read(self, key: str) -> bytes | None:
        try:
            return self.local_path(key).read_bytes()
        except FileNotFoundError:
            return None

    def exists(self, key: str) -> bool:
        return self.local_path(key).exists()

    def delete(self, key: str) -> None:
        self.local_path(key).unlink(missing_ok=True)

    def older_than(self, prefix: str, cutoff: datetime) -> Iterator[str]:
        base = self.local_path(prefix)
        if not base.is_dir():
            return
        limit = cutoff.timestamp()
        for path in base.rglob("*"):
            try:
                if path.is_file() and path.stat().st_mtime < limit:
                    yield path.relative_to(self.root.resolve()).as_posix()
            except FileNotFoundError:  # deleted meanwhile by another worker
                continue


class S3Storage:
    """Objects in one bucket of an S3-compatible store, optionally under a key prefix.

    A PUT is atomic in S3: readers see the whole new object or none, never part of it, so
    no temporary name is needed as on a disk.
    """

    def __init__(self, client: S3Client, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _key(self, key: str) -> str:
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"media key {key!r} leaves the media prefix")
        return self.prefix + key

    @contextmanager
    def _answer(self, key: str) -> Iterator[None]:
        """Turn the store's failures into StorageUnavailable, as a disk's are OSErrors."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as exc:
            raise StorageUnavailable(f"photo store, {key}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(f"photo store unreachable, {key}: {exc}") from exc

    def _missing(self, exc: Exception) -> bool:
        cause = exc.__cause__
        error = getattr(cause, "response", {}).get("Error", {})
        return str(error.get("Code", "")) in ("404", "NoSuchKey", "NotFound")

    def write(self, key: str, data: bytes) -> None:
        with self._answer(key):
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def read(self, key: str) -> bytes | None:
        try:
            with self._answer(key):
                answer = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
                return answer["Body"].read()
        except StorageUnavailable as exc:
            if self._missing(exc):
                return None
            raise

    def exists(self, key: str) -> bool:
        try:
            with self._answer(key):
                self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except StorageUnavailable as exc:
            if self._missing(exc):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        # S3 answers 204 whether or not the key existed
        with self._answer(key):
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def older_than(self, prefix: str, cutoff: datetime) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self._key(prefix.rstrip("/") + "/")
        )
        with self._answer(prefix):
            for page in pages:
                for item in page.get("Contents", []):
                    if item["LastModified"] < cutoff:
                        yield item["Key"][len(self.prefix) :]


def s3_client(config: dict[str, Any]) -> S3Client:
    """Make a boto3 S3 client from the MEDIA_S3_* settings.

    Without an access key the standard AWS chain applies (AWS_* variables, the instance's
    role), as on a server in the cloud that is granted the bucket.
    """
    import boto3
    from botocore.config import Config

    endpoint = config.get("MEDIA_S3_ENDPOINT_URL")
    settings = Config(
        connect_timeout=5,
        read_timeout=30,
        retries={"max_attempts": 4, "mode": "standard"},
        # MinIO, Ceph and most self-hosted stores serve buckets by path, not by host name
        s3={"addressing_style": "path" if endpoint else "auto"},
    )
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=config.get("MEDIA_S3_REGION") or None,
        aws_access_key_id=config.get("MEDIA_S3_ACCESS_KEY_ID") or None,
        aws_secret_access_key=config.get("MEDIA_S3_SECRET_ACCESS_KEY") or None,
        config=settings,
    )


def check_settings(app: Flask) -> None:
    """Refuse to start with an unknown backend or an s3 store with no bucket.

    :raises RuntimeError: what to set instead.
    """
    kind = app.config.get("MEDIA_STORAGE", "local")
    if kind not in BACKENDS:
        raise RuntimeError(f"MEDIA_STORAGE={kind!r} is unknown; use one of {', '.join(BACKENDS)}.")
    if kind == "s3":
        missing = [name for name in S3_REQUIRED if not app.config.get(name)]
        if missing:
            raise RuntimeError(f"MEDIA_STORAGE=s3 needs {', '.join(missing)}.")


def get_storage() -> Storage:
    """Return the storage backend MEDIA_STORAGE names.

    The S3 client is made once per app and set of settings: making one costs tens of
    milliseconds, and a client is safe to share between threads.
    """
    config = current_app.config
    kind = config.get("MEDIA_STORAGE", "local")
    if kind == "local":
        return LocalStorage(Path(config["MEDIA_ROOT"]))
    if kind != "s3":
        raise RuntimeError(f"MEDIA_STORAGE={kind!r} is unknown; use one of {', '.join(BACKENDS)}.")
    settings = tuple(config.get(name) for name in S3_SETTINGS)
    clients: dict[tuple[Any, ...], S3Client] = current_app.extensions.setdefault("media_s3", {})
    client = clients.get(settings)
    if client is None:
        client = clients[settings] = s3_client(dict(config))
    return S3Storage(client, config["MEDIA_S3_BUCKET"], config.get("MEDIA_S3_PREFIX") or "")
