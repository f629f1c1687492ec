"""The resident report form under a storm's load: rendered for each view, against the page
every anonymous visitor shares (RESIDENT_FORM_CACHE_SECONDS).

It builds a database of its own (city311_bench_form), migrates it and loads the demo city
(Boston's catalogue and wards from ../shared/data when present, else the built-in city),
then, alternating round by round, starts gunicorn with gunicorn.conf.py with the form's
cache off (0 s, every view rendered) and at its default, and sends GETs of `/` from
keep-alive connections, half of them asking for Spanish. Each view is a first visit (no
cookie), as a storm's residents are. It prints requests/s, p50/p99, the web processes' CPU
per page and the ratio of the two rates in each round.

    .venv/bin/python bench/form_page.py --requests 3000 --rounds 2

It prints figures only; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from typing import Any

from common import (
    ROOT,
    database_urls,
    get_request,
    time_gets,
)
from synthetic import demo_database

sys.path.insert(0, str(ROOT))


def prepare(args: argparse.Namespace) -> str:
    """Build the bench database with the demo city; say what it holds."""
    # the requests of the last days give the form's picker its "Most reported" list
    report = demo_database(args, recent=30)
    return f"{report.city}: {report.service_types} service types, {report.districts} districts"


def measure(args: argparse.Namespace, url: str, seconds: str) -> dict[str, Any]:
    """Serve the form with RESIDENT_FORM_CACHE_SECONDS=`seconds` and time the GETs."""
    views = [
        get_request("/", {"Accept-Language": "es" if n % 2 else "en-US,en;q=0.8"})
        for n in range(args.requests)
    ]
    return time_gets(
        args, url, views, {"WEB_ACCESS_LOG": "", "RESIDENT_FORM_CACHE_SECONDS": seconds}
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per pass")
    parser.add_argument("--db", default="city311_bench_form")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    args = parser.parse_args()
    dsn, url = database_urls(args)
    started = time.perf_counter()
    city = prepare(args)
    print(f"{city}, built in {time.perf_counter() - started:.0f} s")
    print(
        f"{args.requests} first-visit GETs of / per pass (half in Spanish) from"
        f" {args.concurrency} connections, gunicorn.conf.py"
    )
    ratios = []
    for round_ in range(1, args.rounds + 1):
        each = {}
        for label, seconds in (("rendered per view", "0"), ("shared page", "5")):
            r = each[label] = measure(args, url, seconds)
            print(
                f"  round {round_}  {label:<18} {r['rate']:7.0f} pages/s"
                f"  p50 {r['p50']:6.1f}  p99 {r['p99']:6.1f} ms  web CPU {r['cpu']:5.2f} ms"
                f"  answers {r['statuses']} errors {r['errors']}"
            )
        ratios.append(each["shared page"]["rate"] / each["rendered per view"]["rate"])
    print(
        f"shared page / rendered per view, pages/s: median {statistics.median(ratios):.1f}x"
        f" (range {min(ratios):.1f}-{max(ratios):.1f}x)"
    )
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
