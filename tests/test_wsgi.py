"""wsgi.py: what loading the app made is frozen out of the garbage collector's walks.

A full collection walked every object of the loaded app while holding the GIL: 110-310 ms
in which none of a web process's threads answered (bench/README.md, "soak.py").
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import TEST_DB_URL

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import gc, wsgi
print(gc.get_freeze_count(), len(gc.get_objects()), wsgi.app.name)
"""


def test_the_loaded_app_is_frozen_out_of_full_collections(tmp_path) -> None:
    env = {
        **os.environ,
        "CITY311_ENV": "development",
        "DATABASE_URL": TEST_DB_URL,
        "SECRET_KEY": "wsgi-test",
        "MEDIA_ROOT": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    frozen, walked, name = done.stdout.split()
    assert name == "app"
    # the app's modules, routes and settings: frozen, not walked by each full collection
    assert int(frozen) > 50_000
    assert int(walked) < int(frozen) / 10
