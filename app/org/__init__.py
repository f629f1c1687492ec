"""org: the city's departments and crews, the reference data every feature refers to.

It sits below auth (a user belongs to a department and maybe a crew) and above core.
"""

from flask import Flask

from app.org import models as models  # noqa: F401  (registers the tables)


def init_app(app: Flask) -> None:
    """Register the admin pages and API of departments and crews."""
    from app.extensions import api, csrf
    from app.org import api as org_api
    from app.org import views

    app.register_blueprint(views.bp)
    api.register_blueprint(org_api.blp)
    csrf.exempt(org_api.blp)
