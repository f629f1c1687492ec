"""Soak: a constant 200 requests/s mix against gunicorn and a real worker, minute by minute.

70% Open311 POSTs with a reporter email (each owes a receipt), 30% GETs of requests.json and
services.json, sent at a fixed rate (open loop: a slow answer does not slow the sender) for
--minutes (10 by default). The first --settle seconds (5) of the same mix come before the
first minute and are left out of its figures, not out of the receipts: the processes open
their database connections, and a worker that is still warming up (app/core/warmup.py)
takes its share of the connections. Receipts go through a real rq worker to an SMTP server on
loopback that this script runs. Each minute it prints p50/p99, answers and errors, and the
RSS of every gunicorn and worker process; at the end, the outbox backlog by status and how
many receipts the SMTP server got (and whether any reporter got two).

    .venv/bin/python bench/soak.py --minutes 10

It prints figures only; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import psycopg
import redis
from aiosmtpd.controller import Controller
from autovacuum import analyze_in_background
from common import (
    free_port,
    percentile,
    read_response,
    start_gunicorn,
    stop,
)
from open311_intake import (
    ROOT,
    form_body,
    points_inside,
    post_request,
    prepare_from_args,
)
from rq import Queue

#: the soak's own rq queues (and rate-limit counts), apart from a running install's
QUEUE_PREFIX = "city311-soak"


class Inbox:
    """aiosmtpd handler: count the messages each recipient gets."""

    def __init__(self) -> None:
        self.recipients: Counter[str] = Counter()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd hook name)
        self.recipients.update(envelope.rcpt_tos)
        return "250 OK"


def empty_queues(redis_url: str, prefix: str) -> int:
    """Empty the rq queues named with this prefix; return how many jobs were dropped.

    A stopped run's worker may leave jobs behind (a rollup refresh enqueued each minute):
    run at the start of the next, they blur its worker log and its first minute.
    """
    from app.core.queue import QUEUE_NAMES

    client = redis.Redis.from_url(redis_url)
    dropped = sum(Queue(f"{prefix}-{name}", connection=client).empty() for name in QUEUE_NAMES)
    client.close()
    return dropped


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def family(root: int) -> list[int]:
    """Return `root` and every descendant process id."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


async def send(
    pool: asyncio.Queue, port: int, request: bytes, due: float
) -> tuple[float, int | None]:
    """Send one request; its latency counts from when it was due, waiting for a connection too."""
    reader, writer = await pool.get()
    try:
        if writer is None:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request)
        status, close, _ = await read_response(reader)
        if close:
            writer.close()
            reader = writer = None
        return time.perf_counter() - due, status
    except (OSError, asyncio.IncompleteReadError):
        reader = writer = None
        return time.perf_counter() - due, None
    finally:
        pool.put_nowait((reader, writer))


def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


async def soak(
    args: argparse.Namespace, port: int, key: str, points, pids, mailed: Callable[[], int]
) -> int:
    """Send the mix for args.minutes; print a line a minute; return how many POSTs were 200."""
    pool: asyncio.Queue = asyncio.Queue()
    for _ in range(args.connections):
        pool.put_nowait((None, None))
    rng = random.Random(311)
    interval, total = 1 / args.rate, int(args.minutes * 60 * args.rate)
    posted_ok = 0
    minute: list[tuple[float, int | None]] = []
    tasks: set[asyncio.Task] = set()
    # every request's (due, latency, kind, status), for --timeline
    timeline: list[tuple[float, float, str, int | None]] | None = [] if args.timeline else None
    # the settling seconds come first: sent (their receipts are owed) but not in the minutes
    settle = int(args.settle * args.rate)
    started = time.perf_counter() + settle * interval
    print(
        "minute  sent  late s  p50 ms  p99 ms  not 200  errors  mailed  load  RSS MiB (pid:rss …)"
    )

    def report(index: int) -> None:
        # how far the sender itself ran behind its schedule (a busy machine)
        late = max(0.0, time.perf_counter() - (started + index * 60))
        lat = sorted(t for t, _ in minute)
        bad = sum(1 for _, s in minute if s is not None and s != 200)
        errors = sum(1 for _, s in minute if s is None)
        rss = " ".join(f"{p}:{rss_kib(p) // 1024}" for root in pids() for p in family(root))
        print(
            f"{index:6d} {len(minute):5d} {late:7.1f} {percentile(lat, 50) * 1000:7.1f} "
            f"{percentile(lat, 99) * 1000:7.1f} {bad:8d} {errors:7d} {mailed():7d} "
            f"{os.getloadavg()[0]:5.1f}  {rss}",
            flush=True,
        )
        minute.clear()

    async def one(request: bytes, is_post: bool, due: float) -> None:
        nonlocal posted_ok
        latency, status = await send(pool, port, request, due)
        if due >= started:
            minute.append((latency, status))
        if timeline is not None:
            timeline.append((due - started, latency, "post" if is_post else "get", status))
        if is_post and status == 200:
            posted_ok += 1

    for n in range(-settle, total):
        due = started + n * interval
        # always yield, so that requests already sent are read even when behind schedule
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        if n and n % int(60 * args.rate) == 0:
            report(n // int(60 * args.rate))
        roll = rng.random()
        if roll < 0.7:
            request, is_post = post_request(form_body(key, n, True, points[n % len(points)])), True
        elif roll < 0.85:
            request, is_post = get("/open311/v2/requests.json"), False
        else:
            request, is_post = get("/open311/v2/services.json"), False
        task = asyncio.create_task(one(request, is_post, due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    report(int(args.minutes))
    if timeline is not None:
        with open(args.timeline, "w") as out:
            out.write(f"# started {time.time() - (time.perf_counter() - started):.3f} (epoch)\n")
            out.write("due_s,latency_ms,kind,status\n")
            for due, latency, kind, status in sorted(timeline):
                out.write(f"{due:.3f},{latency * 1000:.1f},{kind},{status or ''}\n")
    return posted_ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=200.0, help="requests/s")
    parser.add_argument("--connections", type=int, default=64, help="keep-alive connections")
    parser.add_argument("--drain", type=float, default=120.0, help="seconds to wait for mail")
    parser.add_argument(
        "--settle",
        type=float,
        default=5.0,
        help="seconds of the mix sent before the first minute and left out of its figures",
    )
    parser.add_argument("--db", default="city311_soak")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument("--wards", type=Path, help="a GeoJSON of ward polygons (default: Boston)")
    parser.add_argument("--worker-log", type=Path, default=Path("/tmp/city311-soak-worker.log"))
    parser.add_argument(
        "--timeline",
        type=Path,
        help="write each request's due time (s from the start), latency, kind and status here",
    )
    args = parser.parse_args()
    args.workers = args.threads = args.worker_class = None  # gunicorn.conf.py's
    # a SIGTERM (e.g. from `timeout`) stops gunicorn and the worker too, as Ctrl-C does
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    dsn, url, _, features, key = prepare_from_args(args)
    points = points_inside(features, 5000)
    dropped = empty_queues(args.redis_url, QUEUE_PREFIX)
    if dropped:
        print(f"dropped {dropped} jobs a stopped soak had left in its rq queues")

    inbox = Inbox()
    smtp_port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    env = {
        "CITY311_ENV": "development",
        "DATABASE_URL": url,
        "REDIS_URL": args.redis_url,
        "RQ_QUEUE_PREFIX": QUEUE_PREFIX,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
    }
    stop_analyzing = threading.Event()
    analyze_in_background(dsn, stop_analyzing)
    port = free_port()
    web = start_gunicorn(args, url, port, env)
    # the worker logs a line per message: keep them out of the figures
    worker_log = args.worker_log.open("w")
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "worker"],
        cwd=ROOT,
        env={**os.environ, **env},
        start_new_session=True,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    try:
        posted = asyncio.run(
            soak(
                args,
                port,
                key,
                points,
                lambda: [web.pid, worker.pid],
                lambda: sum(inbox.recipients.values()),
            )
        )
        drain_started = time.monotonic()
        deadline = time.monotonic() + args.drain
        while time.monotonic() < deadline and sum(inbox.recipients.values()) < posted:
            time.sleep(1)
        drained_in = time.monotonic() - drain_started
        time.sleep(2)  # a receipt sent twice would arrive now
    finally:
        stop_analyzing.set()
        stop(web)
        stop(worker)
        worker_log.close()
        smtp.stop()
    with psycopg.connect(dsn) as conn:
        backlog = dict(conn.execute("SELECT status, count(*) FROM outbox GROUP BY status"))
    twice = sum(1 for count in inbox.recipients.values() if count > 1)
    print(
        f"the last receipts took {drained_in:.0f} s after the load "
        f"stopped (--drain {args.drain:.0f} s at most)"
    )
    print(f"POSTs answered 200: {posted} (each owes a receipt); worker log: {args.worker_log}")
    print(f"outbox by status: {backlog}")
    print(
        f"receipts at the SMTP server: {sum(inbox.recipients.values())} "
        f"to {len(inbox.recipients)} reporters; reporters mailed more than once: {twice}; "
        f"POSTs whose receipt never arrived: {posted - len(inbox.recipients)}"
    )
    if inbox.recipients:
        print(f"mean messages per reporter: {statistics.fmean(inbox.recipients.values()):.3f}")


if __name__ == "__main__":
    main()
