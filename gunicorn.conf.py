"""Production settings for gunicorn, read by scripts/run and bench/open311_intake.py.

    gunicorn -c gunicorn.conf.py wsgi:app

The values are those the intake benchmark found best on a 2-core machine (bench/README.md):
2 processes of 8 threads, one process a core. A process stores the POSTs its threads receive
together in one statement (app/requests/intake_batch.py), so fewer, fuller processes make
fewer, fuller statements: 1,002-1,155 POSTs/s against 736-1,088 with 4 processes of 4. On a
bigger machine, WEB_WORKERS is its cores; each thread may hold one database connection.
The access log's lines are gunicorn's combined format, written by AccessLogger below.
Each worker warms its app (app/core/warmup.py) before it accepts a connection.
Environment: WEB_WORKERS, WEB_THREADS, HOST, PORT, WEB_ACCESS_LOG ("-" is standard output,
empty turns the access log off), WEB_CONTROL_SOCKET (a path: gunicornc's control socket),
WEB_WARMUP ("0": no warm-up).
"""

import logging
import os
import time
from typing import Any

from gunicorn.config import AccessLogFormat
from gunicorn.glogging import Logger

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "8"))
# a request that takes longer than this is stuck: the worker is restarted
timeout = 30
graceful_timeout = 30
# long enough for a reverse proxy's or a busy client's pooled connection to be reused
keepalive = 30
accesslog = os.environ.get("WEB_ACCESS_LOG", "-") or None
# One listening socket, opened by the master and shared by the workers. A socket per worker
# (SO_REUSEPORT) spreads kept-alive connections more evenly (bench/README.md), but a reload
# forks the new workers and stops the old ones before the new have bound theirs, and the
# connections queued on an old socket were reset, even with net.ipv4.tcp_migrate_req=1
# (tests/e2e/test_reload.py).
reuse_port = False


class AccessLogger(Logger):
    """gunicorn's logger, with the line of its default access log format made directly.

    gunicorn makes every access line from a dictionary of all its format's atoms, every
    request header and every environ variable, escaped one by one, then logs it through
    `logging`'s caller lookup: about 50 us a request, 3-8% of a web process's CPU on an
    intake POST (bench/README.md). For the default format (the combined log format), this
    writes the same line from the nine values it holds, to the same handlers. Any other
    `access_log_format` than gunicorn's default is gunicorn's own way.
    """

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        if self.cfg.access_log_format != AccessLogFormat.default:
            return super().access(resp, req, environ, request_time)
        try:
            get = environ.get
            user = "-"
            if get("HTTP_AUTHORIZATION"):
                user = _quoted(self._get_user(environ) or "-")
            status = resp.status
            if isinstance(status, str):
                status = status.split(None, 1)[0]
            sent = getattr(resp, "sent", None)
            line = (
                f"{get('REMOTE_ADDR', '-')} - {user} {self.now()} "
                f'"{_quoted(environ["REQUEST_METHOD"])} {_quoted(environ["RAW_URI"])} '
                f'{_quoted(environ["SERVER_PROTOCOL"])}" {status} '
                f'{"-" if sent is None else sent} "{_quoted(get("HTTP_REFERER", "-"))}" '
                f'"{_quoted(get("HTTP_USER_AGENT", "-"))}"'
            )
            log = self.access_log
            if log.isEnabledFor(logging.INFO):
                # Logger.info would first look for its caller in the stack, for a line
                # whose format names none
                log.handle(log.makeRecord(log.name, logging.INFO, "", 0, line, None, None))
        except Exception:
            super().access(resp, req, environ, request_time)


def _quoted(value: str) -> str:
    return value.replace('"', '\\"') if '"' in value else value


logger_class = AccessLogger
errorlog = "-"
loglevel = "info"
# gunicorn 25 and later open a control socket at one fixed path per user ($HOME/.gunicorn or
# $XDG_RUNTIME_DIR); a second instance on the host (another site, the tests) would take it
# over, and a read-only home refuses it. It is opened only where a path is given.
control_socket = os.environ.get("WEB_CONTROL_SOCKET", "")
control_socket_disable = not control_socket


def post_worker_init(worker: Any) -> None:
    """Warm the worker's app before it accepts a connection (app/core/warmup.py)."""
    if os.environ.get("WEB_WARMUP", "1") == "0":
        return
    # imported here, in the worker that has loaded the app: the master never imports the
    # app, so that `kill -HUP` still loads new code
    from app.core.warmup import warm

    started = time.monotonic()
    statuses = warm(worker.wsgi)
    worker.log.info(
        "Warmed in %.2f s: %s",
        time.monotonic() - started,
        ", ".join(f"{path} {status}" for path, status in statuses.items()),
    )
