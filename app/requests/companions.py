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

from app.core import wakeups

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

    `cte` is the body of a CTE called `name`: it may read the CTEs `located` (a row per new
    request: its `id` and its input columns, the companion's own among them) and `sr` (the
    ids stored), and RETURNs a row for each row it writes. `columns` declares its own input
    columns with their SQL types ("receipt_email text, ..."; their names start with
    `name`), and `params` gives their values for a request. With
    `notify_channel`, each row it writes sends a NOTIFY on that channel, which PostgreSQL
    delivers when the transaction commits: a wake-up that rides on the commit (see Wake).
    """

    name: str
    cte: str
    columns: str
    params: Callable[[Submission], dict[str, Any]]
    notify_channel: str = ""
    #: whether the CTE writes a row (and so notifies) with these parameters of the statement
    owes: Callable[[dict[str, Any]], bool] = lambda params: True


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


def statement(
    ctes: Callable[[str], str], columns: str, select: str, *, wake: bool = True
) -> TextClause:
    """Return the app's intake statement: `ctes`, each companion's CTE, then `select`.

    `ctes` is given the input columns: `columns` and every companion's. `select` has an
    `{extra}` slot for one column per companion: the count of the rows it wrote, and with
    `wake`, a NOTIFY on its channel (a SELECT runs only when read). Each of the two
    statements is built once per app.
    """
    built = current_app.extensions.setdefault(_STATEMENT, {})
    if wake not in built:
        every = ", ".join([columns, *(c.columns for c in registered())])
        parts, extra = [ctes(every)], []
        for c in registered():
            parts.append(f", {c.name} AS (\n{c.cte}\n)")
            notify = c.notify_channel and wake
            lateral = f", LATERAL pg_notify('{c.notify_channel}', '') AS w" if notify else ""
            extra.append(f",\n           (SELECT count(*) FROM {c.name}{lateral}) AS {c.name}")
        built[wake] = text("".join(parts) + select.format(extra="".join(extra)))
    statement: TextClause = built[wake]
    return statement


class Wake:
    """Whether an intake statement sends its companions' NOTIFYs, and what that claimed.

    A statement inside a longer transaction always sends them, since its commit comes later.
    One that commits itself (`alone`) sends them only as the first of its process's window
    (wakeups.claim): PostgreSQL serialises the commits that notify, and the worker's
    wake-up after that notification drains the rows of the window's other statements. (One
    run `alone` that finds a transaction open, an idempotency key's, notifies when that
    commits, a moment later; should that commit fail, the window's other rows wait for the
    sweep.)
    """

    def __init__(self, alone: bool, params: dict[str, Any]) -> None:
        #: the channels this statement claimed, and so must notify once it is stored
        self.claimed = (
            [
                c.notify_channel
                for c in registered()
                if c.notify_channel and c.owes(params) and wakeups.claim(c.notify_channel)
            ]
            if alone
            else []
        )
        self.sends = not alone or bool(self.claimed)

    def __enter__(self) -> Wake:
        return self

    def stored(self) -> None:
        """The statement stored its rows, and with them the NOTIFYs it claimed."""
        self.claimed = []

    def __exit__(self, *exc: object) -> None:
        # failed, or stored nothing (outside the city): the claims sent no notification
        for channel in self.claimed:
            wakeups.release(channel)
