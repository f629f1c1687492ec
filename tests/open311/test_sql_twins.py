"""The GeoReport values PostgreSQL writes are the ones the Python rules give.

Open311 pages are serialised in SQL (app/open311/request_sql.py); these compare each SQL
twin with the Python rule it stands for, on many values, so the two cannot drift apart.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from app.extensions import db
from app.geo.privacy import public_point_sql, snap_to_grid
from app.open311.formats import same_text, w3c_datetime
from app.open311.sql_text import clean, rounded, set_city_timezone, w3c


def test_the_grid_in_sql_publishes_the_points_snap_to_grid_does(db_session):
    rng = random.Random(311)
    points = [(rng.uniform(42.2, 42.4), rng.uniform(-71.2, -70.9)) for _ in range(300)]
    points += [(89.9999, 179.9999), (-89.9999, -179.9999), (0.0, 0.0), (42.32, -71.08)]
    for metres in (150.0, 37.5, 1000.0, 0.0):
        select = public_point_sql("pt.lat", "pt.long", "true")
        rows = db.session.execute(
            text(
                "SELECT pt.i, pub.lat, pub.long FROM unnest(:lats, :longs)"
                " WITH ORDINALITY AS pt(lat, long, i)"
                f" CROSS JOIN LATERAL ({select}) pub ORDER BY pt.i"
            ),
            {
                "lats": [p[0] for p in points],
                "longs": [p[1] for p in points],
                "grid_metres": metres,
            },
        ).all()
        assert [(lat, long) for _, lat, long in rows] == [
            snap_to_grid(lat, long, metres) for lat, long in points
        ]


@pytest.mark.parametrize(
    "zone", ["America/New_York", "America/St_Johns", "Asia/Kolkata", "UTC", "Pacific/Chatham"]
)
def test_w3c_times_in_sql_read_as_in_python(app, db_session, zone, monkeypatch):
    monkeypatch.setitem(app.config, "CITY_TIMEZONE", zone)
    start = datetime(2026, 3, 7, 6, 59, 59, 999_999, tzinfo=UTC)
    # the hours around both daylight-saving changes of the year, and fractions of a second
    moments = [start + timedelta(minutes=29 * i, microseconds=7 * i) for i in range(200)]
    moments += [m + timedelta(days=238) for m in moments]
    db.session.execute(text(set_city_timezone()), {"tz": zone})
    got = db.session.scalars(
        text(f"SELECT {w3c('m')} FROM unnest(:moments) WITH ORDINALITY AS t(m, i) ORDER BY i"),
        {"moments": moments},
    ).all()
    assert got == [w3c_datetime(m) for m in moments]


def test_text_in_sql_is_cleaned_as_same_text_cleans_it(db_session):
    values = [
        "plain",
        "First line\r\nsecond line\rthird\x07 bell\x1b esc\ttab",
        "\r\r\n\n",
        "\x01\x02\x08\x0b\x0c\x0e\x1f",
        "non-characters \ufffe\uffff kept out, é and 漢字 kept",
        "",
        "\u2028 line separator",
    ]
    got = db.session.scalars(
        text(
            f"SELECT {clean('v')} FROM unnest(CAST(:values AS text[]))"
            " WITH ORDINALITY AS t(v, i) ORDER BY i"
        ),
        {"values": values},
    ).all()
    assert got == [same_text(v) for v in values]


def test_coordinates_in_sql_round_as_python_rounds_them(db_session):
    rng = random.Random(7)
    values = [rng.uniform(-180, 180) for _ in range(5000)] + [42.3601, -71.0589, 0.0, 1e-9]
    values += [round(v, 6) for v in values[:500]] + [round(v, 7) for v in values[:500]]
    got = db.session.scalars(
        text(
            f"SELECT {rounded('v', 7)} FROM unnest(CAST(:values AS float8[]))"
            " WITH ORDINALITY AS t(v, i) ORDER BY i"
        ),
        {"values": values},
    ).all()
    assert got == [round(v, 7) for v in values]
