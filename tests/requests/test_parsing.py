"""Form answers and coordinates read one way, whether from the pages, the API or Open311."""

from __future__ import annotations

import math

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.requests.models import ServiceRequest
from app.requests.parsing import CoordinateError, parse_attribute_fields, parse_coordinate
from tests.factories import WARD_2_POINT


@pytest.mark.parametrize(
    "fields, answers",
    [
        ([("attribute[size]", "large")], {"size": "large"}),
        ([("attribute[size]", "  ")], {"size": ""}),  # an optional answer left blank
        (
            [("attribute[kind][]", "dead"), ("attribute[kind][]", "leaning")],
            {"kind": ["dead", "leaning"]},
        ),
        ([("attribute[kind][]", "dead")], {"kind": ["dead"]}),  # [] is a list, even of one
        ([("attribute[kind][]", "")], {"kind": []}),  # FixMyStreet sends skipped lists empty
        ([("attribute[size]", "a"), ("attribute[size]", "b")], {"size": ["a", "b"]}),
        # two categories ask the same question and only one was answered (a form without JS)
        ([("attribute[size]", ""), ("attribute[size]", "large")], {"size": "large"}),
        (
            [("attribute[kind]", "dead"), ("attribute[kind][]", "leaning")],
            {"kind": ["dead", "leaning"]},
        ),
        (
            [("attribute[kind][]", "leaning"), ("attribute[kind]", "dead")],
            {"kind": ["leaning", "dead"]},
        ),
        ([("description", "x"), ("attribute[]", "x"), ("attribute[a]b", "x")], {}),
    ],
)
def test_attribute_fields_mean_one_thing(fields, answers):
    assert parse_attribute_fields(MultiDict(fields)) == answers


@pytest.mark.parametrize(
    "raw, value",
    [("42.3", 42.3), (" -71.05 ", -71.05), (42, 42.0), (-71.5, -71.5), ("", None), (None, None)],
)
def test_coordinates_are_decimal_degrees(raw, value):
    assert parse_coordinate(raw, "lat") == value


@pytest.mark.parametrize(
    "raw, message",
    [
        ("abc", "lat must be a number in decimal degrees."),
        (True, "lat must be a number in decimal degrees."),
        ([42.3], "lat must be a number in decimal degrees."),
        ("nan", "lat must be a finite number in decimal degrees."),
        (math.inf, "lat must be a finite number in decimal degrees."),
        ("1e999", "lat must be a finite number in decimal degrees."),
    ],
)
def test_a_coordinate_that_is_not_a_number_is_named_in_the_message(raw, message):
    with pytest.raises(CoordinateError) as err:
        parse_coordinate(raw, "lat")
    assert (err.value.message, err.value.field) == (message, "lat")


def test_the_page_and_the_api_say_the_same_of_a_bad_coordinate(client, city):
    data = {
        "service_code": "pothole",
        "description": "Deep pothole",
        "lat": "Infinity",
        "long": str(WARD_2_POINT[1]),
    }
    api = client.post("/api/v1/requests", data=data)
    assert api.status_code == 422
    assert api.get_json()["errors"]["lat"] == ["lat must be a finite number in decimal degrees."]
    page = client.post("/", data=data)
    assert page.status_code == 400
    assert "latitude must be a finite number in decimal degrees." in page.get_data(as_text=True)


def test_a_question_two_categories_ask_keeps_the_one_answer_given(client, city):
    """Without JavaScript the form posts every category's questions; blanks are not answers."""
    data = MultiDict(
        [
            ("service_code", "pothole"),
            ("description", "Deep pothole"),
            ("lat", str(WARD_2_POINT[0])),
            ("long", str(WARD_2_POINT[1])),
            ("attribute[size]", ""),
            ("attribute[size]", "large"),
        ]
    )
    resp = client.post("/", data=data)
    assert resp.status_code == 303
    sr = db.session.scalars(select(ServiceRequest).order_by(ServiceRequest.id.desc())).first()
    assert sr.attributes == {"size": "large"}
