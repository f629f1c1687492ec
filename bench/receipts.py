"""Benchmark receipt delivery: how many receipts a second one worker hands to SMTP.

It builds a database of its own (city311_bench_receipts by default) as open311_intake.py
does, files `--receipts` requests with a reporter email through the intake service (each
owes a receipt), starts an SMTP server on loopback in a process of its own (aiosmtpd, which
counts each message by its outbox row), and then drains the outbox:

- `--mode drain` (default): `tasks.drain()` in this process, timed; with `--profile`, under
  cProfile (the 25 costliest functions are printed);
- `--mode worker`: a real `flask worker` process, woken by the NOTIFY of the rows, timed
  from its start until the SMTP server has every receipt.

It prints receipts/s, the CPU time per receipt of the draining process, the outbox rows by
status, and how many receipts arrived more than once.

    .venv/bin/python bench/receipts.py --receipts 2000

It prints figures only; it asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import os
import pstats
import resource
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
from common import free_port
from open311_intake import ROOT, points_inside, prepare_from_args


def smtp_server(port: int, path: str, ready: Any) -> None:
    """Run aiosmtpd on `port`, appending each message's outbox row id to `path`."""
    import asyncio

    from aiosmtpd.controller import Controller

    out = Path(path).open("a", buffering=1)

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            for line in envelope.content.split(b"\r\n"):
                if line.startswith(b"X-City311-Outbox:"):
                    out.write(line.split(b":", 1)[1].strip().decode() + "\n")
                    break
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    asyncio.run(asyncio.sleep(10**6))


def received(path: Path) -> Counter[str]:
    return Counter(path.read_text().split()) if path.exists() else Counter()


def file_requests(app: Any, count: int, points: list[tuple[float, float]]) -> None:
    """File `count` requests with a reporter email (each owes a receipt), in batches."""
    from app.extensions import db
    from app.requests import service

    with app.test_request_context():
        for n in range(count):
            lat, long = points[n % len(points)]
            service.submit_request(
                service.NewRequest(
                    service_code="pothole",
                    description=f"Deep pothole in the right lane, receipt bench {n}",
                    lat=lat,
                    long=long,
                    address=f"{n} Main St",
                    name=f"Bench Resident{n}",
                    email=f"resident{n}@example.org",
                ),
                channel="open311",
            )
            if n % 200 == 199:
                db.session.commit()
        db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--receipts", type=int, default=2000)
    parser.add_argument("--mode", choices=["drain", "worker"], default="drain")
    parser.add_argument("--profile", action="store_true", help="cProfile the drain (in-process)")
    parser.add_argument("--db", default="city311_bench_receipts")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--wards", type=Path, help="a GeoJSON of ward polygons (default: Boston)")
    parser.add_argument(
        "--app-root", type=Path, help="drain with the app of another checkout (to compare)"
    )
    args = parser.parse_args()
    if args.app_root:
        sys.path.insert(0, str(args.app_root.resolve()))

    dsn, url, _, features, _ = prepare_from_args(args)

    smtp_port = free_port()
    inbox = Path(f"/tmp/city311-bench-receipts-{os.getpid()}.txt")
    inbox.unlink(missing_ok=True)
    ready = multiprocessing.Event()
    server = multiprocessing.Process(
        target=smtp_server, args=(smtp_port, str(inbox), ready), daemon=True
    )
    server.start()
    ready.wait(10)
    env = {
        "CITY311_ENV": "development",
        "DATABASE_URL": url,
        "REDIS_URL": args.redis_url,
        "RQ_QUEUE_PREFIX": "city311-bench-receipts",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
    }
    os.environ.update(env)
    from app import create_app

    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        file_requests(app, args.receipts, points_inside(features, 2000))
    owed = args.receipts
    print(f"{owed} receipts owed; SMTP server on 127.0.0.1:{smtp_port} (own process)")

    worker = None
    try:
        if args.mode == "drain":
            with app.app_context():
                from app.notifications import tasks

                profile = cProfile.Profile() if args.profile else None
                cpu0 = resource.getrusage(resource.RUSAGE_SELF)
                started = time.perf_counter()
                if profile:
                    profile.enable()
                sent = 0
                while sent < owed:
                    drained = tasks.drain()
                    sent += drained
                    if not drained:
                        break
                if profile:
                    profile.disable()
                elapsed = time.perf_counter() - started
                cpu1 = resource.getrusage(resource.RUSAGE_SELF)
                cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        else:
            log = Path("/tmp/city311-bench-receipts-worker.log").open("w")
            started = time.perf_counter()
            worker = subprocess.Popen(
                [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "worker"],
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            while sum(received(inbox).values()) < owed and time.perf_counter() - started < 600:
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
            fields = Path(f"/proc/{worker.pid}/stat").read_text().rpartition(")")[2].split()
            cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(15)
        time.sleep(0.5)
        server.terminate()

    got = received(inbox)
    with psycopg.connect(dsn) as conn:
        statuses: dict[str, int] = dict(
            conn.execute("SELECT status, count(*) FROM outbox GROUP BY status")
        )
    print(f"mode {args.mode}: {sum(got.values())} messages in {elapsed:.2f} s")
    print(f"  throughput   {sum(got.values()) / elapsed:8.0f} receipts/s")
    print(f"  CPU/receipt  {cpu * 1000 / max(1, sum(got.values())):.2f} ms (the draining process)")
    print(f"  outbox       {statuses}")
    print(f"  duplicates   {sum(n - 1 for n in got.values())}   missing {owed - len(got)}")
    load = os.getloadavg()
    print(f"  load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    inbox.unlink(missing_ok=True)
    if args.profile and args.mode == "drain":
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
        pstats.Stats(profile).sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
