"""Benchmark the metrics dashboard's panels at city scale, against DuckDB on the same rows.

Synthetic-from-real: it builds a database of its own (city311_bench_metrics by default),
loads Boston's departments, service types (with their SLAs) and 22 wards from
../shared/data when present (else the built-in city), then replays the Boston 2011 export
to --rows requests (default 1,000,000): each row copies a real case's type, department,
ward, location, channel, closure reason, time to close and SLA, with its report time moved
to a random moment of the last --years years. Rows go in with COPY. A share of requests
gets a 'reopened' or 'transferred' event. Then it builds the rollups, times every dashboard
panel cold (first call on a new connection) and warm (median of --repeat calls), exports
the same rows to Parquet and times DuckDB computing the same numbers in the same run, and
prints each pair, the ratio, and the memory and disk used.

    .venv/bin/python bench/metrics.py --rows 1000000

It prints figures only; it asserts nothing. DuckDB comes from the `bench` extra.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from common import DATA, database_urls, recreate_database  # noqa: E402
from metrics_duckdb import DuckBench  # noqa: E402
from synthetic import CHANNELS, prepare_city  # noqa: E402

from app.metrics.buckets import MAX_RELATIVE_ERROR  # noqa: E402

BOSTON_CSV = DATA / "boston_311_2011" / "311_service_requests_2011.csv"


def prepare(admin_dsn: str, name: str, url: str) -> Any:
    """Create and migrate the bench database and load the city's catalogue; return the app."""
    from app import create_app

    recreate_database(admin_dsn, name)
    prepare_city(url)
    return create_app("development", {"SQLALCHEMY_DATABASE_URI": url})


def is_placeholder(row: dict[str, str]) -> bool:
    """City Hall's point, Boston's stand-in for "no location" (or no point at all)."""
    from app.imports import boston as boston_format

    try:
        return boston_format.is_placeholder(float(row["latitude"]), float(row["longitude"]))
    except ValueError:
        return True


def templates(conn: psycopg.Connection) -> list[tuple]:
    """Return the real cases to copy: (type, dept, ward, lat, long, channel, reason, close
    seconds or None, SLA seconds), from Boston's export, or made up for the built-in city."""
    types = {
        name: (tid, did, sla)
        for name, tid, did, sla in conn.execute(
            "SELECT st.name, st.id, st.department_id, st.sla_value * 3600 FROM service_types st"
        )
    }
    wards = {code: did for code, did in conn.execute("SELECT code, id FROM districts")}
    out: list[tuple] = []
    if BOSTON_CSV.exists():
        from app.demo import boston
        from app.imports import boston as boston_format
        from app.imports.rows import RowError, closure_from_words, parse_time

        def when(row: dict[str, str], column: str) -> datetime | None:
            try:
                return parse_time(row, column, boston_format.TZ, boston_format.TIME_FORMATS)
            except RowError:
                return None

        with BOSTON_CSV.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                opened = when(row, "open_dt")
                kind = types.get(row["type"].strip())
                ward = wards.get(boston.ward_number(row["ward"]) or "")
                if opened is None or kind is None or ward is None or is_placeholder(row):
                    continue
                closed = when(row, "closed_dt") if row["case_status"] == "Closed" else None
                target = boston.sane_target(opened, when(row, "target_dt"))
                out.append(
                    (
                        kind[0],
                        kind[1],
                        ward,
                        float(row["latitude"]),
                        float(row["longitude"]),
                        CHANNELS.get(row["source"], "api"),
                        closure_from_words(row["closure_reason"]) if closed else None,
                        max((closed - opened).total_seconds(), 0) if closed else None,
                        (target - opened).total_seconds() if target else kind[2],
                    )
                )
        return out
    rng = random.Random(7)
    points = list(
        conn.execute(
            "SELECT id, ST_Y(ST_PointOnSurface(geom)), ST_X(ST_PointOnSurface(geom)) FROM districts"
        )
    )
    for tid, did, sla in types.values():
        for _ in range(200):
            ward, lat, long = rng.choice(points)
            out.append(
                (
                    tid,
                    did,
                    ward,
                    lat,
                    long,
                    rng.choice(list(CHANNELS.values())),
                    rng.choice(["fixed"] * 8 + ["duplicate", "no_action_needed"]),
                    rng.lognormvariate(11, 1.3),
                    sla,
                )
            )
    return out


def replay(dsn: str, rows: int, years: float, seed: int) -> float:
    """COPY `rows` synthetic-from-real requests in; return the seconds it took."""
    rng = random.Random(seed)
    started = time.perf_counter()
    now = datetime.now(UTC)
    span = years * 365 * 86400
    with psycopg.connect(dsn) as conn:
        cases = templates(conn)
        print(f"  {len(cases)} real cases to sample from")
        columns = (
            "service_type_id, department_id, district_id, description, location, status,"
            " channel, requested_at, acknowledged_at, due_at, closed_at, closure_reason,"
            " updated_at"
        )
        with conn.cursor().copy(f"COPY service_requests ({columns}) FROM STDIN") as copy:
            for _ in range(rows):
                tid, did, ward, lat, long, channel, reason, close_s, sla_s = rng.choice(cases)
                opened = now - timedelta(seconds=rng.uniform(0, span))
                closed = opened + timedelta(seconds=close_s) if close_s is not None else None
                if closed is not None and closed >= now:
                    closed = None  # not closed yet, as of now
                ack = opened + timedelta(seconds=(close_s or 7200) * rng.uniform(0.02, 0.3))
                copy.write_row(
                    (
                        tid,
                        did,
                        ward,
                        "Synthetic request",
                        f"SRID=4326;POINT({long} {lat})",
                        "closed" if closed else "acknowledged",
                        channel,
                        opened,
                        ack if ack < now else None,
                        opened + timedelta(seconds=sla_s),
                        closed,
                        reason if closed else None,
                        closed or opened,
                    )
                )
        conn.execute(
            "INSERT INTO request_events (request_id, kind, at, public)"
            " SELECT id, CASE WHEN id % 50 = 0 THEN 'reopened' ELSE 'transferred' END,"
            " requested_at + (COALESCE(closed_at, now()) - requested_at) / 2, false"
            " FROM service_requests WHERE id % 50 = 0 OR id % 33 = 0"
        )
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE service_requests")
        conn.execute("VACUUM ANALYZE request_events")
    return time.perf_counter() - started


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Return (first call ms, median of the next `repeat` calls ms, the result)."""
    t0 = time.perf_counter()
    result = fn()
    cold = (time.perf_counter() - t0) * 1000
    warm = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        warm.append((time.perf_counter() - t0) * 1000)
    return cold, statistics.median(warm), result


def panels(first_day: Any, today: Any, one_type: int | None = None) -> dict[str, Callable[[], Any]]:
    """Every dashboard panel as a call, over 30 days, 12 months and the whole range."""
    from dataclasses import replace

    from app.metrics import backlog, filters, kpis

    def rng(days: int | None) -> filters.Filters:
        first = first_day if days is None else today - timedelta(days=days - 1)
        return filters.Filters(first=first, last=today)

    d30, m12, whole = rng(30), rng(365), rng(None)
    # a type with a few thousand requests a month: few enough for exact percentiles
    exact_read = replace(d30, service_type_id=one_type)
    return {
        "by department, 30 days": lambda: kpis.by_group(d30, "department"),
        "by department, 12 months": lambda: kpis.by_group(m12, "department"),
        "by department, whole range": lambda: kpis.by_group(whole, "department"),
        "by service type, 12 months": lambda: kpis.by_group(m12, "service_type"),
        "by district, 12 months": lambda: kpis.by_group(m12, "district"),
        "by channel, 12 months": lambda: kpis.by_group(m12, "channel"),
        "trend per day, 30 days": lambda: kpis.trend(d30, "day"),
        "trend per week, 12 months": lambda: kpis.trend(m12, "week"),
        "trend per month, whole range": lambda: kpis.trend(whole, "month"),
        "backlog aging": lambda: backlog.aging(whole),
        "map, 5000 most overdue": lambda: backlog.points(whole, 5000),
        "open and overdue by district (live)": lambda: backlog.open_by_group(whole, "district_id"),
        "one type by district, 30 days (exact percentiles)": lambda: kpis.by_group(
            exact_read, "district"
        ),
    }


def mb(n: float) -> str:
    return f"{n / 1024 / 1024:,.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--years", type=float, default=5.0, help="the span of report times")
    parser.add_argument("--repeat", type=int, default=5, help="warm calls per panel")
    parser.add_argument("--seed", type=int, default=311)
    parser.add_argument("--db", default="city311_bench_metrics")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="time the panels on the database and rollups a previous run left (no COPY,"
        " no rebuild): to compare code changes on the same rows",
    )
    args = parser.parse_args()

    dsn, url = database_urls(args)
    print(
        f"Synthetic-from-real: {'Boston 2011 export' if BOSTON_CSV.exists() else 'built-in city'}"
        f" replayed to {args.rows:,} requests over {args.years:g} years"
    )
    if args.reuse:
        from app import create_app

        app = create_app("development", {"SQLALCHEMY_DATABASE_URI": url})
        print(f"reusing {args.db} as a previous run left it")
    else:
        app = prepare(f"{args.pg}/postgres", args.db, url)
        seconds = replay(dsn, args.rows, args.years, args.seed)
        print(f"COPY of {args.rows:,} requests: {seconds:.1f} s")

    from app.core.clock import city_tz
    from app.extensions import db
    from app.metrics import exact, rollup

    with app.app_context():
        if not args.reuse:
            t0 = time.perf_counter()
            months = rollup.rebuild()
            db.session.commit()
            print(f"flask metrics rebuild: {months} months in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        rollup.refresh()
        db.session.commit()
        print(
            f"incremental refresh with nothing changed: {(time.perf_counter() - t0) * 1000:.0f} ms"
        )
        sizes = db.session.execute(
            db.text(
                "SELECT pg_total_relation_size('service_requests'),"
                " pg_total_relation_size('metrics_rollups'),"
                " (SELECT count(*) FROM metrics_rollups),"
                " (SELECT sum(cardinality(hist_keys)) FROM metrics_rollups),"
                " (SELECT min(requested_at) FROM service_requests),"
                # the type whose last 30 days hold closest to 5,000 requests
                " (SELECT service_type_id FROM service_requests"
                "  WHERE requested_at > now() - interval '30 days' GROUP BY 1"
                "  ORDER BY abs(count(*) - 5000) LIMIT 1)"
            )
        ).one()
        db.session.remove()
        db.engine.dispose()
        first_day = sizes[4].astimezone(city_tz()).date()
        today = datetime.now(UTC).astimezone(city_tz()).date()

        results: dict[str, tuple[float, float, Any]] = {}
        for name, fn in panels(first_day, today, sizes[5]).items():
            results[name] = timed(fn, args.repeat)
            db.session.remove()
        end = datetime.now(UTC)
        results["exact raw query (before), by department, 12 months"] = timed(
            lambda: exact.response_times("department", end - timedelta(days=365), end), 1
        )
        db.session.remove()

    with tempfile.TemporaryDirectory(prefix="city311-bench-") as tmp:
        duck = DuckBench(dsn, Path(tmp), app.config["CITY_TIMEZONE"])
        print(f"export to Parquet for DuckDB: {duck.export():.1f} s ({mb(duck.parquet_bytes())})")
        duck_results = {
            name: timed(fn, args.repeat) for name, fn in duck.panels(first_day, today).items()
        }
        duck_memory = duck.memory_bytes()
        agree = duck.check(
            results["by department, 12 months"][2],
            duck_results["by department, 12 months"][2],
            MAX_RELATIVE_ERROR,
        )

    print()
    heads = ("PG cold", "PG warm", "Duck cold", "Duck warm", "warm ratio")
    print(f"{'panel':<52}" + "".join(f"{h:>11}" for h in heads))
    for name, (cold, warm, _) in results.items():
        line = f"{name:<52}{cold:>9.1f}ms{warm:>9.1f}ms"
        if name in duck_results:
            dcold, dwarm, _ = duck_results[name]
            line += f"{dcold:>9.1f}ms{dwarm:>9.1f}ms{dwarm / warm:>10.1f}x"
        print(line)
    print("(warm ratio = DuckDB time / PostgreSQL time: above 1 means the dashboard is faster)")
    print()
    print(f"agreement on 'by department, 12 months': {agree}")
    print(
        f"service_requests on disk: {mb(sizes[0])}; rollups: {mb(sizes[1])}"
        f" ({sizes[2]:,} rows holding {sizes[3]:,} histogram cells)"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(
        f"peak memory of this process (Flask app + DuckDB): {mb(peak)};"
        f" DuckDB's own buffers: {mb(duck_memory)}"
    )


if __name__ == "__main__":
    main()
