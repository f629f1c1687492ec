"""Where photo files live, behind one small interface.

Keys are relative, slash-separated names ("originals/ab/ab12…", "display/ab/ab12….jpg"). The
local-disk backend keeps them under MEDIA_ROOT; another backend (an object store for a city
that runs several web servers) implements the same five methods.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Protocol

from flask import current_app


class Storage(Protocol):
    def write(self, key: str, data: bytes) -> None:
        """Store data under key, all or nothing."""

    def exists(self, key: str) -> bool:
        """Tell whether key holds a file."""

    def delete(self, key: str) -> None:
        """Remove key; no error when it is already gone."""

    def local_path(self, key: str) -> Path:
        """Return a file path that can be opened or sent for key."""

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


def get_storage() -> Storage:
    """Return the storage backend MEDIA_STORAGE names (only "local" so far)."""
    kind = current_app.config.get("MEDIA_STORAGE", "local")
    if kind != "local":
        raise RuntimeError(f"MEDIA_STORAGE={kind!r} is not available; use 'local'.")
    return LocalStorage(Path(current_app.config["MEDIA_ROOT"]))
