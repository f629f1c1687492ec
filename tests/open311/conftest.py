"""Fixtures of the Open311 tests: an API key, the official JSON Schemas, XML reading."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from app.open311 import keys

#: the official GeoReport v2 JSON Schemas: ../shared/open311-schemas beside the project,
#: or the folder CITY311_OPEN311_SCHEMAS names
SCHEMAS = Path(
    os.environ.get("CITY311_OPEN311_SCHEMAS")
    or Path(__file__).resolve().parents[2].parent / "shared" / "open311-schemas"
)
BASE = "/open311/v2"
#: containers whose children are repeated items (the Spark convention's arrays)
XML_LISTS = {
    "service_requests",
    "services",
    "attributes",
    "values",
    "errors",
    "endpoints",
    "formats",
    "notes",
    "media_urls",
    "service_request_updates",
}


@pytest.fixture
def api_key(city) -> str:
    _, key = keys.create_key("Test client", "dev@client.test")
    return key


# ---------------------------------------------------------------------------------------------
# JSON Schemas


def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", value):
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


def _uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc)


@pytest.fixture(scope="session")
def _schemas() -> Callable[[str, Any], None] | None:
    """Return validate(name, instance) against the official schemas, or None without them."""
    if not SCHEMAS.is_dir():
        return None
    from jsonschema import Draft7Validator, FormatChecker
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    documents = {p.name: json.loads(p.read_text()) for p in SCHEMAS.glob("*.json")}
    registry = Registry().with_resources(
        (name, Resource.from_contents(doc, default_specification=DRAFT7))
        for name, doc in documents.items()
        if name != "swagger.json"
    )
    checker = FormatChecker(formats=())
    checker.checks("date-time")(_date_time)
    checker.checks("uri")(_uri)

    def validate(name: str, instance: Any) -> None:
        Draft7Validator(
            documents[f"{name}.json"], registry=registry, format_checker=checker
        ).validate(instance)

    return validate


@pytest.fixture
def schema_validator(_schemas) -> Iterator[Callable[[str, Any], None]]:
    """Yield validate(name, instance) against the official Open311 JSON Schemas.

    Without the schemas only the validation is skipped: the test's other assertions still
    run, and its teardown reports the skip, naming the schemas it could not check.
    """
    if _schemas is not None:
        yield _schemas
        return
    unchecked: list[str] = []
    yield lambda name, instance: unchecked.append(name)
    if unchecked:
        pytest.skip(
            f"validation against the Open311 JSON Schemas ({', '.join(unchecked)}) not run: "
            f"they are not at {SCHEMAS} (../shared/open311-schemas, or set "
            "CITY311_OPEN311_SCHEMAS); the rest of the test ran"
        )


# ---------------------------------------------------------------------------------------------
# XML


def xml_to_data(element: ET.Element) -> Any:
    """Read a GeoReport XML element back into the JSON (Spark) shape, every scalar a string."""
    children = list(element)
    if element.tag in XML_LISTS:
        return [xml_to_data(child) for child in children]
    if not children:
        return element.text if element.text is not None else None
    return {child.tag: xml_to_data(child) for child in children}


def as_text(value: Any) -> Any:
    """Turn JSON scalars into the strings XML carries, so the two can be compared."""
    if isinstance(value, list):
        return [as_text(v) for v in value]
    if isinstance(value, dict):
        return {k: as_text(v) for k, v in value.items()}
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_xml(resp) -> tuple[str, Any]:
    """Check the XML envelope of a response; return its root tag and data."""
    body = resp.get_data()
    assert resp.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(body)
    return root.tag, xml_to_data(root)


def same_in_both_formats(client, path: str, **kw) -> Any:
    """GET a resource as JSON and as XML; assert they carry the same data; return the JSON."""
    as_json = client.get(f"{path}.json", **kw)
    as_xml = client.get(f"{path}.xml", **kw)
    assert as_json.status_code == as_xml.status_code == 200, as_json.get_data(as_text=True)
    assert as_json.headers["Content-Type"] == "application/json; charset=utf-8"
    _, xml_data = parse_xml(as_xml)
    assert as_text(as_json.get_json()) == xml_data
    return as_json.get_json()
