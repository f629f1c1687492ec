"""Production settings for gunicorn, read by scripts/run and bench/open311_intake.py.

    gunicorn -c gunicorn.conf.py wsgi:app

The values are those the intake benchmark found best on a 2-core machine (bench/README.md):
2 processes of 8 threads, one process a core. A process stores the POSTs its threads receive
together in one statement (app/requests/intake_batch.py), so fewer, fuller processes make
fewer, fuller statements: 1,002-1,155 POSTs/s against 736-1,088 with 4 processes of 4. On a
bigger machine, WEB_WORKERS is its cores; each thread may hold one database connection.
Environment: WEB_WORKERS, WEB_THREADS, HOST, PORT, WEB_ACCESS_LOG ("-" is standard output,
empty turns the access log off), WEB_CONTROL_SOCKET (a path: gunicornc's control socket).
"""

import os

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
errorlog = "-"
loglevel = "info"
# gunicorn 25 and later open a control socket at one fixed path per user ($HOME/.gunicorn or
# $XDG_RUNTIME_DIR); a second instance on the host (another site, the tests) would take it
# over, and a read-only home refuses it. It is opened only where a path is given.
control_socket = os.environ.get("WEB_CONTROL_SOCKET", "")
control_socket_disable = not control_socket
