"""Benchmark the reads at city scale: Open311 GETs, the updates feed, the queue, staff search.

It builds a database of its own (city311_bench_reads by default) with --rows synthetic-from-real
requests and their events (bench/synthetic.py: Boston 2011's cases replayed over the last
--years years), starts gunicorn with gunicorn.conf.py on a free loopback port, and for each
read sends --count requests one at a time (latency: p50/p99) and then --count more from
--concurrency keep-alive connections (requests/s, and the CPU time per request of the
gunicorn workers and the PostgreSQL backends). With --explain it also prints, for the
slowest statement of each read, EXPLAIN (ANALYZE, BUFFERS) timings with the JIT off and on.

    .venv/bin/python bench/reads.py --rows 1000000
    .venv/bin/python bench/reads.py --rows 5000000 --explain
    .venv/bin/python bench/reads.py --reuse --app-root ../other-checkout   # same data, other code

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
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    ROOT,
    backend_pids,
    database_urls,
    drive,
    free_port,
    get_request,
    percentile,
    process_cpu_seconds,
    recreate_database,
    start_gunicorn,
    stop,
    w3c,
    web_pids,
)
from synthetic import load_requests, prepare_city  # noqa: E402

sys.path.insert(0, str(ROOT))

#: the indexes the search and feed migration adds; --drop-indexes measures without them
READ_INDEXES = (
    "ix_service_requests_phone_key",
    "ix_service_requests_email_lower",
    "ix_service_requests_description_trgm",
    "ix_service_requests_address_trgm",
)


def staff_token(url: str) -> str:
    """Create a manager account (every queue, every search) and return an API token for it."""
    from app import create_app
    from app.auth import service as auth
    from app.auth.roles import MANAGER
    from app.extensions import db

    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        user = auth.create_user(email="bench.manager@example.org", password=None, role=MANAGER)
        token = auth.issue_token(user)
        db.session.commit()
        db.engine.dispose()
    return token


def scenarios(dsn: str, token: str, count: int) -> dict[str, list[str]]:
    """Return the paths to GET for each read, varied so caches do not flatter them."""
    rng = random.Random(13)
    with psycopg.connect(dsn) as conn:
        low, high, first, last = conn.execute(
            "SELECT min(id), max(id), min(requested_at), max(requested_at) FROM service_requests"
        ).fetchone()
        codes = [
            code
            for (code,) in conn.execute(
                "SELECT st.code FROM service_requests sr JOIN service_types st"
                " ON st.id = sr.service_type_id WHERE sr.id > %s"
                " GROUP BY st.code ORDER BY count(*) DESC LIMIT 8",
                (high - 100_000,),
            )
        ]
        queue_depts = [
            code
            for (code,) in conn.execute(
                "SELECT d.code FROM service_requests sr JOIN departments d"
                " ON d.id = sr.department_id WHERE sr.status <> 'closed'"
                " GROUP BY d.code ORDER BY count(*) DESC LIMIT 3"
            )
        ]
        phones = [
            p
            for (p,) in conn.execute(
                "SELECT reporter_phone FROM service_requests WHERE reporter_phone <> ''"
                " AND id > %s LIMIT 200",
                (rng.randint(low, high - 1000),),
            )
        ]
        emails = [
            e
            for (e,) in conn.execute(
                "SELECT reporter_email FROM service_requests WHERE reporter_email <> ''"
                " AND id > %s LIMIT 200",
                (rng.randint(low, high - 1000),),
            )
        ]
    span = (last - first).total_seconds()

    def moment() -> datetime:
        return first + timedelta(seconds=rng.uniform(0, span - 40 * 86400))

    def phone_as_typed(phone: str) -> str:
        digits = "".join(ch for ch in phone if ch.isdigit())
        return rng.choice(
            [digits, f"+1 {digits[:3]} {digits[3:6]} {digits[6:]}", phone, digits[-7:]]
        )

    words = ["pothole", "street light", "graffiti", "Tremont St", "sidewalk repair", "Mattapan"]
    base = "/open311/v2"
    out: dict[str, list[str]] = {
        "requests.json (default: 90 days, 1,000 rows)": [f"{base}/requests.json"] * count,
        "requests.json service_code + status=open": [
            f"{base}/requests.json?"
            + urlencode({"service_code": rng.choice(codes), "status": "open"})
            for _ in range(count)
        ],
        "requests.json start/end (30 days) + status=closed": [],
        "requests/<id>.json": [
            f"{base}/requests/{rng.randint(low, high)}.json" for _ in range(count)
        ],
        "servicerequestupdates.json (1 day, 1,000 rows)": [],
        "queue /api/v1/departments/<code>/queue": [
            f"/api/v1/departments/{rng.choice(queue_depts)}/queue" for _ in range(count)
        ],
        "staff search: phone": [
            "/api/v1/requests?" + urlencode({"q": phone_as_typed(rng.choice(phones))})
            for _ in range(count)
        ],
        "staff search: email": [
            "/api/v1/requests?" + urlencode({"q": rng.choice(emails).upper()}) for _ in range(count)
        ],
        "staff search: words": [
            "/api/v1/requests?" + urlencode({"q": rng.choice(words)}) for _ in range(count)
        ],
    }
    for _ in range(count):
        start = moment()
        out["requests.json start/end (30 days) + status=closed"].append(
            f"{base}/requests.json?"
            + urlencode(
                {
                    "start_date": w3c(start),
                    "end_date": w3c(start + timedelta(days=30)),
                    "status": "closed",
                }
            )
        )
        start = moment()
        out["servicerequestupdates.json (1 day, 1,000 rows)"].append(
            f"{base}/servicerequestupdates.json?"
            + urlencode({"start_date": w3c(start), "end_date": w3c(start + timedelta(days=1))})
        )
    return {name: [headers_for(p, token) for p in paths] for name, paths in out.items()}


def headers_for(path: str, token: str) -> Any:
    return (path, {"Authorization": f"Bearer {token}"} if path.startswith("/api/") else {})


def measure(
    port: int, items: list[Any], concurrency: int, time_limit: float, pids: Callable[[], Any]
) -> dict[str, Any]:
    raw = [get_request(path, headers) for path, headers in items]
    asyncio.run(drive(port, raw[:5], 1, time_limit))  # warm the worker's caches
    serial = asyncio.run(drive(port, raw, 1, time_limit))
    web, backends = pids()
    before = process_cpu_seconds(web), process_cpu_seconds(backends)
    loaded = asyncio.run(drive(port, raw, concurrency, time_limit))
    after = process_cpu_seconds(web), process_cpu_seconds(backends)
    done = len(loaded["latencies"]) or 1
    lat = sorted(serial["latencies"])
    return {
        "p50": percentile(lat, 50) * 1000,
        "p99": percentile(lat, 99) * 1000,
        "rate": len(loaded["latencies"]) / loaded["elapsed"],
        "p99_loaded": percentile(sorted(loaded["latencies"]), 99) * 1000,
        "web_ms": (after[0] - before[0]) * 1000 / done,
        "db_ms": (after[1] - before[1]) * 1000 / done,
        "statuses": {**serial["statuses"]},
        "errors": len(serial["errors"]) + len(loaded["errors"]),
    }


def explain(url: str, dsn: str, items: dict[str, list[Any]]) -> None:
    """For each read, find its slowest statement and time it with the JIT off and on."""
    from sqlalchemy import event

    from app import create_app
    from app.extensions import db

    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": url})
    captured: list[tuple[float, str, Any]] = []

    with app.app_context():

        def before(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
            conn.info["started"] = time.perf_counter()

        def after(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
            captured.append((time.perf_counter() - conn.info["started"], statement, parameters))

        event.listen(db.engine, "before_cursor_execute", before)
        event.listen(db.engine, "after_cursor_execute", after)
        client = app.test_client()
        print("\nEXPLAIN (ANALYZE, BUFFERS), each read's slowest statement, best of 3, JIT off/on:")
        print(f"  {'read':<52} {'jit off':>9} {'jit on':>9} {'of it JIT':>9}")
        with psycopg.connect(dsn, autocommit=True) as conn:
            for name, paths in items.items():
                path, headers = paths[1]
                captured.clear()
                client.get(path, headers=headers)
                _, sql, params = max(captured, key=lambda c: c[0])
                best: dict[str, tuple[float, float]] = {}
                # alternated, best of three each: the first run of a statement warms the cache
                for jit in ("off", "on") * 3:
                    conn.execute(f"SET jit = {jit}")
                    plan = conn.execute(
                        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params
                    ).fetchone()[0][0]
                    total = plan["Execution Time"] + plan["Planning Time"]
                    jit_ms = plan.get("JIT", {}).get("Timing", {}).get("Total", 0.0)
                    if jit not in best or total < best[jit][0]:
                        best[jit] = (total, jit_ms)
                times = [best["off"], best["on"]]
                print(
                    f"  {name:<52} {times[0][0]:7.1f}ms {times[1][0]:7.1f}ms {times[1][1]:7.1f}ms"
                )
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--years", type=float, default=2.0, help="history spread over")
    parser.add_argument("--reuse", action="store_true", help="keep the database of a last run")
    parser.add_argument("--count", type=int, default=100, help="GETs per read and pass")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per pass")
    parser.add_argument("--workers", type=int, help="default: gunicorn.conf.py's")
    parser.add_argument("--threads", type=int, help="default: gunicorn.conf.py's")
    parser.add_argument("--app-root", type=Path, default=ROOT, help="checkout to serve from")
    parser.add_argument(
        "--drop-indexes", action="store_true", help="drop the search indexes first (a before)"
    )
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE, JIT off/on")
    parser.add_argument("--only", default="", help="run only the reads whose name has this")
    parser.add_argument("--db", default="city311_bench_reads")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    args = parser.parse_args()
    # the token and --explain run the served checkout's code in this process, so that the
    # EXPLAIN of a before/after pair is of each one's own statements
    sys.path.insert(0, str(args.app_root.resolve()))

    dsn, url = database_urls(args)
    if not args.reuse:
        started = time.perf_counter()
        recreate_database(f"{args.pg}/postgres", args.db)
        prepare_city(url)
        seconds = load_requests(dsn, args.rows, args.years)
        print(f"built in {time.perf_counter() - started:.0f} s ({seconds:.0f} s for the rows)")
    with psycopg.connect(dsn, autocommit=True) as conn:
        if args.drop_indexes:
            for name in READ_INDEXES:
                conn.execute(f"DROP INDEX IF EXISTS {name}")
        requests, events, size = conn.execute(
            "SELECT (SELECT count(*) FROM service_requests), (SELECT count(*) FROM"
            " request_events), pg_size_pretty(pg_database_size(current_database()))"
        ).fetchone()
        conn.execute("DELETE FROM users WHERE email = 'bench.manager@example.org'")
    print(f"database {args.db}: {requests:,} requests, {events:,} events, {size}")
    token = staff_token(url)
    items = scenarios(dsn, token, args.count)
    items = {name: paths for name, paths in items.items() if args.only in name}
    if args.explain:
        explain(url, dsn, items)

    port = free_port()
    # each read is timed on the database, not on a process's memory of the same query
    no_cache = {"WEB_ACCESS_LOG": "", "OPEN311_FEED_CACHE_SECONDS": "0"}
    proc = start_gunicorn(args, url, port, no_cache, root=args.app_root.resolve())
    results: dict[str, dict[str, Any]] = {}
    try:
        for name, paths in items.items():
            results[name] = measure(
                port,
                paths,
                args.concurrency,
                args.time_limit,
                lambda: (web_pids(proc), backend_pids(f"{args.pg}/postgres", args.db)),
            )
    finally:
        stop(proc)

    print(
        f"\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {args.count} GETs per read one at a time"
        f" (p50/p99), then {args.count} from {args.concurrency} connections (requests/s,"
        f" p99, CPU per request); code from {args.app_root}"
    )
    print(
        f"  {'read':<52} {'p50':>8} {'p99':>8} {'req/s':>7} {'p99 ld':>8}"
        f" {'web CPU':>8} {'db CPU':>8}  answers"
    )
    for name, r in results.items():
        print(
            f"  {name:<52} {r['p50']:6.1f}ms {r['p99']:6.1f}ms {r['rate']:7.1f}"
            f" {r['p99_loaded']:6.1f}ms {r['web_ms']:6.1f}ms {r['db_ms']:6.1f}ms"
            f"  {json.dumps(r['statuses'])} errors {r['errors']}"
        )
    if results:  # --only that matches no read builds the database and times nothing
        median = statistics.median(r["p50"] for r in results.values())
        print(f"  median p50 over reads: {median:.1f} ms")


if __name__ == "__main__":
    main()
