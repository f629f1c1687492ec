"""SQL fragments that make PostgreSQL write GeoReport values exactly as formats.py would.

A 1,000-row page serialised in Python (a Row, a dict, a timezone conversion and a text check
per value, then json.dumps) cost about 35 ms of CPU; PostgreSQL writes the same JSON in a
few milliseconds and the view sends its text as the body. These fragments are the SQL twins
of formats.w3c_datetime and formats.same_text, so both paths publish the same text.

Every fragment takes a column reference (it may be repeated): give them columns, not
subqueries.
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app

#: characters formats.same_text changes (control characters, the two non-characters, CR),
#: written as PostgreSQL regular expression escapes. NUL cannot be in PostgreSQL text.
_CHANGED = r"[\x01-\x08\x0b-\x1f\uFFFE\uFFFF]"
#: what XML 1.0 cannot carry, removed once CR LF and CR are LF
_ILLEGAL = r"[\x01-\x08\x0b\x0c\x0e-\x1f\uFFFE\uFFFF]"


def clean(expr: str, *, dirty: str | None = None) -> str:
    """Return SQL for `expr` (text) with its line ends and characters as XML can carry them.

    The test comes first: nearly every value is clean, and a match is cheaper than a rewrite.
    `dirty` is a boolean expression that already tested this value with others (needs_cleaning).
    """
    test = dirty or f"{expr} ~ '{_CHANGED}'"
    return (
        f"CASE WHEN {test} THEN regexp_replace(replace(replace({expr},"
        f" E'\\r\\n', E'\\n'), E'\\r', E'\\n'), '{_ILLEGAL}', '', 'g') ELSE {expr} END"
    )


def needs_cleaning(*exprs: str) -> str:
    """Return SQL that is true when any of the text values would change under clean().

    One test of their concatenation costs a seventh of seven tests.
    """
    return f"concat({', '.join(exprs)}) ~ '{_CHANGED}'"


def w3c(expr: str) -> str:
    """Return SQL for a timestamptz as a W3C datetime in the city's time, whole seconds.

    TZH:TZM is the session's offset at that moment: the statement runs after
    set_city_timezone(), so it is the city's, as formats.w3c_datetime writes it.
    """
    return f"to_char({expr}, 'YYYY-MM-DD\"T\"HH24:MI:SSTZH:TZM')"


def set_city_timezone() -> str:
    """Return the SQL that sets the city's timezone for the rest of the transaction only.

    Local to the transaction, so nothing after the request (nor another request on the
    pooled connection) sees it.
    """
    return "SELECT set_config('TimeZone', :tz, true)"


def timezone_params() -> dict[str, Any]:
    return {"tz": current_app.config["CITY_TIMEZONE"]}


def jsonb_param(value: dict[str, Any]) -> str:
    """Return a mapping as the text of a jsonb parameter (lookups with ->>)."""
    return json.dumps(value, ensure_ascii=False)


def rounded(expr: str, digits: int) -> str:
    """Return SQL for a double rounded as Python's round(value, digits) rounds it.

    On the double itself: a numeric round trip costs several times more, and the two differ
    only on a value that is a tie to within the double's last bit.
    """
    scale = f"1e{digits}::float8"
    return f"(round({expr} * {scale}) / {scale})"


def photo_url_sql(id_expr: str) -> str:
    """Return SQL for queries.photo_url of a photo id (:base is PUBLIC_BASE_URL)."""
    return f"(:base || '/photos/' || {id_expr} || '/display.jpg')"


def as_json_array(item_sql: str, order_sql: str) -> str:
    """Return SQL aggregating compact JSON objects, in order, into the text of one array."""
    return f"'[' || coalesce(string_agg({item_sql}, ',' ORDER BY {order_sql}), '') || ']'"
