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
import sys
import time

from common import ROOT, alternate, database_urls, get_request, page_arguments
from synthetic import demo_database

sys.path.insert(0, str(ROOT))


def prepare(args: argparse.Namespace) -> str:
    """Build the bench database with the demo city; say what it holds."""
    # the requests of the last days give the form's picker its "Most reported" list
    report = demo_database(args, recent=30)
    return f"{report.city}: {report.service_types} service types, {report.districts} districts"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    page_arguments(parser, db="city311_bench_form")
    args = parser.parse_args()
    dsn, url = database_urls(args)
    started = time.perf_counter()
    city = prepare(args)
    print(f"{city}, built in {time.perf_counter() - started:.0f} s")
    print(
        f"{args.requests} first-visit GETs of / per pass (half in Spanish) from"
        f" {args.concurrency} connections, gunicorn.conf.py"
    )
    views = [
        get_request("/", {"Accept-Language": "es" if n % 2 else "en-US,en;q=0.8"})
        for n in range(args.requests)
    ]
    # RESIDENT_FORM_CACHE_SECONDS: 0 renders every view, 5 is the default
    alternate(
        args,
        url,
        {
            "rendered per view": (
                views,
                {"WEB_ACCESS_LOG": "", "RESIDENT_FORM_CACHE_SECONDS": "0"},
            ),
            "shared page": (views, {"WEB_ACCESS_LOG": "", "RESIDENT_FORM_CACHE_SECONDS": "5"}),
        },
        "pages/s",
        ratio=("shared page", "rendered per view"),
    )


if __name__ == "__main__":
    main()
