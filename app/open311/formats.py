"""GeoReport v2 wire formats: XML and JSON by the Spark convention.

Spark: JSON drops the root element and turns every container of repeated children into an
array, even of one; XML wraps each array item in the singular of its container's name.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

from flask import Response

from app.core.clock import to_city_time

FORMATS = ("xml", "json")
CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}

#: XML element name of the items of each list (open311-adapter's Spark singulars)
SINGULAR = {
    "service_requests": "request",
    "service_request_updates": "request_update",
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "notes": "note",
    "media_urls": "media_url",
}

# XML 1.0 cannot carry most control characters, even escaped; clients' text may contain them
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
#: what same_text changes: those, and carriage returns
_TO_CLEAN = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]")


def w3c_datetime(moment: datetime | None) -> str | None:
    """Return a W3C datetime in the city's timezone, with its offset and whole seconds."""
    if moment is None:
        return None
    return to_city_time(moment.replace(microsecond=0)).isoformat()


def _scalar(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return _XML_ILLEGAL.sub("", escape(str(value)))


def _element(name: str, value: Any, out: list[str]) -> None:
    if value is None or value == "" or value == [] or value == {}:
        out.append(f"<{name}/>")
    elif isinstance(value, dict):
        out.append(f"<{name}>")
        for key, item in value.items():
            _element(key, item, out)
        out.append(f"</{name}>")
    elif isinstance(value, list | tuple):
        item_name = SINGULAR.get(name, name.removesuffix("s"))
        out.append(f"<{name}>")
        for item in value:
            _element(item_name, item, out)
        out.append(f"</{name}>")
    else:
        out.append(f"<{name}>{_scalar(value)}</{name}>")


def to_xml(root: str, value: Any) -> str:
    """Serialise a list or dict as a GeoReport XML document with its declaration."""
    out = ['<?xml version="1.0" encoding="utf-8"?>']
    _element(root, value, out)
    return "".join(out)


def same_text(value: Any) -> Any:
    """Return `value` with its strings as XML can carry them, so that JSON says the same.

    An XML parser reads CR LF and a lone CR as LF, and XML 1.0 cannot carry most control
    characters: both formats get LF line ends and no control characters but tab and LF.
    """
    # a page is up to 1,000 requests of ~20 values, nearly all clean: the exact-type tests
    # and the one search per string keep this walk a small part of the answer's time
    kind = type(value)
    if value is None or kind is int or kind is float or kind is bool:
        return value
    if kind is str or (kind is not dict and kind is not list and isinstance(value, str)):
        if not _TO_CLEAN.search(value):
            return value
        return _XML_ILLEGAL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    if kind is dict or isinstance(value, dict):
        return {key: same_text(item) for key, item in value.items()}
    if kind is list or isinstance(value, list | tuple):
        return [same_text(item) for item in value]
    return value


def render(fmt: str, root: str, value: Any, status: int = 200) -> Response:
    """Return `value` (a list for Spark arrays, a dict for objects) as an XML or JSON response."""
    value = same_text(value)
    if fmt == "json":
        body = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    else:
        body = to_xml(root, value)
    return Response(body.encode("utf-8"), status=status, content_type=CONTENT_TYPES[fmt])


def render_json_text(fmt: str, root: str, json_text: str) -> Response:
    """Return a Spark array PostgreSQL wrote as JSON text (its strings already as same_text
    leaves them) as a JSON response, or the same values as XML."""
    if fmt == "json":
        return Response(json_text.encode("utf-8"), content_type=CONTENT_TYPES[fmt])
    return Response(
        to_xml(root, json.loads(json_text)).encode("utf-8"), content_type=CONTENT_TYPES[fmt]
    )


def render_errors(fmt: str, status: int, errors: list[tuple[int, str]]) -> Response:
    """Return the spec's error body: a list of (code, description)."""
    return render(
        fmt,
        "errors",
        [{"code": code, "description": description} for code, description in errors],
        status=status,
    )
