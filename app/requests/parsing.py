"""Read what people type into the shapes the domain wants: coordinates and question answers.

The HTML forms, the JSON API and the Open311 adapter read the same inputs; they read them
here, so that one input means one thing, with one message, whichever way it came in.
"""

from __future__ import annotations

import math
import re
from typing import Any

from werkzeug.datastructures import MultiDict

from app.core.errors import DomainError

#: the messages about a coordinate; {name} is the field as the reader knows it
COORDINATE_MESSAGES = {
    "invalid": "{name} must be a number in decimal degrees.",
    "required": "{name} is required: give the location in decimal degrees.",
    "special": "{name} must be a finite number in decimal degrees.",
    "null": "{name} must be a number in decimal degrees, not null.",
}

_ATTRIBUTE_KEY = re.compile(r"attribute\[([^\]]+)\](\[\])?")


class CoordinateError(DomainError):
    """A latitude or longitude that is not a finite number; `kind` keys COORDINATE_MESSAGES."""

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(COORDINATE_MESSAGES[kind].format(name=name), field=name)
        self.kind = kind


def parse_coordinate(raw: object, name: str) -> float | None:
    """Return a latitude or longitude in decimal degrees, or None when none was given.

    `raw` is text from a form or a JSON value; blank text is no value. Range is not checked
    here: intake.check_location says which bound was crossed.

    :raises CoordinateError: not a number (a word, true/false, a list) or not finite.
    """
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = raw.strip()
        if not raw:
            return None
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise CoordinateError("invalid", name)
    try:
        value = float(raw)
    except (ValueError, OverflowError):
        raise CoordinateError("invalid", name) from None
    if not math.isfinite(value):
        raise CoordinateError("special", name)
    return value


def parse_attribute_fields(values: MultiDict[str, str]) -> dict[str, Any]:
    """Collect the answers posted as attribute[CODE] and attribute[CODE][] form fields.

    Blank values are dropped. `attribute[CODE][]` always gives a list (empty when nothing
    was ticked); a plain `attribute[CODE]` gives its one value, "" when it was left blank,
    and a list when it was given several non-blank values. Both spellings of one code add
    up to one list. Other fields are ignored.
    """
    answers: dict[str, Any] = {}
    for key in values:
        match = _ATTRIBUTE_KEY.fullmatch(key)
        if not match:
            continue
        code, is_list = match.group(1), bool(match.group(2))
        given = [v for v in values.getlist(key) if v.strip()]
        before = answers.get(code)
        if is_list or len(given) > 1 or (given and before not in (None, "")):
            earlier = [] if before in (None, "") else before
            answers[code] = (earlier if isinstance(earlier, list) else [earlier]) + given
        elif given:
            answers[code] = given[0]
        else:
            answers.setdefault(code, "")  # an optional answer left blank
    return answers
