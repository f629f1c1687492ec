"""Benchmark Open311 intake: POST requests.json under concurrent load against gunicorn.

It builds a database of its own (city311_bench by default), migrates it, loads a city with real
ward polygons (Boston's 22 wards from ../shared/data when present, otherwise the built-in
Riverton wards), a department, a service type and an API key, starts gunicorn with the
repository's gunicorn.conf.py on a free loopback port, and drives a bounded number of POSTs with
a bounded concurrency from one asyncio process (a minimal HTTP/1.1 keep-alive client, so the
load generator takes as little of the shared CPU as it can). Then, in the same run, it makes the
same number of plain single-row INSERTs of a request through psycopg, one transaction each, as
the floor to compare with.

    .venv/bin/python bench/open311_intake.py --requests 5000 --concurrency 32

It prints figures only; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import psycopg
from autovacuum import analyze_in_background
from common import (
    CpuMeter,
    database_urls,
    drive,
    free_port,
    percentile,
    post_bytes,
    start_gunicorn,
    stop,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BOSTON_WARDS = ROOT.parent / "shared" / "data" / "boston_boundaries" / "boston_wards.geojson"
RIVERTON_WARDS = ROOT / "app" / "demo" / "riverton_wards.geojson"


def ward_features(path: Path | None) -> tuple[Path, list[dict], str]:
    """Return the ward file used, its features and the property holding each ward's code."""
    path = path or (BOSTON_WARDS if BOSTON_WARDS.exists() else RIVERTON_WARDS)
    features = json.loads(path.read_text())["features"]
    code_key = "WARD" if "WARD" in features[0]["properties"] else "ward"
    return path, features, code_key


def points_inside(features: list[dict], count: int, seed: int = 311) -> list[tuple[float, float]]:
    """Return `count` random (lat, long) points that fall inside one of the wards."""
    from shapely.geometry import Point, shape
    from shapely.ops import unary_union
    from shapely.prepared import prep

    city = unary_union([shape(f["geometry"]) for f in features])
    inside, (west, south, east, north) = prep(city), city.bounds
    rng, points = random.Random(seed), []
    while len(points) < count:
        long, lat = rng.uniform(west, east), rng.uniform(south, north)
        if inside.contains(Point(long, lat)):
            points.append((lat, long))
    return points


def prepare_from_args(args: argparse.Namespace) -> tuple[str, str, Path, list[dict], str]:
    """Build the database of --db from --pg and --wards; return DSN, URL, ward file, wards, key."""
    dsn, url = database_urls(args)
    wards, features, code_key = ward_features(args.wards)
    key = prepare_database(f"{args.pg}/postgres", args.db, url, features, code_key)
    return dsn, url, wards, features, key


def prepare_database(
    admin_dsn: str, name: str, url: str, features: list[dict], code_key: str
) -> str:
    """Create and migrate the bench database, load the city; return an API key."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')

    from flask_migrate import upgrade

    from app import create_app
    from app.demo import loader
    from app.extensions import db
    from app.open311 import service as open311

    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        loader.add_wards(features, code_key=code_key)
        db.session.execute(
            db.text("INSERT INTO departments (code, name) VALUES ('PWD', 'Public Works')")
        )
        db.session.execute(
            db.text(
                "INSERT INTO service_types (code, name, department_id, sla_value, sla_unit) "
                "SELECT 'pothole', 'Pothole', id, 72, 'hours' FROM departments"
            )
        )
        _, key = open311.create_key("bench")
        db.session.commit()
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()
        db.engine.dispose()
    return key


def form_body(key: str, n: int, with_contact: bool, point: tuple[float, float]) -> bytes:
    fields = {
        "api_key": key,
        "service_code": "pothole",
        "lat": f"{point[0]:.6f}",
        "long": f"{point[1]:.6f}",
        "description": f"Deep pothole in the right lane, bench request {n}",
        "address_string": f"{n} Main St",
    }
    if with_contact:
        fields.update(
            email=f"resident{n}@example.org", first_name="Bench", last_name=f"Resident{n}"
        )
    return urlencode(fields).encode()


def json_body(n: int, with_contact: bool, point: tuple[float, float]) -> bytes:
    """Return the JSON API's body of the same report form_body makes for Open311."""
    fields: dict[str, object] = {
        "service_code": "pothole",
        "lat": round(point[0], 6),
        "long": round(point[1], 6),
        "description": f"Deep pothole in the right lane, bench request {n}",
        "address": f"{n} Main St",
    }
    if with_contact:
        fields.update(email=f"resident{n}@example.org", name=f"Bench Resident{n}")
    return json.dumps(fields).encode()


def post_request(body: bytes, api: str = "open311") -> bytes:
    """Return the raw HTTP/1.1 keep-alive POST of one body to Open311 or to the JSON API."""
    if api == "json":
        return post_bytes("/api/v1/requests", "application/json", body)
    return post_bytes("/open311/v2/requests.json", "application/x-www-form-urlencoded", body)


def make_post(args: argparse.Namespace, key: str, n: int, point: tuple[float, float]) -> bytes:
    """Return the POST of report `n` in the API the run drives (--api)."""
    if args.api == "json":
        return post_request(json_body(n, not args.no_contact, point), "json")
    return post_request(form_body(key, n, not args.no_contact, point))


def baseline(dsn: str, points: list[tuple[float, float]]) -> float:
    """Insert `count` requests one row and one transaction at a time; return rows/s."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        st_id, dept_id = conn.execute(
            "SELECT id, department_id FROM service_types WHERE code = 'pothole'"
        ).fetchone()
        district_id = conn.execute("SELECT min(id) FROM districts").fetchone()[0]
        sql = (
            "INSERT INTO service_requests (service_type_id, department_id, district_id, "
            "description, location, address, status, channel, reporter_name, reporter_email, "
            "reporter_phone, attributes, requested_at, due_at, updated_at) VALUES "
            "(%s, %s, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, 'new', 'open311', "
            "%s, %s, '', '{}'::jsonb, %s, %s, %s) RETURNING id"
        )
        started = time.perf_counter()
        for n, (lat, long) in enumerate(points):
            now = datetime.now(UTC)
            conn.execute(
                sql,
                (
                    st_id,
                    dept_id,
                    district_id,
                    f"Deep pothole in the right lane, baseline row {n}",
                    long,
                    lat,
                    f"{n} Main St",
                    "Bench Resident",
                    f"resident{n}@example.org",
                    now,
                    now + timedelta(hours=72),
                    now,
                ),
            ).fetchone()
        return len(points) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds, at most")
    parser.add_argument("--workers", type=int, help="default: gunicorn.conf.py's")
    parser.add_argument("--worker-class", choices=["sync", "gthread"], help="default: the conf's")
    parser.add_argument("--threads", type=int, help="per worker; default: gunicorn.conf.py's")
    parser.add_argument("--wards", type=Path, help="a GeoJSON of ward polygons (default: Boston)")
    parser.add_argument("--warmup", type=int, default=200, help="POSTs before measuring")
    parser.add_argument(
        "--no-contact", action="store_true", help="omit email/name (no notification outbox row)"
    )
    parser.add_argument(
        "--api",
        choices=["open311", "json"],
        default="open311",
        help="POST Open311's requests.json (form, api_key) or /api/v1/requests (JSON, anonymous)",
    )
    parser.add_argument(
        "--no-limits",
        action="store_true",
        help="JSON API: RATELIMIT_ENABLED=false (else the limits count in Redis, set high "
        "enough for one address)",
    )
    parser.add_argument("--db", default="city311_bench")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    args = parser.parse_args()

    dsn, url, wards, features, key = prepare_from_args(args)
    points = points_inside(features, args.warmup + args.requests)
    port = free_port()
    # every POST comes from 127.0.0.1: the anonymous JSON API's per-address limit is raised
    # so that it counts (in Redis, as in production) without refusing the benchmark
    limits = {"RATELIMIT_REPORT": "100000000/minute;100000000/hour"}
    if args.no_limits:
        limits["RATELIMIT_ENABLED"] = "false"
    proc = start_gunicorn(args, url, port, limits)
    analyzing = threading.Event()
    try:
        warm = [
            make_post(args, key, -n, points[args.requests + n - 1])
            for n in range(1, args.warmup + 1)
        ]
        asyncio.run(drive(port, warm, args.concurrency, args.time_limit))
        analyze_in_background(dsn, analyzing)
        bodies = [make_post(args, key, n, points[n]) for n in range(args.requests)]
        # CPU per request is steadier than requests/s when other work shares the machine
        with CpuMeter(proc) as cpu:
            own_before = time.process_time()
            result = asyncio.run(drive(port, bodies, args.concurrency, args.time_limit))
            own = time.process_time() - own_before
    finally:
        analyzing.set()
        stop(proc)

    done = len(result["latencies"])
    lat = sorted(result["latencies"])
    rate = done / result["elapsed"]
    ok = result["statuses"].get(201 if args.api == "json" else 200, 0)
    print(f"wards: {len(features)} from {wards}")
    print(
        f"gunicorn {args.worker_class or 'conf'} workers={args.workers or 'conf'}"
        + f" threads={args.threads or 'conf'}"
        + f", concurrency {args.concurrency}, {done} POSTs of "
        + ("/api/v1/requests (JSON)" if args.api == "json" else "Open311 requests.json")
        + f"{' without contact' if args.no_contact else ' with an email'} in "
        f"{result['elapsed']:.2f} s"
    )
    print(f"  throughput   {rate:8.0f} requests/s")
    print(
        f"  latency      p50 {percentile(lat, 50) * 1000:.1f} ms   "
        f"p90 {percentile(lat, 90) * 1000:.1f} ms   p99 {percentile(lat, 99) * 1000:.1f} ms   "
        f"mean {statistics.fmean(lat) * 1000 if lat else float('nan'):.1f} ms"
    )
    print(
        f"  answers      {json.dumps(result['statuses'])}  not {201 if args.api == 'json' else 200}"
        f": {done - ok}  "
        f"connection errors: {len(result['errors'])}"
    )
    if done:
        print(cpu.line(done, own))
    floor = baseline(dsn, points[: done or args.requests])
    print(f"baseline: {done or args.requests} single-row INSERTs through psycopg (autocommit)")
    print(f"  throughput   {floor:8.0f} rows/s")
    print(f"ratio: API {rate / floor:.2f}× the plain INSERT rate")
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
