"""The public tracking page under a storm's load, against Open311's answer for one request.

Every resident who reports on the web lands on the tracking page (`/requests/<id>`), and
comes back to it from the receipt's link, so in a storm it is served about as often as
intake itself. The baseline, run in the same process and alternated with it round by
round, is Open311's `GET requests/<id>.json` of the same requests: the same facts, written
by PostgreSQL as JSON, with no HTML around them.

It builds a database of its own (city311_bench_tracking), migrates it and loads the demo
city with its recent requests (Boston's catalogue and wards from ../shared/data when
present, else the built-in city), then starts gunicorn with gunicorn.conf.py and sends
GETs from keep-alive connections: the tracking page of every request in turn, half of them
in Spanish, and the Open311 answer of the same ids. It prints requests/s, p50/p99, the
web processes' CPU per answer and the ratio of the two rates in each round.

    .venv/bin/python bench/tracking_page.py --requests 3000 --rounds 2

It prints figures only; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import psycopg
from common import (
    ROOT,
    database_urls,
    get_request,
    time_gets,
)
from synthetic import demo_database

sys.path.insert(0, str(ROOT))


def prepare(args: argparse.Namespace, dsn: str) -> tuple[str, list[int]]:
    """Build the bench database with the demo city; return what it holds and the ids."""
    report = demo_database(args, recent=args.recent)
    with psycopg.connect(dsn) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM service_requests ORDER BY id")]
        events = conn.execute("SELECT count(*) FROM request_events").fetchone()
    held = (
        f"{report.city}: {len(ids)} requests with {events[0] if events else 0} events,"
        f" {report.service_types} service types, {report.districts} districts"
    )
    return held, ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="GETs per pass")
    parser.add_argument("--recent", type=int, default=300, help="demo requests to load")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per pass")
    parser.add_argument("--db", default="city311_bench_tracking")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    args = parser.parse_args()
    dsn, url = database_urls(args)
    started = time.perf_counter()
    held, ids = prepare(args, dsn)
    print(f"{held}, built in {time.perf_counter() - started:.0f} s")
    print(
        f"{args.requests} GETs per pass from {args.concurrency} connections, gunicorn.conf.py;"
        " tracking pages half in Spanish"
    )
    passes = {
        "tracking page": [
            get_request(
                f"/requests/{ids[n % len(ids)]}",
                {"Accept-Language": "es" if n % 2 else "en-US,en;q=0.8"},
            )
            for n in range(args.requests)
        ],
        "Open311 request": [
            get_request(f"/open311/v2/requests/{ids[n % len(ids)]}.json")
            for n in range(args.requests)
        ],
    }
    ratios = []
    for round_ in range(1, args.rounds + 1):
        each = {}
        for label, views in passes.items():
            r = each[label] = time_gets(args, url, views, {"WEB_ACCESS_LOG": ""})
            print(
                f"  round {round_}  {label:<16} {r['rate']:7.0f} answers/s"
                f"  p50 {r['p50']:6.1f}  p99 {r['p99']:6.1f} ms  web CPU {r['cpu']:5.2f} ms"
                f"  answers {r['statuses']} errors {r['errors']}"
            )
        ratios.append(each["tracking page"]["rate"] / each["Open311 request"]["rate"])
    print(
        f"tracking page / Open311 request, answers/s: median {statistics.median(ratios):.2f}x"
        f" (range {min(ratios):.2f}-{max(ratios):.2f}x)"
    )
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
