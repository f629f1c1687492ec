"""Guards against hostile input, in one place, before any view reads it.

PostgreSQL refuses NUL bytes in text and numbers beyond its integer types, Python's
datetime overflows at the ends of the calendar, and a multipart part without a name
breaks every reader of the form (CSRF included). Each gets a 400 that says what is wrong,
never a 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask import Flask, request
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter, Map

from app.core.errors import DomainError
from app.extensions import db

#: the largest id a bigint column holds
INT8_MAX = 2**63 - 1
#: the calendar the city's data lives in: wide enough for any report, far from overflow
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
#: what the form parser names a part sent without a name
_NAMELESS = None


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` bounded to bigint: a larger id is no such page (404), not a database error."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", INT8_MAX)
        super().__init__(map, *args, **kwargs)


def check_moment(name: str, moment: datetime) -> datetime:
    """Return `moment` if it lies between 1900 and 2200.

    :raises DomainError: a date outside that range (400).
    """
    if not EARLIEST <= moment < LATEST:
        raise DomainError(
            f"{name} must be a date between {EARLIEST.year} and {LATEST.year - 1}.", field=name
        )
    return moment


def moment_in_range(moment: datetime) -> bool:
    """Validate a marshmallow datetime field: between 1900 and 2200."""
    if not EARLIEST <= moment < LATEST:
        raise ValidationError(f"Give a date between {EARLIEST.year} and {LATEST.year - 1}.")
    return True


def _strings(value: Any) -> Iterator[str]:
    """Yield every string in a decoded JSON document, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _has_nul(values: Iterator[str]) -> bool:
    return any("\x00" in v for v in values)


def guard_request() -> None:
    """Refuse NUL bytes in any text and multipart parts without a name, with a 400."""
    if "\x00" in request.path or _has_nul(
        s for key, values in request.args.lists() for s in (key, *values)
    ):
        raise DomainError("The address contains a NUL byte (%00); remove it.")
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        try:
            request.form  # noqa: B018  (parses the body once; the views read it parsed)
        except RequestEntityTooLarge:
            return  # each view answers an oversized upload in its own way
        if _NAMELESS in request.form or _NAMELESS in request.files:
            raise DomainError(
                "A part of the multipart form has no name: give each part "
                'Content-Disposition: form-data; name="…".'
            )
        if _has_nul(s for key, values in request.form.lists() for s in (key, *values)):
            raise DomainError("A form field contains a NUL byte; remove it.")
    elif request.is_json:
        body = request.get_json(silent=True)
        if _has_nul(_strings(body)):
            raise DomainError("A JSON string contains a NUL byte (\\u0000); remove it.")


def init_app(app: Flask) -> None:
    """Install the id converter, the request guard and the last-resort 400 handlers.

    Called before any blueprint is registered (so `<int:…>` is bounded everywhere) and
    before CSRFProtect (so its check never reads a nameless part).
    """
    app.url_map.converters["int"] = BoundedIntConverter
    app.before_request(guard_request)

    @app.errorhandler(DataError)
    def _data_error(err: DataError) -> ResponseReturnValue:
        # a value PostgreSQL cannot store (a number beyond its integers): the client's doing
        db.session.rollback()
        return app.handle_user_exception(
            DomainError(
                "A value is out of range: numbers must fit in 64 bits (ids in 32 for "
                "crews and users) and text may not contain NUL bytes."
            )
        )

    @app.errorhandler(OverflowError)
    def _overflow(err: OverflowError) -> ResponseReturnValue:
        return app.handle_user_exception(
            DomainError(
                f"A date or number is out of range: give dates between {EARLIEST.year} "
                f"and {LATEST.year - 1}."
            )
        )
