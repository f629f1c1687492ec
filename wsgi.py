"""WSGI entry point for gunicorn: `gunicorn wsgi:app`."""

import gc

from app import create_app

app = create_app()

# What loading made (modules, routes, settings, about 200,000 objects) lives as long as the
# process. The cyclic garbage collector's full collections walked all of it, holding the
# GIL, so every thread of a web process stopped for 110-310 ms each time (bench/README.md,
# "soak.py"); frozen, it is no longer walked, and a full collection walks only what
# requests have kept since. Collected first, so that no garbage of loading is kept.
gc.collect()
gc.freeze()
