"""Helpers the benchmarks share: gunicorn with the production settings, a minimal keep-alive
HTTP client, percentiles, and the CPU time of the web workers and the database backends.

CPU time per request is steadier than requests/s when other work shares the machine, so the
benchmarks print both.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_urls(args: argparse.Namespace) -> tuple[str, str]:
    """Return the bench database's psycopg DSN and SQLAlchemy URL (from --pg and --db)."""
    dsn = f"{args.pg}/{args.db}"
    return dsn, dsn.replace("postgresql://", "postgresql+psycopg://", 1)


def recreate_database(admin_dsn: str, name: str) -> None:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def forget_limit_counts(redis_url: str, prefix: str = "city311-bench") -> None:
    """Delete the benchmarks' rate-limit counts in Redis.

    The cap per contact counts for a day, and every run sends the same contacts again: left
    alone, a later run would be refused (429) for what earlier ones sent.
    """
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"*/{prefix}-limits/*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def start_gunicorn(
    args: argparse.Namespace,
    url: str,
    port: int,
    extra_env: dict[str, str] | None = None,
    root: Path = ROOT,
) -> subprocess.Popen:
    """Start gunicorn with gunicorn.conf.py of `root` (a checkout), wait for /healthz.

    `args.workers`, `args.threads` and `args.worker_class` replace the file's values when set.
    """
    env = {
        **os.environ,
        "CITY311_ENV": "development",
        "DATABASE_URL": url,
        "REDIS_URL": args.redis_url,
        "RQ_QUEUE_PREFIX": "city311-bench",
        "MAIL_OUTBOX_DIR": "/tmp/city311-bench-mail",
        "PYTHONPATH": str(root),
        **(extra_env or {}),
    }
    forget_limit_counts(args.redis_url)
    cmd = [str(Path(sys.executable).parent / "gunicorn"), "-c", str(root / "gunicorn.conf.py")]
    for flag, value in (
        ("--workers", getattr(args, "workers", None)),
        ("--worker-class", getattr(args, "worker_class", None)),
        ("--threads", getattr(args, "threads", None)),
    ):
        if value is not None:
            cmd += [flag, str(value)]
    cmd += ["--bind", f"127.0.0.1:{port}", "wsgi:app"]
    proc = subprocess.Popen(
        cmd, cwd=root, env=env, start_new_session=True, stdout=subprocess.DEVNULL
    )
    # four processes importing the app take long on a machine other work keeps busy
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
                if b" 200 " in sock.recv(200):
                    return proc
        except OSError:
            pass
        time.sleep(0.2)
    stop(proc)
    raise SystemExit("gunicorn did not answer /healthz within 120 s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def process_cpu_seconds(pids: list[int]) -> float:
    """Return the CPU time (user + system) the processes have used so far; gone ones count 0."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def web_pids(master: subprocess.Popen) -> list[int]:
    """Return the pids of gunicorn's master and its workers."""
    pids = [master.pid]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rpartition(")")[2].split()[1]) == master.pid:
                pids.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return pids


def backend_pids(dsn: str, db: str) -> list[int]:
    """Return the pids of the PostgreSQL backends serving database `db`."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (db,),
        ).fetchall()
    return [pid for (pid,) in rows]


def postgres_pids() -> list[int]:
    """Return the pids of every PostgreSQL process on this machine (server and backends)."""
    pids = []
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == "postgres":
                pids.append(int(comm.parent.name))
        except (OSError, ValueError):
            continue
    return pids


def machine_cpu_seconds() -> tuple[float, float]:
    """Return the CPU time all cores have spent busy, and idle, since boot (/proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK"), idle / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """The CPU time of a run: gunicorn's processes, the whole PostgreSQL server, the machine.

    The server's processes are listed at the start and again at the end, so that a backend
    a web worker opens during the run counts whole (listing only the backends present at
    the start missed those, and under-counted the database). The machine's busy time is
    the figure that takes in everything, this benchmark's own client included.
    """

    def __init__(self, gunicorn: subprocess.Popen) -> None:
        self.gunicorn = gunicorn

    def __enter__(self) -> CpuMeter:
        self.web = web_pids(self.gunicorn)
        self.postgres = postgres_pids()
        self.started = (
            process_cpu_seconds(self.web),
            {pid: process_cpu_seconds([pid]) for pid in self.postgres},
            machine_cpu_seconds(),
        )
        return self

    def __exit__(self, *exc: object) -> None:
        web_before, pg_before, (busy_before, idle_before) = self.started
        self.web_seconds = process_cpu_seconds(self.web) - web_before
        self.database_seconds = sum(
            process_cpu_seconds([pid]) - pg_before.get(pid, 0.0) for pid in postgres_pids()
        )
        busy, idle = machine_cpu_seconds()
        self.busy_seconds, self.idle_seconds = busy - busy_before, idle - idle_before

    def line(self, done: int, own_seconds: float) -> str:
        """Return the run's CPU per request, in ms, and the share of the machine left idle."""
        idle = self.idle_seconds / (self.busy_seconds + self.idle_seconds)
        return (
            f"  CPU/request  web {self.web_seconds * 1000 / done:.2f} ms   "
            f"PostgreSQL {self.database_seconds * 1000 / done:.2f} ms   "
            f"load generator {own_seconds * 1000 / done:.2f} ms   "
            f"machine {self.busy_seconds * 1000 / done:.2f} ms (idle {idle:.0%})"
        )


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    """Read one HTTP/1.1 response with a Content-Length: (status, server closes, body)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, close = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value.strip().lower() == "close":
            close = True
    body = await reader.readexactly(length) if length else b""
    return status, close, body


def get_request(path: str, headers: dict[str, str] | None = None) -> bytes:
    """Return the bytes of a keep-alive GET of `path`."""
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode()


def post_bytes(path: str, content_type: str, body: bytes) -> bytes:
    """Return the bytes of a keep-alive POST of `body` to `path`."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def w3c(moment: datetime) -> str:
    """Return a UTC moment as a W3C datetime, as GeoReport's date parameters take it."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def drive(port: int, requests: list[bytes], concurrency: int, time_limit: float) -> dict:
    """Send the raw requests from `concurrency` keep-alive connections; time each answer."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: list[str] = []
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for item in requests:
        queue.put_nowait(item)
    deadline = time.monotonic() + time_limit

    async def client() -> None:
        reader = writer = None
        while not queue.empty() and time.monotonic() < deadline:
            request = queue.get_nowait()
            started = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(request)
                status, close, _ = await read_response(reader)  # type: ignore[arg-type]
            except (OSError, asyncio.IncompleteReadError) as exc:
                errors.append(type(exc).__name__)
                writer = None
                continue
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
            if close:
                writer.close()
                writer = None
        if writer is not None:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return {
        "elapsed": time.perf_counter() - started,
        "latencies": latencies,
        "statuses": statuses,
        "errors": errors,
    }


def time_gets(
    args: argparse.Namespace, url: str, views: list[bytes], env: dict[str, str]
) -> dict[str, Any]:
    """Serve the app with gunicorn.conf.py (and `env`), warm every worker, time `views`.

    Returns requests/s, p50 and p99 in ms, the web processes' CPU per answer in ms, the
    answers by status and the count of connection errors.
    """
    port = free_port()
    proc = start_gunicorn(args, url, port, env)
    try:
        asyncio.run(drive(port, views[:200], args.concurrency, 60))  # every worker warm
        pids = web_pids(proc)
        before = process_cpu_seconds(pids)
        done = asyncio.run(drive(port, views, args.concurrency, args.time_limit))
        cpu = process_cpu_seconds(pids) - before
    finally:
        stop(proc)
    answered = len(done["latencies"]) or 1
    latencies = sorted(done["latencies"])
    return {
        "rate": len(done["latencies"]) / done["elapsed"],
        "p50": percentile(latencies, 50) * 1000,
        "p99": percentile(latencies, 99) * 1000,
        "cpu": cpu * 1000 / answered,
        "statuses": done["statuses"],
        "errors": len(done["errors"]),
    }


def page_arguments(parser: argparse.ArgumentParser, db: str) -> None:
    """Add the options of a benchmark that serves pages in alternating passes (`alternate`)."""
    parser.add_argument("--requests", type=int, default=3000, help="GETs per pass")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per pass")
    parser.add_argument("--db", default=db)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )


def alternate(
    args: argparse.Namespace,
    url: str,
    passes: dict[str, tuple[list[bytes], dict[str, str]]],
    unit: str,
    ratio: tuple[str, str],
) -> None:
    """Time each pass (its GETs, gunicorn's extra environment) in turn, `args.rounds` times.

    Prints a line per pass and round, then the rate of `ratio[0]` over `ratio[1]` (median
    and range over the rounds) and the load average.
    """
    width = max(map(len, passes))
    rounds = []
    for round_ in range(1, args.rounds + 1):
        each = {}
        for label, (views, env) in passes.items():
            r = each[label] = time_gets(args, url, views, env)
            print(
                f"  round {round_}  {label:<{width}} {r['rate']:7.0f} {unit}"
                f"  p50 {r['p50']:6.1f}  p99 {r['p99']:6.1f} ms  web CPU {r['cpu']:5.2f} ms"
                f"  answers {r['statuses']} errors {r['errors']}"
            )
        rounds.append(each)
    over, under = ratio
    ratios = [each[over]["rate"] / each[under]["rate"] for each in rounds]
    print(
        f"{over} / {under}, {unit}: median {statistics.median(ratios):.2f}x"
        f" (range {min(ratios):.2f}-{max(ratios):.2f}x)"
    )
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
