"""The GeoReport v2 endpoints at /open311/v2, and the admin page of API keys."""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from app.auth.permissions import roles_required
from app.auth.roles import ADMIN
from app.core import direct
from app.core.errors import DomainError, Forbidden, NotFound
from app.core.limits import RateLimited
from app.core.replica import reads_from_replica
from app.extensions import db
from app.open311 import catalogue, feed_cache, intake, params, queries, updates
from app.open311 import keys as api_keys  # the admin view below is named keys
from app.open311.formats import render, render_errors, render_json_text
from app.requests.words import pick_language

log = logging.getLogger(__name__)

bp = Blueprint("open311", __name__, url_prefix="/open311")
admin_bp = Blueprint("open311_admin", __name__, url_prefix="/admin/open311")

FMT = "<any(xml, json):fmt>"
_EXTENSION = re.compile(r"\.(xml|json)$")
#: photo fields of the clients we know: ours and Helsinki's `media`, FixMyStreet's `photo1`
PHOTO_FIELDS = ("media", "media[]", "photo1", "photo")


def path_format() -> str:
    """Return the format the path asks for; XML, the one the spec requires, when unknown."""
    match = _EXTENSION.search(request.path)
    return match.group(1) if match else "xml"


def error_response(status: int, code: int, description: str) -> Response:
    return render_errors(path_format(), status, [(code, description)])


# ---------------------------------------------------------------------------------------------
# errors: always the spec's <errors>/[{code, description}], in the path's format


def _too_many(err: RateLimited) -> Response:
    # 429, not the spec's 400: clients and their HTTP libraries retry on it after Retry-After
    response = error_response(429, 429, err.message)
    response.headers.update(err.headers)
    return response


@bp.errorhandler(DomainError)
def _domain_error(err: DomainError) -> Response:
    # nothing is committed: the session's teardown rolls back whatever the request began
    if isinstance(err, RateLimited):
        return _too_many(err)
    if isinstance(err, NotFound):
        status = 404
    elif isinstance(err, Forbidden):
        status = 403
    else:
        status = 400  # the spec: 400 for everything that is neither missing nor forbidden
    return error_response(status, err.status_code, err.message)


def _http_error(err: HTTPException) -> Response:
    code = err.code or 500
    if code == 404:
        message = (
            "There is no such Open311 resource: the methods are discovery, services, "
            "services/<code>, requests, requests/<id>, tokens/<token> and "
            "servicerequestupdates, each ending in .xml or .json."
        )
        return error_response(404, 404, message)
    if isinstance(err, MethodNotAllowed):
        response = error_response(405, 405, f"{request.method} is not allowed here.")
        response.headers["Allow"] = ", ".join(err.valid_methods or [])
        return response
    if code in (401, 403):
        return error_response(403, 403, err.description or "Forbidden.")
    if code == 413:
        limit_mb = current_app.config["MAX_PHOTO_BYTES"] / (1024 * 1024)
        return error_response(400, 413, f"The upload is too large: at most {limit_mb:g} MB.")
    if code >= 500:
        return error_response(code, code, "The server failed; try again later.")
    return error_response(400, code, err.description or err.name)


@bp.errorhandler(HTTPException)
def _bp_http_error(err: HTTPException) -> Response:
    return _http_error(err)


@bp.errorhandler(InternalServerError)
def _bp_internal_error(err: InternalServerError) -> Response:
    return _http_error(err)


def register_app_error_handlers(app: Flask) -> None:
    """Answer unmatched paths and methods under /open311 in the spec's format.

    Routing errors happen before any blueprint is chosen, so blueprint handlers never see
    them; these app handlers take /open311 paths and hand every other path on unchanged.
    """
    for code in (404, 405):
        # a handler another feature registered for this code keeps its paths
        earlier = next(iter(app.error_handler_spec[None][code].values()), None)

        def handler(err: HTTPException, earlier: Any = earlier) -> Any:
            if request.path == "/open311" or request.path.startswith("/open311/"):
                return _http_error(err)
            fallback = earlier or app.error_handler_spec[None][None].get(HTTPException)
            return fallback(err) if fallback else err

        app.register_error_handler(code, handler)


@bp.before_request
def _check_jurisdiction() -> None:
    params.check_jurisdiction(request.values.get("jurisdiction_id"))


# ---------------------------------------------------------------------------------------------
# GeoReport v2


def _discovery(fmt: str) -> Response:
    config = current_app.config
    base = config["PUBLIC_BASE_URL"]
    changeset = config["OPEN311_CHANGESET"]
    return render(
        fmt,
        "discovery",
        {
            "changeset": changeset,
            "contact": config["OPEN311_CONTACT"],
            "key_service": config["OPEN311_KEY_SERVICE"],
            "endpoints": [
                {
                    "specification": catalogue.SPECIFICATION,
                    "url": f"{base}/open311/v2",
                    "changeset": changeset,
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        },
    )


@bp.get(f"/discovery.{FMT}")
def discovery(fmt: str) -> Response:
    return _discovery(fmt)


@bp.get(f"/v2/discovery.{FMT}")
def discovery_v2(fmt: str) -> Response:
    return _discovery(fmt)


@bp.get(f"/v2/services.{FMT}")
@reads_from_replica
def services(fmt: str) -> Response:
    return render_json_text(fmt, "services", catalogue.services_json())


@bp.get(f"/v2/services/<service_code>.{FMT}")
@reads_from_replica
def service_definition(service_code: str, fmt: str) -> Response:
    return render(fmt, "service_definition", catalogue.service_definition(service_code))


def _api_key() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.form.get("api_key") or request.args.get("api_key")


def _uploads() -> list[FileStorage]:
    """Return the photo files of a POST: `media` (or another known field) repeated."""
    return [
        upload
        for name in PHOTO_FIELDS
        for upload in request.files.getlist(name)
        if upload.filename or upload.content_length
    ]


@bp.post(f"/v2/requests.{FMT}")
def post_request(fmt: str) -> Response:
    api_keys.authenticate_key(_api_key())
    result = intake.submit(
        request.values,
        _uploads(),
        browser_language=pick_language(*request.accept_languages.values()),
    )
    direct.commit()  # the key's first use, if it was noted; the request committed itself
    return render(fmt, "service_requests", [result])


@bp.get(f"/v2/requests.{FMT}")
@reads_from_replica
def get_requests(fmt: str) -> Response:
    query = queries.read_query(request.args)
    found = feed_cache.cached_requests(query, queries.find_requests)
    return render_json_text(fmt, "service_requests", found)


@bp.get(f"/v2/requests/<request_id>.{FMT}")
@reads_from_replica
def get_request(request_id: str, fmt: str) -> Response:
    extensions = (request.args.get("extensions") or "").strip().lower() in ("true", "1", "yes")
    return render_json_text(
        fmt, "service_requests", queries.get_request(request_id, extensions=extensions)
    )


@bp.get(f"/v2/tokens/<token>.{FMT}")
def token(token: str, fmt: str) -> Response:
    return render(fmt, "service_requests", queries.resolve_token(token))


@bp.get(f"/v2/servicerequestupdates.{FMT}")
@reads_from_replica
def request_updates(fmt: str) -> Response:
    # FixMyStreet sends its api_key here too; reading is public, so it is not checked
    start, end = (params.present(request.args.get(n)) for n in ("start_date", "end_date"))
    page, page_size = (params.present(request.args.get(n)) for n in ("page", "page_size"))
    found = updates.request_updates(
        params.parse_datetime("start_date", start) if start else None,
        params.parse_datetime("end_date", end) if end else None,
        page=params.parse_int("page", page, low=1, high=1_000_000) if page else 1,
        page_size=(
            params.parse_int("page_size", page_size, low=1, high=params.MAX_REQUESTS)
            if page_size
            else params.MAX_REQUESTS
        ),
    )
    return render_json_text(fmt, "service_request_updates", found)


# ---------------------------------------------------------------------------------------------
# admin: API keys


@admin_bp.route("/keys", methods=["GET", "POST"])
@roles_required(ADMIN)
def keys() -> Any:
    new_key: dict[str, str] | None = None
    errors: dict[str, str] = {}
    form = {"name": "", "contact": ""}
    status = 200
    if request.method == "POST":
        form = {k: (request.form.get(k) or "").strip() for k in form}
        try:
            row, key = api_keys.create_key(form["name"], form["contact"])
            db.session.commit()
            form = {"name": "", "contact": ""}
            new_key = {"key": key, "client_name": row.client_name}
        except DomainError as err:
            db.session.rollback()
            errors[err.field or "name"] = err.message
            status = 400
    return (
        render_template(
            "open311/keys.html",
            keys=api_keys.list_keys(),
            new_key=new_key,
            errors=errors,
            form=form,
            jurisdiction_id=params.jurisdiction_id(),
        ),
        status,
    )


@admin_bp.post("/keys/<int:key_id>/revoke")
@roles_required(ADMIN)
def revoke(key_id: int) -> Any:
    row = api_keys.revoke_key(key_id=key_id)
    db.session.commit()
    flash(f"The key {row.key_prefix}… of {row.client_name} is revoked.", "success")
    return redirect(url_for("open311_admin.keys"))
