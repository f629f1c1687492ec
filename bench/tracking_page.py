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
import sys
import time

import psycopg
from common import ROOT, alternate, database_urls, get_request, page_arguments
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
    page_arguments(parser, db="city311_bench_tracking")
    parser.add_argument("--recent", type=int, default=300, help="demo requests to load")
    args = parser.parse_args()
    dsn, url = database_urls(args)
    started = time.perf_counter()
    held, ids = prepare(args, dsn)
    print(f"{held}, built in {time.perf_counter() - started:.0f} s")
    print(
        f"{args.requests} GETs per pass from {args.concurrency} connections, gunicorn.conf.py;"
        " tracking pages half in Spanish"
    )
    spanish_half = [
        get_request(
            f"/requests/{ids[n % len(ids)]}",
            {"Accept-Language": "es" if n % 2 else "en-US,en;q=0.8"},
        )
        for n in range(args.requests)
    ]
    open311 = [
        get_request(f"/open311/v2/requests/{ids[n % len(ids)]}.json") for n in range(args.requests)
    ]
    no_log = {"WEB_ACCESS_LOG": ""}
    alternate(
        args,
        url,
        {"tracking page": (spanish_half, no_log), "Open311 request": (open311, no_log)},
        "answers/s",
        ratio=("tracking page", "Open311 request"),
    )


if __name__ == "__main__":
    main()
