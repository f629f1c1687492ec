"""The DuckDB side of bench/metrics.py: the same rows as Parquet, the same numbers computed
from them directly (exact percentiles, no rollups), for the comparison."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import psycopg

_EXPORT_REQUESTS = """
COPY (SELECT id, department_id, service_type_id, district_id, channel, status,
             extract(epoch FROM requested_at) AS requested_at,
             extract(epoch FROM acknowledged_at) AS acknowledged_at,
             extract(epoch FROM due_at) AS due_at, extract(epoch FROM closed_at) AS closed_at,
             closure_reason, held_seconds, ST_Y(location) AS lat, ST_X(location) AS long
      FROM service_requests) TO STDOUT WITH (FORMAT csv, HEADER)
"""
_EXPORT_EVENTS = """
COPY (SELECT request_id, kind, extract(epoch FROM at) AS at FROM request_events
      WHERE kind IN ('reopened', 'transferred')) TO STDOUT WITH (FORMAT csv, HEADER)
"""
#: the exported epoch seconds become timestamps with a time zone again in Parquet
_TIMES = {
    "requests": ("requested_at", "acknowledged_at", "due_at", "closed_at"),
    "events": ("at",),
}
_KEYS = {
    "department": "department_id",
    "service_type": "service_type_id",
    "district": "district_id",
    "channel": "channel",
}
_COUNTED = (
    "(closure_reason IS NULL"
    " OR closure_reason NOT IN ('duplicate', 'referred', 'no_action_needed'))"
)
_CLOSE_H = "greatest(epoch(closed_at) - epoch(requested_at), 0) / 3600.0"
_NET_H = "greatest(epoch(closed_at) - epoch(requested_at) - held_seconds, 0) / 3600.0"
_ACK_H = "greatest(epoch(acknowledged_at) - epoch(requested_at), 0) / 3600.0"


class DuckBench:
    def __init__(self, dsn: str, folder: Path, tz: str) -> None:
        self.dsn, self.folder, self.tz = dsn, folder, tz
        self.con = duckdb.connect()
        self.con.execute(f"SET TimeZone = '{tz}'")

    def export(self) -> float:
        """Copy the requests and events out of PostgreSQL into Parquet; return seconds."""
        started = time.perf_counter()
        for name, sql in (("requests", _EXPORT_REQUESTS), ("events", _EXPORT_EVENTS)):
            path = self.folder / f"{name}.csv"
            with psycopg.connect(self.dsn) as conn, path.open("wb") as out:
                with conn.cursor().copy(sql) as copy:
                    for block in copy:
                        out.write(block)
            times = ", ".join(f'to_timestamp("{c}") AS "{c}"' for c in _TIMES[name])
            self.con.execute(
                f"COPY (SELECT * REPLACE ({times}) FROM read_csv('{path}', header = true))"
                f" TO '{self.folder / name}.parquet' (FORMAT parquet)"
            )
            path.unlink()
        self.con.execute(f"CREATE VIEW sr AS SELECT * FROM '{self.folder}/requests.parquet'")
        self.con.execute(f"CREATE VIEW ev AS SELECT * FROM '{self.folder}/events.parquet'")
        return time.perf_counter() - started

    def parquet_bytes(self) -> int:
        return sum(os.path.getsize(p) for p in self.folder.glob("*.parquet"))

    def memory_bytes(self) -> int:
        row = self.con.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchone()
        return int(row[0] or 0) if row else 0

    def _day(self, column: str) -> str:
        return f"CAST(timezone('{self.tz}', {column}) AS DATE)"

    def figures(self, key: str, first: date, last: date) -> list[tuple]:
        """Every KPI per `key` (a column or a period expression on a timestamp's local day)."""
        rng = f"BETWEEN DATE '{first}' AND DATE '{last}'"
        rk = key.format(t="requested_at")
        ck = key.format(t="closed_at")
        ek = key.format(t='ev."at"')
        sql = f"""
        WITH req AS (
            SELECT {rk} AS k, count(*) AS volume, count(acknowledged_at) AS acknowledged,
                   quantile_cont({_ACK_H}, 0.5) AS ack_median
            FROM sr WHERE {self._day("requested_at")} {rng} GROUP BY 1),
        clo AS (
            SELECT {ck} AS k, count(*) AS closed, count(*) FILTER ({_COUNTED}) AS counted,
                   count(*) FILTER ({_COUNTED} AND closed_at <= due_at) AS within_sla,
                   quantile_cont({_CLOSE_H}, 0.5) FILTER ({_COUNTED}) AS median,
                   quantile_cont({_CLOSE_H}, 0.9) FILTER ({_COUNTED}) AS p90,
                   quantile_cont({_NET_H}, 0.5) FILTER ({_COUNTED}) AS net_median,
                   quantile_cont({_NET_H}, 0.9) FILTER ({_COUNTED}) AS net_p90
            FROM sr WHERE {self._day("closed_at")} {rng} GROUP BY 1),
        evs AS (
            SELECT {ek} AS k, count(*) FILTER (WHERE kind = 'reopened') AS reopened,
                   count(*) FILTER (WHERE kind = 'transferred') AS transferred
            FROM ev JOIN sr ON sr.id = ev.request_id
            WHERE {self._day('ev."at"')} {rng} GROUP BY 1)
        SELECT coalesce(req.k, clo.k, evs.k) AS k, volume, acknowledged, ack_median, closed,
               counted, within_sla, median, p90, net_median, net_p90, reopened, transferred
        FROM req FULL JOIN clo ON clo.k IS NOT DISTINCT FROM req.k
                 FULL JOIN evs ON evs.k IS NOT DISTINCT FROM coalesce(req.k, clo.k)
        ORDER BY 1
        """
        return self.con.execute(sql).fetchall()

    def by_group(self, group_by: str, first: date, last: date) -> list[tuple]:
        rows = self.figures(_KEYS[group_by], first, last)
        open_now = self.con.execute(
            f"SELECT {_KEYS[group_by]}, count(*), count(*) FILTER (WHERE due_at < now())"
            " FROM sr WHERE status <> 'closed' GROUP BY 1"
        ).fetchall()
        return rows + [("open", *r) for r in open_now]

    def aging(self) -> list[tuple]:
        return self.con.execute(
            "SELECT CASE WHEN age < 3 THEN 0 WHEN age < 8 THEN 1 WHEN age < 31 THEN 2"
            " WHEN age < 91 THEN 3 ELSE 4 END AS b, count(*), count(*) FILTER (WHERE overdue)"
            " FROM (SELECT (epoch(now()) - epoch(requested_at)) / 86400 AS age,"
            " due_at < now() AS overdue FROM sr WHERE status <> 'closed') GROUP BY 1 ORDER BY 1"
        ).fetchall()

    def points(self, limit: int) -> list[tuple]:
        return self.con.execute(
            "SELECT id, lat, long, service_type_id, due_at < now() FROM sr"
            f" WHERE status <> 'closed' ORDER BY due_at LIMIT {limit}"
        ).fetchall()

    def panels(self, first_day: date, today: date) -> dict[str, Callable[[], Any]]:
        d30, m12 = today - timedelta(days=29), today - timedelta(days=364)
        day = self._day("{t}")
        week = f"date_trunc('week', {day})"
        month = f"date_trunc('month', {day})"
        return {
            "by department, 30 days": lambda: self.by_group("department", d30, today),
            "by department, 12 months": lambda: self.by_group("department", m12, today),
            "by department, whole range": lambda: self.by_group("department", first_day, today),
            "by service type, 12 months": lambda: self.by_group("service_type", m12, today),
            "by district, 12 months": lambda: self.by_group("district", m12, today),
            "by channel, 12 months": lambda: self.by_group("channel", m12, today),
            "trend per day, 30 days": lambda: self.figures(day, d30, today),
            "trend per week, 12 months": lambda: self.figures(week, m12, today),
            "trend per month, whole range": lambda: self.figures(month, first_day, today),
            "backlog aging": self.aging,
            "map, 5000 most overdue": lambda: self.points(5000),
        }

    def check(self, report: Any, duck_rows: list[tuple], max_error: float) -> str:
        """Say whether the rollup report and DuckDB agree: counts exactly, p50/p90 within error."""
        by_name = {r.key: r for r in report.rows}
        ids = dict(self._department_codes())
        problems = 0
        for row in duck_rows:
            if row[0] == "open" or row[0] not in ids:
                continue
            fig = by_name.get(ids[row[0]])
            if fig is None:
                problems += 1
                continue
            if (fig.volume, fig.closed, fig.closed_counted, fig.within_sla) != (
                row[1] or 0,
                row[4] or 0,
                row[5] or 0,
                row[6] or 0,
            ):
                problems += 1
            for mine, theirs in (
                (fig.median_hours_to_close, row[7]),
                (fig.p90_hours_to_close, row[8]),
            ):
                if theirs and mine is not None and abs(mine - theirs) > max_error * theirs + 0.01:
                    problems += 1
        return "yes, every department" if problems == 0 else f"NO: {problems} differences"

    def _department_codes(self) -> list[tuple[int, str]]:
        with psycopg.connect(self.dsn) as conn:
            return list(conn.execute("SELECT id, code FROM departments"))
