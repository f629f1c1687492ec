"""Jobs the worker tests enqueue: importable by a worker process started from the repository."""

from __future__ import annotations

from app.core.queue import state


def mark(key: str) -> None:
    """Set a Redis key, so a test can see the job ran."""
    state().redis.set(key, "done", ex=60)
