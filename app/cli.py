"""flask commands that span features: demo data, provisioning, the worker."""

from __future__ import annotations

import click
from flask import Flask

from app.auth.commands import users_cli
from app.core import app_object, worker
from app.demo.commands import demo_cli
from app.geo.commands import import_districts_cmd
from app.imports.commands import import_cli

# `flask import districts` joins the history importers in the one `flask import` group
import_cli.add_command(import_districts_cmd)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop once the queues are empty.")
@click.option("--no-sweep", is_flag=True, help="Do not run the periodic outbox/photo sweeps.")
def worker_cmd(burst: bool, no_sweep: bool) -> None:
    """Run the rq worker (notifications, media, default) with the periodic sweeps."""
    worker.run_worker(app_object(), burst=burst, with_sweeper=not no_sweep)


def init_app(app: Flask) -> None:
    """Register the command groups."""
    app.cli.add_command(worker_cmd)
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(import_cli)
