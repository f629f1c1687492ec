"""Autovacuum's ANALYZE, done by the benchmarks on a server that runs with autovacuum off."""

from __future__ import annotations

import threading

import psycopg

#: the tables an intake writes
WRITTEN = "service_requests, request_events, outbox, metrics_open_deltas"


#: the tables of WRITTEN that autovacuum would analyze now: more rows changed since their
#: last ANALYZE than its threshold and scale factor allow
_DUE = """
SELECT s.relname
FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
WHERE s.relname = ANY(%s)
  AND s.n_mod_since_analyze > current_setting('autovacuum_analyze_threshold')::int
      + current_setting('autovacuum_analyze_scale_factor')::float8 * greatest(c.reltuples, 0)
"""
#: a table's GIN indexes, whose pending lists autovacuum's ANALYZE merges (ginvacuum.c)
_GIN = """
SELECT i.indexrelid::regclass::text
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
WHERE i.indrelid = %s::regclass AND a.amname = 'gin'
"""


def analyze_in_background(dsn: str, stop: threading.Event, every: float = 1.0) -> None:
    """Do autovacuum's ANALYZE of the tables intake writes, if this server has it off.

    A benchmark's database starts empty: every plan a connection caches then (a foreign
    key's check among them) reads whole tables, and only new statistics make PostgreSQL
    plan again. On a production server autovacuum analyzes a table once more rows changed
    than autovacuum_analyze_threshold (50) plus autovacuum_analyze_scale_factor (10%) of
    it, and its ANALYZE also merges the pending lists of the table's GIN indexes, which an
    INSERT would otherwise merge itself once they pass gin_pending_list_limit. This does
    the same: it analyzes at once, then checks every `every` seconds in a daemon thread
    until `stop` is set.
    """
    tables = [name.strip() for name in WRITTEN.split(",")]
    with psycopg.connect(dsn, autocommit=True) as conn:
        if conn.execute("SHOW autovacuum").fetchone() != ("off",):
            return
        conn.execute(f"ANALYZE {WRITTEN}")  # the rows written so far (a warm-up's)
    print(
        f"autovacuum is off on this server: {WRITTEN} analyzed as autovacuum would"
        f" (checked every {every:g} s)",
        flush=True,
    )

    def loop() -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            while not stop.wait(every):
                for (table,) in conn.execute(_DUE, (tables,)).fetchall():
                    conn.execute(f"ANALYZE {table}")
                    for (index,) in conn.execute(_GIN, (table,)).fetchall():
                        conn.execute("SELECT gin_clean_pending_list(%s::regclass)", (index,))

    threading.Thread(target=loop, daemon=True, name="analyze").start()
