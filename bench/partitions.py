"""Would partitioning request_events by month pay? A partitioned copy, timed against the table.

In the database bench/reads.py built (city311_bench_reads), it copies request_events into
`bench_events_by_month`, range-partitioned by `at` one month per partition, with the same
indexes, then times the statements the app runs on events against both tables: the updates
feed (a window of `at`), a request's history (by request_id), the per-request "latest public
note" probe that Open311 GET requests makes 1,000 times a page, and a month's count (what a
retention job or a rollup reads). Each is the median of --repeat runs with EXPLAIN ANALYZE
(server time only), JIT off as the app runs. The copy is dropped at the end. The app's tables
are not touched.

    .venv/bin/python bench/partitions.py

It prints figures only; it asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import timedelta

import psycopg

COPY = "bench_events_by_month"


def build(conn: psycopg.Connection) -> float:
    started = time.perf_counter()
    conn.execute(f"DROP TABLE IF EXISTS {COPY}")
    conn.execute(
        f"CREATE TABLE {COPY} (LIKE request_events INCLUDING DEFAULTS) PARTITION BY RANGE (at)"
    )
    first, last = conn.execute("SELECT min(at), max(at) FROM request_events").fetchone()
    month = first.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    n = 0
    while month <= last:
        following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
        conn.execute(  # DDL takes no parameters; these are datetimes we made
            f"CREATE TABLE {COPY}_{n} PARTITION OF {COPY}"
            f" FOR VALUES FROM ('{month.isoformat()}') TO ('{following.isoformat()}')"
        )
        month, n = following, n + 1
    conn.execute("SET maintenance_work_mem = '512MB'")
    conn.execute(f"INSERT INTO {COPY} SELECT * FROM request_events")
    conn.execute(f"CREATE INDEX ON {COPY} (request_id, id)")
    conn.execute(f"CREATE INDEX ON {COPY} (at)")
    conn.execute(f"ALTER TABLE {COPY} ADD PRIMARY KEY (id, at)")  # the key must hold `at`
    conn.execute(f"VACUUM ANALYZE {COPY}")
    print(f"copied into {n} monthly partitions in {time.perf_counter() - started:.0f} s")
    return time.perf_counter() - started


def timed(conn: psycopg.Connection, sql: str, params: dict, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        plan = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params).fetchone()[0][0]
        runs.append(plan["Planning Time"] + plan["Execution Time"])
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/city311_bench_reads")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="leave the partitioned copy")
    args = parser.parse_args()
    rng = random.Random(5)
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        conn.execute("SET jit = off")
        build(conn)
        low, high, first, last = conn.execute(
            "SELECT min(request_id), max(request_id), min(at), max(at) FROM request_events"
        ).fetchone()
        span = (last - first).total_seconds()
        day = first + timedelta(seconds=rng.uniform(0, span - 86400 * 31))
        statements = {
            "updates feed: 1 day of public changes, 1,000 by id": (
                "SELECT id, request_id, kind, at, note, to_status, data FROM {t}"
                " WHERE at >= %(a)s AND at <= %(a)s + interval '1 day' AND public"
                " AND kind NOT IN ('created', 'routed') ORDER BY id LIMIT 1000",
                {"a": day},
            ),
            "one request's history (staff page)": (
                "SELECT * FROM {t} WHERE request_id = %(r)s ORDER BY id",
                {"r": rng.randint(low, high)},
            ),
            "latest public note of a request (x1,000 a page)": (
                "SELECT note FROM {t} WHERE request_id = %(r)s AND public AND note <> ''"
                " ORDER BY id DESC LIMIT 1",
                {"r": rng.randint(low, high)},
            ),
            "count of a month's events (rollup, retention)": (
                "SELECT count(*) FROM {t} WHERE at >= %(a)s AND at < %(a)s + interval '1 month'",
                {"a": day},
            ),
        }
        print(f"\nmedian of {args.repeat} EXPLAIN ANALYZE runs (planning + execution), JIT off")
        print(f"  {'statement':<52} {'one table':>10} {'by month':>10}")
        try:
            for name, (sql, params) in statements.items():
                plain = timed(conn, sql.format(t="request_events"), params, args.repeat)
                parted = timed(conn, sql.format(t=COPY), params, args.repeat)
                print(f"  {name:<52} {plain:8.2f}ms {parted:8.2f}ms")
        finally:
            if not args.keep:
                conn.execute(f"DROP TABLE IF EXISTS {COPY}")


if __name__ == "__main__":
    main()
