"""Benchmark the database's side of intake: the intake statement from many connections at once.

When the web processes run on machines of their own, PostgreSQL is what limits intake. This
runs the app's own intake statement (with a receipt owed) from --clients processes, each on
its own autocommitted connection, as the POSTs of that many web threads would, alternating
three ways in the same run:

- every: a request a statement, each sending its NOTIFY, as intake did until December 2026;
- window: a request a statement, a client notifying only as the first of its 50 ms window
  (app/core/wakeups.py: PostgreSQL serialises the commits that notify);
- batched: four requests a statement from a quarter as many clients, as a web process of
  four threads stores the POSTs that arrive together (app/requests/intake_batch.py).

It prints requests/s, the CPU each costs the whole PostgreSQL server and the machine, and
what the backends were waiting on (pg_stat_activity, sampled every 20 ms).

    .venv/bin/python bench/intake_db.py --clients 16 --statements 1000 --rounds 3

It prints figures only; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
from common import machine_cpu_seconds, postgres_pids, process_cpu_seconds
from open311_intake import points_inside, prepare_from_args

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def intake_statements(url: str) -> tuple[str, str, dict[str, Any]]:
    """Return the intake statement with and without its NOTIFY, and one report's parameters."""
    from sqlalchemy import event

    from app import create_app
    from app.core import direct, wakeups
    from app.extensions import db
    from app.requests import intake

    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": url})
    seen: list[dict[str, Any]] = []
    with app.test_request_context("/"):

        def record(conn: Any, cursor: Any, sql: str, params: Any, *rest: Any) -> None:
            if "pg_notify" in sql:  # the intake statement
                seen.append(params)

        event.listen(db.engine, "before_cursor_execute", record)
        report = intake.NewRequest(
            service_code="pothole",
            description="Deep pothole in the right lane",
            lat=0.0,
            long=0.0,
            address="1 Main St",
            email="resident@example.org",
        )
        try:  # the parameters are what count; (0, 0) is outside the city: nothing is stored
            intake.submit_request(report, channel="open311", alone=True)
        except Exception:  # noqa: BLE001
            pass
        dialect = db.engine.dialect
        every, window = (
            direct.driver_sql(intake.intake_statement(w), dialect) for w in (True, False)
        )
        db.engine.dispose()
    assert "pg_notify" in every and "pg_notify" not in window
    assert wakeups.NOTIFY_EVERY_SECONDS > 0
    return every, window, seen[-1]


def client(args: tuple[str, str, str, dict, list, str, float, int]) -> float:
    """Run one client's statements of `batch` requests each, notifying each time or once per
    `every_seconds`; return the CPU seconds its backend spent on them."""
    dsn, with_notify, without, params, points, tag, every_seconds, batch = args
    report = json.loads(params["rows"])[0]  # the captured request, placed anew each time
    with psycopg.connect(dsn, autocommit=True) as conn:
        backend = [conn.execute("SELECT pg_backend_pid()").fetchone()[0]]
        started = process_cpu_seconds(backend)
        last = -every_seconds
        for n in range(0, len(points), batch):
            now = time.monotonic()
            notify = now - last >= every_seconds
            if notify:
                last = now
            rows = [
                {
                    **report,
                    "ord": k,
                    "lat": lat,
                    "long": long,
                    "description": f"Pothole {tag} {n + k}",
                }
                for k, (lat, long) in enumerate(points[n : n + batch])
            ]
            conn.execute(with_notify if notify else without, {**params, "rows": json.dumps(rows)})
        return process_cpu_seconds(backend) - started


def run(
    dsn: str, statements: tuple[str, str, dict], points: list, clients: int, mode: str
) -> dict[str, float]:
    """Run one round of `mode`; return its rate, CPU per statement and wait events."""
    every, window, params = statements
    every_seconds = 0.0 if mode == "every" else 0.05
    # batched: the requests of 4 threads stored together, as one web process's are
    batch = 4 if mode == "batched" else 1
    clients = max(1, clients // batch)
    share = len(points) // clients // batch * batch
    jobs = [
        (
            dsn,
            every,
            window,
            params,
            points[i * share : (i + 1) * share],
            f"{mode}{i}",
            every_seconds,
            batch,
        )
        for i in range(clients)
    ]
    waits: Counter[str] = Counter()
    done = threading.Event()

    def sample() -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            while not done.wait(0.02):
                for (event,) in conn.execute(
                    "SELECT coalesce(wait_event_type || ':' || wait_event, 'running') "
                    "FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state = 'active' AND pid <> pg_backend_pid()"
                ):
                    waits[event] += 1

    sampler = threading.Thread(target=sample, daemon=True)
    pg_before = {pid: process_cpu_seconds([pid]) for pid in postgres_pids()}
    busy_before, _ = machine_cpu_seconds()
    started = time.perf_counter()
    sampler.start()
    with multiprocessing.get_context("fork").Pool(clients) as pool:
        backends = sum(pool.map(client, jobs))
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    count = share * clients  # requests
    # the clients' backends have ended: they measured themselves; the rest of the server here
    running = set(postgres_pids())
    pg = backends + sum(
        process_cpu_seconds([pid]) - before for pid, before in pg_before.items() if pid in running
    )
    busy = machine_cpu_seconds()[0] - busy_before
    total = sum(waits.values()) or 1
    return {
        "rate": count / elapsed,
        "pg_ms": pg * 1000 / count,
        "machine_ms": busy * 1000 / count,
        "waits": ", ".join(f"{k} {v / total:.0%}" for k, v in waits.most_common(4)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--statements", type=int, default=1000, help="per client and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--wards", type=Path, help="a GeoJSON of ward polygons (default: Boston)")
    parser.add_argument("--db", default="city311_bench")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    args = parser.parse_args()

    dsn, url, wards, features, _ = prepare_from_args(args)
    statements = intake_statements(url)
    per_round = args.clients * args.statements
    points = points_inside(features, per_round * args.rounds * 3 + 500)
    # the first plans and the statistics of a non-empty table, before anything is timed
    run(dsn, statements, points[:500], min(args.clients, 4), "every")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ANALYZE")
    print(f"wards: {len(features)} from {wards}; {args.clients} clients, {per_round} a round")
    modes = ("every", "window", "batched")
    results: dict[str, list[dict]] = {mode: [] for mode in modes}
    at = 500
    for n in range(args.rounds):
        for mode in modes:
            result = run(dsn, statements, points[at : at + per_round], args.clients, mode)
            at += per_round
            results[mode].append(result)
            print(
                f"  round {n + 1} {mode:7}  {result['rate']:6.0f} requests/s   PostgreSQL "
                f"{result['pg_ms']:.2f} ms   machine {result['machine_ms']:.2f} ms a request"
                f"   waits: {result['waits']}",
                flush=True,
            )
    for mode in modes[1:]:
        ratios = [
            m["rate"] / e["rate"] for e, m in zip(results["every"], results[mode], strict=True)
        ]
        print(f"ratio {mode}/every, requests/s: {min(ratios):.2f}–{max(ratios):.2f}")


if __name__ == "__main__":
    main()
