"""Warm a web process before it takes traffic.

A new gunicorn worker's first page of each kind cost 50-300 ms more than the next (measured
on the 2-core VM: the home page 210-300 ms against 5 ms, the public performance page
170-210 ms, Open311's request list 50-90 ms): Jinja compiles its templates, SQLAlchemy
compiles its statements, the pool opens its first connection, catalogues are read. After a
deploy or a restart under load, the first residents and apps paid for it, one page kind at
a time in each process. gunicorn.conf.py's post_worker_init calls `warm` before the worker
accepts a connection, so that the process pays for it instead.
"""

from __future__ import annotations

import gc
import logging
import time

from flask import Flask

log = logging.getLogger(__name__)

#: the pages most asked for, all read-only: a warm-up must not store or send anything
PATHS = (
    "/",
    "/performance",
    "/open311/v2/discovery.json",
    "/open311/v2/services.json",
    "/open311/v2/requests.json",
    "/api/v1/services",
)
#: the client address the warm-up's requests come from (TEST-NET-1, RFC 5737): the rate
#: limits count it apart from every real client
ADDRESS = "192.0.2.1"
#: past this many seconds the rest is skipped: gunicorn stops a worker that is silent for
#: its timeout (30 s), and a slow database would warm nothing anyway
BUDGET_SECONDS = 10.0


def warm(app: Flask) -> dict[str, int]:
    """GET each of PATHS through the app, in this process; return each one's status.

    A page that fails is logged and skipped: a worker that cannot warm (the database is
    still starting) serves as it would have without. What the pages left in memory (the
    compiled templates and statements) lives as long as the process, so it is frozen with
    what loading made (see wsgi.py), out of the garbage collector's walks.
    """
    client = app.test_client()
    statuses: dict[str, int] = {}
    deadline = time.monotonic() + BUDGET_SECONDS
    for path in PATHS:
        if time.monotonic() > deadline:
            log.warning("warming stopped after %.0f s, before %s", BUDGET_SECONDS, path)
            break
        try:
            response = client.get(path, environ_base={"REMOTE_ADDR": ADDRESS})
        except Exception:  # noqa: BLE001 (any failure: the worker still starts)
            log.warning("warming %s failed", path, exc_info=True)
            statuses[path] = 0
            continue
        statuses[path] = response.status_code
        response.close()
    gc.collect()
    gc.freeze()
    return statuses
