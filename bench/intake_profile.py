"""Profile intake POSTs through the WSGI app, in this process: where the time goes, and how
many SQL statements and Redis commands each POST costs.

    .venv/bin/python bench/intake_profile.py --api json --requests 1000

It builds the database as open311_intake.py does (`--db`, default city311_bench_profile),
creates the app as gunicorn would (`CITY311_ENV=development`), sends `--warmup` POSTs, then
`--requests` POSTs through Flask's test client (the whole WSGI stack: routing, the body's
parsing, limits, intake, commit, the answer) under cProfile, one thread, analyzing the
written tables when autovacuum would (bench/autovacuum.py). It prints the wall
and CPU time per POST, the statements and Redis commands per POST, and the costliest
functions. It prints figures only; it asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import resource
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from autovacuum import analyze_in_background
from common import forget_limit_counts
from open311_intake import form_body, json_body, points_inside, prepare_from_args


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--api", choices=["open311", "json"], default="json")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--no-contact", action="store_true")
    parser.add_argument("--no-limits", action="store_true", help="RATELIMIT_ENABLED=false")
    parser.add_argument("--top", type=int, default=30, help="functions printed")
    parser.add_argument(
        "--no-profile",
        action="store_true",
        help="only time the POSTs: no cProfile, no counting of statements and commands",
    )
    parser.add_argument("--save", type=Path, help="also write the profile here, for pstats")
    parser.add_argument("--db", default="city311_bench_profile")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--wards", type=Path)
    args = parser.parse_args()

    dsn, url, _, features, key = prepare_from_args(args)
    points = points_inside(features, args.warmup + args.requests)

    os.environ.update(
        CITY311_ENV="development",
        DATABASE_URL=url,
        REDIS_URL=args.redis_url,
        RQ_QUEUE_PREFIX="city311-bench",
        RATELIMIT_REPORT="100000000/minute;100000000/hour",
        MAIL_OUTBOX_DIR="/tmp/city311-bench-mail",
    )
    if args.no_limits:
        os.environ["RATELIMIT_ENABLED"] = "false"
    forget_limit_counts(args.redis_url)
    import redis
    from sqlalchemy import event

    from app import create_app
    from app.extensions import db

    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": url})
    client = app.test_client()
    statements: Counter[str] = Counter()
    redis_commands: Counter[str] = Counter()

    def post(n: int) -> int:
        lat_long = points[n % len(points)]
        if args.api == "json":
            resp = client.post(
                "/api/v1/requests",
                data=json_body(n, not args.no_contact, lat_long),
                content_type="application/json",
            )
        else:
            resp = client.post(
                "/open311/v2/requests.json",
                data=form_body(key, n, not args.no_contact, lat_long),
                content_type="application/x-www-form-urlencoded",
            )
        return resp.status_code

    for n in range(args.warmup):
        post(-1 - n)
    # plans made while the tables were empty read them whole (bench/autovacuum.py)
    analyzing = threading.Event()
    analyze_in_background(dsn, analyzing)

    with app.app_context():
        engine = db.engine

    def on_sql(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        statements[" ".join(statement.split())[:60]] += 1

    original = redis.connection.Connection.send_packed_command

    def counted(self: Any, command: Any, check_health: bool = True) -> None:
        first = command[0] if isinstance(command, list | tuple) else command
        words = bytes(first).split(b"\r\n")
        redis_commands[words[2].decode(errors="replace") if len(words) > 2 else "?"] += 1
        original(self, command, check_health)

    # counting costs CPU of its own, and a listener on the engine takes intake off the
    # driver's bare connection (core.direct): --no-profile times the POSTs alone
    counting = not args.no_profile
    if counting:
        event.listen(engine, "before_cursor_execute", on_sql)
        redis.connection.Connection.send_packed_command = counted  # type: ignore[method-assign]
    profile = cProfile.Profile()
    statuses: Counter[int] = Counter()
    cpu0, wall0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    if not args.no_profile:
        profile.enable()
    for n in range(args.requests):
        statuses[post(n)] += 1
    profile.disable()
    wall, cpu1 = time.perf_counter() - wall0, resource.getrusage(resource.RUSAGE_SELF)
    analyzing.set()
    if counting:
        redis.connection.Connection.send_packed_command = original  # type: ignore[method-assign]
        event.remove(engine, "before_cursor_execute", on_sql)
    cpu = cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime

    count = args.requests
    print(
        f"{count} POSTs of {args.api} {'without contact' if args.no_contact else 'with an email'}"
        f"{', limits off' if args.no_limits else ''}, one thread"
        f"{'' if args.no_profile else ', under cProfile'}: "
        f"{json.dumps(dict(statuses))}"
    )
    print(f"  per POST     wall {wall * 1000 / count:.2f} ms   CPU {cpu * 1000 / count:.2f} ms")
    if counting:
        print("  SQL per POST (BEGIN/COMMIT not seen by SQLAlchemy's cursor events):")
        for text, n in statements.most_common():
            print(f"    {n / count:5.2f}  {text}")
        print(f"  Redis commands per POST: {sum(redis_commands.values()) / count:.2f}")
        for name, n in redis_commands.most_common():
            print(f"    {n / count:5.2f}  {name}")
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if args.save and not args.no_profile:
        profile.dump_stats(args.save)
    if not args.no_profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
