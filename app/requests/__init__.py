"""requests feature package: the service catalogue, intake forms, staff pages and the API."""

from flask import Flask

from app.requests import models as models  # noqa: F401  (registers the tables)


def init_app(app: Flask) -> None:
    """Register this feature's blueprints, signals and commands."""
    from app.extensions import api, csrf
    from app.org import service as org
    from app.requests import api as requests_api
    from app.requests import call_api as call_api  # noqa: F401  (endpoints on blp)
    from app.requests import (
        call_pages,
        catalogue,
        catalogue_api,
        catalogue_pages,
        privacy,
        privacy_cli,
        schemas,
        staff_pages,
        triage_pages,
        views,
    )
    from app.requests import duplicates_api as duplicates_api  # noqa: F401  (endpoints on blp)
    from app.requests import history_api as history_api  # noqa: F401  (endpoints on blp)
    from app.requests import public_api as public_api  # noqa: F401  (endpoints on blp)
    from app.requests import routing_api as routing_api  # noqa: F401  (endpoints on blp)
    from app.requests import staff_api as staff_api  # noqa: F401  (adds its endpoints to blp)
    from app.requests.models import MAX_TEXT
    from app.requests.words import words_context

    org.register_open_work(catalogue.open_requests_by_department)
    app.register_blueprint(views.bp)
    app.register_blueprint(staff_pages.bp)
    app.register_blueprint(triage_pages.bp)
    app.register_blueprint(call_pages.bp)

    @app.context_processor
    def request_words() -> dict[str, object]:
        # every page that shows a request, or takes text about one, speaks the same way
        return {"max_text": MAX_TEXT, **words_context()}

    components = api.spec.components
    if "bearerAuth" not in components.security_schemes:
        components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    # GET /requests/<id> answers either view; its response names both
    for name, schema in (
        ("RequestPublicOut", schemas.RequestPublicOut),
        ("RequestStaffOut", schemas.RequestStaffOut),
    ):
        if name not in components.schemas:
            components.schema(name, schema=schema)
    api.register_blueprint(requests_api.blp)
    csrf.exempt(requests_api.blp)
    api.register_blueprint(catalogue_api.blp)
    csrf.exempt(catalogue_api.blp)
    app.register_blueprint(catalogue_pages.bp)
    privacy.init_app(app)
    app.cli.add_command(privacy_cli.privacy_cli)
