"""Synthetic-from-real requests at city scale, loaded in SQL in minutes.

Each synthetic request copies a real case of Boston's 2011 export (../shared/data, when
present): its service type, department, ward, location (moved by up to ~50 m), channel,
title and address, closure reason and time to close, with its report time moved onto an even
spread over the last `years` years (so ids grow with time, as they do in production).
Without the export, cases are made up over the built-in city's types and wards. Reporter
contact details are synthetic: an email on 40% of rows, a phone number on 30%.

Every request gets its history: `created`, `acknowledged` when it was, a public note on one in
four, and `closed` for closed ones (about 2.7 events a request), so the updates feed and the
KPIs have data.

The real cases go in with COPY (about 58,000 rows); the millions are made by one
`INSERT … SELECT … FROM generate_series` in the database, with the tables' secondary indexes
dropped during the load and built afterwards (much faster than keeping them up to date row by
row), and foreign-key triggers off (the rows are consistent by construction). Then VACUUM
ANALYZE.

    from synthetic import load_requests
    seconds = load_requests(dsn, rows=1_000_000)
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
from common import DATA, database_urls, recreate_database

CHANNELS = {"Constituent Call": "phone", "Self Service": "web", "Citizens Connect App": "mobile"}
TABLES = ("service_requests", "request_events")


def prepare_city(url: str, *, recent: int = 0) -> Any:
    """Migrate the (new, empty) database and load the city's catalogue, wards and accounts.

    `recent` requests of the last days come with them (the demo's). Returns the demo
    loader's report (the city's name and what it holds).
    """
    from flask_migrate import upgrade

    from app import create_app
    from app.demo import boston, builtin
    from app.extensions import db

    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        if boston.data_available(DATA):
            report = boston.load(DATA, history=0, recent=recent)
        else:
            report = builtin.load(requests=recent)
        db.session.commit()
        db.engine.dispose()
    return report


def demo_database(args: Any, *, recent: int) -> Any:
    """Recreate the bench database (--pg, --db) with the demo city and `recent` requests.

    It is analyzed before it is used; returns the demo loader's report.
    """
    dsn, url = database_urls(args)
    recreate_database(f"{args.pg}/postgres", args.db)
    report = prepare_city(url, recent=recent)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ANALYZE")
    return report


def _boston_cases(conn: psycopg.Connection) -> Iterator[tuple]:
    from app.demo import boston
    from app.imports import boston as boston_format

    types = {
        name: (tid, did, sla)
        for name, tid, did, sla in conn.execute(
            "SELECT name, id, department_id, sla_value * 3600 FROM service_types"
        )
    }
    wards = dict(conn.execute("SELECT code, id FROM districts").fetchall())
    for row in boston.read_rows(DATA):
        kind = types.get(" ".join(row["type"].split()))
        ward = wards.get(boston.ward_number(row["ward"]) or "")
        opened = boston._time(row, "open_dt")
        try:
            lat, long = float(row["latitude"]), float(row["longitude"])
        except ValueError:
            continue
        if (
            kind is None
            or ward is None
            or opened is None
            or boston_format.is_placeholder(lat, long)
        ):
            continue
        closed = boston._time(row, "closed_dt") if row["case_status"] == "Closed" else None
        target = boston.sane_target(opened, boston._time(row, "target_dt"))
        reason = None
        if closed is not None:
            reason = boston_format.parse(row).closure_reason or "fixed"
        yield (
            kind[0],
            kind[1],
            ward,
            lat,
            long,
            CHANNELS.get(row["source"], "api"),
            (row["case_title"] or row["type"]).strip()[:200],
            (row["location"] or "").strip()[:200],
            reason,
            max((closed - opened).total_seconds(), 0) if closed else None,
            (target - opened).total_seconds() if target else kind[2],
        )


def _made_up_cases(conn: psycopg.Connection) -> Iterator[tuple]:
    rng = random.Random(7)
    types = conn.execute(
        "SELECT id, department_id, name, sla_value * 3600 FROM service_types"
    ).fetchall()
    points = conn.execute(
        "SELECT id, ST_Y(ST_PointOnSurface(geom)), ST_X(ST_PointOnSurface(geom)) FROM districts"
    ).fetchall()
    streets = ["Main St", "Elm St", "River Rd", "Oak Ave", "Mill St", "Bridge St"]
    for tid, did, name, sla in types:
        for _ in range(300):
            ward, lat, long = rng.choice(points)
            closes = rng.random() < 0.85
            yield (
                tid,
                did,
                ward,
                lat,
                long,
                rng.choice(["phone", "web", "mobile", "api"]),
                name,
                f"{rng.randint(1, 999)} {rng.choice(streets)}",
                rng.choice(["fixed"] * 8 + ["duplicate", "no_action_needed"]) if closes else None,
                rng.lognormvariate(11, 1.3) if closes else None,
                sla,
            )


def _drop_secondary_indexes(conn: psycopg.Connection) -> list[str]:
    """Drop the tables' indexes that back no constraint; return their definitions."""
    rows = conn.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " WHERE i.indrelid = ANY(%s::regclass[]) AND NOT EXISTS"
        " (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
        (list(TABLES),),
    ).fetchall()
    for name, _ in rows:
        conn.execute(f"DROP INDEX {name}")
    return [definition for _, definition in rows]


def load_requests(dsn: str, rows: int, years: float = 2.0, seed: int = 311) -> float:
    """Add `rows` synthetic-from-real requests and their events; return the seconds it took."""
    started = time.perf_counter()
    with psycopg.connect(dsn) as conn:
        cases = list(_boston_cases(conn) if (DATA / "boston_311_2011").is_dir() else [])
        cases = cases or list(_made_up_cases(conn))
        random.Random(seed).shuffle(cases)
        conn.execute(
            "CREATE TEMP TABLE bench_cases (n serial, type_id int, dept_id int, ward_id int,"
            " lat float8, long float8, channel text, title text, address text,"
            " reason text, close_s float8, sla_s float8)"
        )
        with conn.cursor().copy(
            "COPY bench_cases (type_id, dept_id, ward_id, lat, long, channel, title, address,"
            " reason, close_s, sla_s) FROM STDIN"
        ) as copy:
            for case in cases:
                copy.write_row(case)
        print(f"  {len(cases):,} real cases to copy from; loading {rows:,} requests…", flush=True)
        conn.execute("SET session_replication_role = replica")  # no FK triggers: rows agree
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute("SET work_mem = '256MB'")
        conn.execute("SELECT setseed(%s)", (seed / 1000 % 1,))
        indexes = _drop_secondary_indexes(conn)
        span = timedelta(days=365 * years)
        conn.execute(
            """
            INSERT INTO service_requests (service_type_id, department_id, district_id,
                description, location, address, status, channel, reporter_name,
                reporter_email, reporter_phone, requested_at, acknowledged_at, due_at,
                closed_at, closure_reason, updated_at)
            SELECT c.type_id, c.dept_id, c.ward_id,
                c.title || CASE g %% 3 WHEN 0 THEN ', reported again by a neighbour'
                    WHEN 1 THEN '' ELSE ' near the corner' END,
                ST_SetSRID(ST_MakePoint(c.long + (random() - 0.5) * 0.001,
                                        c.lat + (random() - 0.5) * 0.001), 4326),
                c.address,
                CASE WHEN t.closed_at IS NOT NULL THEN 'closed'
                     WHEN g %% 4 = 0 THEN 'new' WHEN g %% 4 = 1 THEN 'acknowledged'
                     WHEN g %% 4 = 2 THEN 'assigned' ELSE 'in_progress' END,
                c.channel,
                CASE WHEN g %% 5 < 2 THEN 'Resident ' || g ELSE '' END,
                CASE WHEN g %% 5 < 2 THEN 'Resident' || (g %% 400000) || '@Example.org'
                     ELSE '' END,
                CASE WHEN g %% 10 < 3 THEN '(617) ' || lpad((g %% 1000)::text, 3, '0') || '-'
                     || lpad((g / 1000 %% 10000)::text, 4, '0') ELSE '' END,
                t.at,
                CASE WHEN t.closed_at IS NOT NULL OR g %% 4 <> 0
                     THEN t.at + least(coalesce(c.close_s, 7200) * 0.1, 86400) * interval '1s'
                     END,
                t.at + c.sla_s * interval '1 second',
                t.closed_at,
                CASE WHEN t.closed_at IS NOT NULL THEN c.reason END,
                coalesce(t.closed_at, t.at)
            FROM generate_series(1, %(rows)s) AS g
            JOIN bench_cases c ON c.n = 1 + (g::bigint * 7919) %% %(cases)s
            CROSS JOIN LATERAL (
                SELECT now() - %(span)s * (1 - g::float8 / %(rows)s) AS at
            ) s
            CROSS JOIN LATERAL (
                SELECT s.at,
                    CASE WHEN c.close_s IS NOT NULL
                         AND s.at + c.close_s * interval '1s' < now()
                         THEN s.at + c.close_s * interval '1s' END AS closed_at
            ) t
            """,
            {"rows": rows, "cases": len(cases), "span": span},
        )
        loaded = time.perf_counter()
        print(f"  requests in {loaded - started:.0f} s; events…", flush=True)
        conn.execute(
            """
            INSERT INTO request_events (request_id, kind, at, from_status, to_status, note,
                public, data)
            SELECT request_id, kind, at, from_status, to_status, note, true, data FROM (
                SELECT id AS request_id, 'created' AS kind, requested_at AS at,
                    NULL AS from_status, 'new' AS to_status, '' AS note, '{}'::jsonb AS data
                FROM service_requests
                UNION ALL
                SELECT id, 'acknowledged', acknowledged_at, 'new', 'acknowledged', '', '{}'
                FROM service_requests WHERE acknowledged_at IS NOT NULL
                UNION ALL
                SELECT id, 'note', requested_at + (coalesce(closed_at, now()) - requested_at) / 2,
                    NULL, NULL, 'Inspected on site; the work is scheduled.', '{}'
                FROM service_requests WHERE id % 4 = 0
                UNION ALL
                SELECT id, 'closed', closed_at, 'acknowledged', 'closed', '',
                    jsonb_build_object('reason', closure_reason)
                FROM service_requests WHERE closed_at IS NOT NULL
            ) e ORDER BY at
            """
        )
        events = time.perf_counter()
        print(f"  events in {events - loaded:.0f} s; indexes…", flush=True)
        for definition in indexes:
            conn.execute(definition)
        conn.execute("SET session_replication_role = origin")
        conn.commit()
        print(f"  indexes in {time.perf_counter() - events:.0f} s; VACUUM ANALYZE…", flush=True)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in TABLES:
            conn.execute(f"VACUUM ANALYZE {table}")
    return time.perf_counter() - started
