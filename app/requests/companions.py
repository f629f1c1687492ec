"""Writes owed with every new request, made by the intake statement itself.

Intake is the hottest path of the system and one SQL statement. A feature above requests
that owes something for each new request (notifications: the reporter's receipt) registers
a companion instead of writing its row in a second statement: the intake statement grows a
CTE of its own, so that accepting a request stays one round trip before the commit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from sqlalchemy import TextClause, text

_COMPANIONS = "city311_intake_companions"
_STATEMENT = "city311_intake_statement"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Submission:
    """What intake tells the features above it about a request it stores."""

    channel: str
    #: the reporter's email and phone, each only if they chose to hear that way
    reporter_email: str
    reporter_phone: str
    language: str


@dataclass(frozen=True)
class Companion:
    """A data-modifying CTE of the intake statement, run after the request's own writes.

    `cte` is the body of a CTE called `name`: it may read the CTE `sr` (the new request's
    `id`) and the statement's parameters, and RETURNs a row for each row it writes.
    `params` gives its own parameters (their names start with `name`). With
    `notify_channel`, each row it writes sends a NOTIFY on that channel, which PostgreSQL
    delivers when the transaction commits: a wake-up that rides on the commit.
    """

    name: str
    cte: str
    params: Callable[[Submission], dict[str, Any]]
    notify_channel: str = ""


def add_companion(app: Flask, companion: Companion) -> None:
    """Have every intake statement of `app` make `companion`'s writes too."""
    for word in (companion.name, companion.notify_channel or "x"):
        if not _NAME.match(word):  # both are spliced into SQL
            raise ValueError(f"not a plain SQL name: {word!r}")
    app.extensions.setdefault(_COMPANIONS, []).append(companion)
    app.extensions.pop(_STATEMENT, None)


def registered() -> list[Companion]:
    """Return the current app's companions, in the order they were added."""
    return current_app.extensions.get(_COMPANIONS, [])


def statement(ctes: str, select: str) -> TextClause:
    """Return the app's intake statement: `ctes`, each companion's CTE, then `select`.

    `select` has an `{extra}` slot for the columns that make the companions' NOTIFYs run
    (a SELECT CTE runs only when read); the statement is built once per app.
    """
    built = current_app.extensions.get(_STATEMENT)
    if built is None:
        parts, columns = [ctes], []
        for c in registered():
            parts.append(f", {c.name} AS (\n{c.cte}\n)")
            wake = f", LATERAL pg_notify('{c.notify_channel}', '') AS w" if c.notify_channel else ""
            columns.append(f",\n           (SELECT count(*) FROM {c.name}{wake}) AS {c.name}")
        built = current_app.extensions[_STATEMENT] = text(
            "".join(parts) + select.format(extra="".join(columns))
        )
    return built
