"""Jobs the worker tests enqueue: importable by a worker process started from the repository."""

from __future__ import annotations

from app.core.queue import state


def mark(key: str) -> None:
    """Set a Redis key, so a test can see the job ran."""
    state().redis.set(key, "done", ex=60)


def slow_touch(path: str, seconds: float) -> None:
    """Write `path`.started, wait, then write `path`: a busy job whose end a test can see."""
    import time
    from pathlib import Path

    Path(f"{path}.started").write_text("started")
    time.sleep(seconds)
    Path(path).write_text("done")


def touch(path: str) -> None:
    """Write a file, so a test can see the job ran without asking Redis."""
    from pathlib import Path

    Path(path).write_text("done")


def note(key: str, name: str) -> None:
    """Append `name` to a Redis list: the order the worker ran the jobs in."""
    state().redis.rpush(key, name)
    state().redis.expire(key, 60)
