"""org: the city's departments and crews, the reference data every feature refers to.

It sits below auth (a user belongs to a department and maybe a crew) and above core.
"""

from flask import Flask

from app.org import models as models  # noqa: F401  (registers the tables)


def init_app(app: Flask) -> None:
    """Nothing to register yet: departments and crews are managed through their service."""
