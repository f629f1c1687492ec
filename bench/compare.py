"""Compare city311's Open311 server with another GeoReport v2 server: same reads, same POSTs.

The other server is any GeoReport v2 implementation already running on a loopback port with
the same requests stored (`--other`, the base URL its `services.json` hangs from); this script
does not build it. city311 is served from the database `bench/reads.py` built (`--db`, by
default city311_bench_reads) by gunicorn with gunicorn.conf.py, with the Open311 list cache
off so that every read is the database's work, unless `--ours` names a running server.

Each read is built from each server's own answers (its service codes, its request ids, its
points), so the two are asked for the same rows however each numbers them. Then, for
`--rounds` rounds, every read is sent `--count` times from `--concurrency` keep-alive
connections to one server and then to the other, alternating, so that both meet the same
machine. The figure is the ratio of requests per second, city311's over the other's (the
median of the rounds), with each side's p50/p99 beside it.

    .venv/bin/python bench/compare.py --other http://127.0.0.1:8001/api/georeport/v2 \\
        --other-key '' --rounds 3

The reads: the newest page (`page_size`, default 500: the largest page many servers allow),
one type's open requests, 30 days of closed requests, one request by id, the service list,
and a POST of a new request with the reporter's email. It prints figures only; it asserts
nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    ROOT,
    database_urls,
    drive,
    free_port,
    get_request,
    percentile,
    post_bytes,
    start_gunicorn,
    stop,
    w3c,
)

sys.path.insert(0, str(ROOT))


class Server:
    """A GeoReport v2 server at a loopback base URL, and what the reads need of its data."""

    def __init__(self, name: str, base: str, api_key: str) -> None:
        parts = urlsplit(base.rstrip("/"))
        if parts.hostname not in ("127.0.0.1", "localhost") or not parts.port:
            raise SystemExit(f"{base}: give a loopback URL with a port, e.g. http://127.0.0.1:8001")
        self.name, self.port, self.path, self.api_key = name, parts.port, parts.path, api_key
        self.codes: list[str] = []
        self.ids: list[str] = []
        self.points: list[tuple[float, float]] = []

    def url(self, resource: str, params: dict[str, Any] | None = None) -> str:
        return f"{self.path}/{resource}" + (f"?{urlencode(params)}" if params else "")

    def get_json(self, resource: str, params: dict[str, Any] | None = None) -> Any:
        address = f"http://127.0.0.1:{self.port}{self.url(resource, params)}"
        with urllib.request.urlopen(address, timeout=120) as answer:
            return json.load(answer)

    def learn(self, page: int, windows: list[tuple[str, str]], rng: random.Random) -> None:
        """Read the server's service codes, and request ids and points from its answers."""
        # a service with attributes (metadata) may require answers a plain POST lacks
        services = self.get_json("services.json")
        self.codes = sorted(s["service_code"] for s in services if not s.get("metadata"))
        for start, end in windows[:10]:
            rows = self.get_json(
                "requests.json", {"start_date": start, "end_date": end, "page_size": page}
            )
            self.ids += [str(r["service_request_id"]) for r in rows]
            self.points += [
                (float(r["lat"]), float(r["long"])) for r in rows if r.get("lat") is not None
            ]
        if not self.ids or not self.points:
            raise SystemExit(f"{self.name} answered no requests with a location: nothing to ask")
        rng.shuffle(self.ids)


def post_request(server: Server, code: str, point: tuple[float, float], n: int) -> bytes:
    body = urlencode(
        {
            "api_key": server.api_key,
            "service_code": code,
            "lat": f"{point[0]:.6f}",
            "long": f"{point[1]:.6f}",
            "description": f"Benchmark report {n}: a pothole by the kerb, about a foot across.",
            "email": f"resident{n % 5000}@example.org",
            "first_name": "Alex",
            "last_name": "Benchmark",
        }
    ).encode()
    return post_bytes(server.url("requests.json"), "application/x-www-form-urlencoded", body)


def reads(
    server: Server, codes: list[str], windows: list[tuple[str, str]], args: argparse.Namespace
) -> dict[str, list[bytes]]:
    """Return, by read, the raw HTTP requests to send to `server` (the same mix on both)."""
    rng = random.Random(7)  # the same codes and windows, in the same order, for each server
    count, page = args.count, args.page_size
    return {
        f"requests.json newest {page}": [
            get_request(server.url("requests.json", {"page_size": page}))
        ]
        * count,
        "requests.json one type, open": [
            get_request(
                server.url(
                    "requests.json",
                    {"service_code": rng.choice(codes), "status": "open", "page_size": page},
                )
            )
            for _ in range(count)
        ],
        "requests.json 30 days, closed": [
            get_request(
                server.url(
                    "requests.json",
                    {"start_date": s, "end_date": e, "status": "closed", "page_size": page},
                )
            )
            for s, e in (rng.choice(windows) for _ in range(count))
        ],
        "requests/<id>.json": [
            get_request(server.url(f"requests/{server.ids[i % len(server.ids)]}.json"))
            for i in range(count)
        ],
        "services.json": [get_request(server.url("services.json"))] * count,
        "POST requests.json with an email": [
            post_request(
                server, rng.choice(codes), server.points[i % len(server.points)], args.seed + i
            )
            for i in range(count)
        ],
    }


def measure(server: Server, items: list[bytes], concurrency: int, limit: float) -> dict:
    asyncio.run(drive(server.port, items[:3], 1, limit))  # a warm connection and cache
    done = asyncio.run(drive(server.port, items, concurrency, limit))
    latencies = sorted(done["latencies"])
    good = sum(n for status, n in done["statuses"].items() if 200 <= status < 300)
    return {
        "rate": good / done["elapsed"],
        "p50": percentile(latencies, 50) * 1000,
        "p99": percentile(latencies, 99) * 1000,
        "statuses": done["statuses"],
        "errors": len(done["errors"]),
    }


def our_server(args: argparse.Namespace) -> tuple[str, str, Callable[[], None]]:
    """Start city311 on the benchmark database; return its base URL, an API key and a stop."""
    from app import create_app
    from app.extensions import db
    from app.open311 import keys

    _, url = database_urls(args)
    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        _, key = keys.create_key(f"compare {datetime.now(UTC):%H%M%S}", "")
        db.session.commit()
        db.engine.dispose()
    port = free_port()
    no_cache = {"WEB_ACCESS_LOG": "", "OPEN311_FEED_CACHE_SECONDS": "0"}
    proc = start_gunicorn(args, url, port, no_cache)
    return f"http://127.0.0.1:{port}/open311/v2", key, lambda: stop(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--other", required=True, help="the other server's GeoReport base URL")
    parser.add_argument("--other-key", default="", help="its api_key for POSTs")
    parser.add_argument("--other-name", default="other")
    parser.add_argument("--ours", help="a running city311's base URL (default: start one)")
    parser.add_argument("--ours-key", default="", help="with --ours: an Open311 API key")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int, default=100, help="requests per read and round")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--post-concurrency", type=int, default=16)
    parser.add_argument("--page-size", type=int, default=500)
    parser.add_argument("--span-days", type=int, default=700, help="history the windows lie in")
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds per read")
    parser.add_argument("--only", default="", help="run only the reads whose name has this")
    parser.add_argument("--seed", type=int, default=int(datetime.now(UTC).timestamp()))
    parser.add_argument("--workers", type=int, help="city311's; default: gunicorn.conf.py's")
    parser.add_argument("--threads", type=int, help="city311's; default: gunicorn.conf.py's")
    parser.add_argument("--db", default="city311_bench_reads")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    args = parser.parse_args()

    rng = random.Random(args.seed)
    now = datetime.now(UTC)
    windows = []
    for _ in range(50):
        start = now - timedelta(days=rng.uniform(40, args.span_days))
        windows.append((w3c(start), w3c(start + timedelta(days=30))))

    stop_ours: Callable[[], None] = lambda: None  # noqa: E731
    if args.ours:
        ours_url, ours_key = args.ours, args.ours_key
    else:
        ours_url, ours_key, stop_ours = our_server(args)
    try:
        servers = [
            Server("city311", ours_url, ours_key),
            Server(args.other_name, args.other, args.other_key),
        ]
        for server in servers:
            server.learn(args.page_size, windows, rng)
        codes = sorted(set(servers[0].codes) & set(servers[1].codes))
        if not codes:
            raise SystemExit("The two servers share no service_code: load the same services.")
        plan = {s.name: reads(s, codes, windows, args) for s in servers}
        names = [n for n in plan[servers[0].name] if args.only in n]
        results: dict[str, dict[str, list[dict]]] = {
            n: {s.name: [] for s in servers} for n in names
        }
        for round_no in range(args.rounds):
            order = servers if round_no % 2 == 0 else servers[::-1]
            for name in names:
                concurrency = args.post_concurrency if name.startswith("POST") else args.concurrency
                for server in order:
                    items = plan[server.name][name]
                    results[name][server.name].append(
                        measure(server, items, concurrency, args.time_limit)
                    )
    finally:
        stop_ours()

    ours, other = servers[0].name, servers[1].name
    print(
        f"\n{now:%Y-%m-%d %H:%M} UTC, {args.rounds} rounds alternating, {args.count} requests"
        f" per read from {args.concurrency} connections ({args.post_concurrency} for POSTs);"
        " requests/s (p50/p99 ms), and city311's rate over the other's"
    )
    print(f"  {'read':<34} {ours:>26} {other:>26} {'ratio':>13}")
    for name, by_server in results.items():
        cells = []
        for server_name in (ours, other):
            runs = by_server[server_name]
            rate = statistics.median(r["rate"] for r in runs)
            p50 = statistics.median(r["p50"] for r in runs)
            p99 = max(r["p99"] for r in runs)
            cells.append(f"{rate:7.1f} ({p50:5.0f}/{p99:5.0f})")
        # a round where the other answered nothing it could be compared on has no ratio
        ratios = [
            a["rate"] / b["rate"]
            for a, b in zip(by_server[ours], by_server[other], strict=True)
            if b["rate"]
        ]
        ratio = (
            f"{statistics.median(ratios):5.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
            if ratios
            else "n/a"
        )
        print(f"  {name:<34} {cells[0]:>26} {cells[1]:>26} {ratio:>13}")
        for server_name in (ours, other):
            bad: dict[int, int] = {}
            for run in by_server[server_name]:
                for status, n in run["statuses"].items():
                    if not 200 <= status < 300:
                        bad[status] = bad.get(status, 0) + n
            errors = sum(r["errors"] for r in by_server[server_name])
            if bad or errors:
                print(
                    f"    {server_name}: answers not 2xx {json.dumps(bad)},"
                    f" connection errors {errors}"
                )


if __name__ == "__main__":
    main()
