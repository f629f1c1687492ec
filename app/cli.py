"""flask commands that span features: demo data, provisioning, the worker."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the command groups."""
