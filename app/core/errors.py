"""Domain errors and the one place that turns them into HTTP responses."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed


class DomainError(Exception):
    """A rule of the domain was broken; the message tells the user what to fix."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "code": self.status_code,
            "status": self.code,
            "message": self.message,
        }
        if self.field:
            body["errors"] = {self.field: [self.message]}
        body.update(self.extra)
        return body


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class Conflict(DomainError):
    """The action does not fit the current state (closing a closed request, …)."""

    status_code = 409
    code = "conflict"


class OutsideJurisdiction(DomainError):
    code = "outside_jurisdiction"


class InvalidPhoto(DomainError):
    code = "invalid_photo"


class PhotoTooLarge(InvalidPhoto):
    status_code = 413
    code = "photo_too_large"


def wants_json() -> bool:
    """Tell whether the current request should get a JSON error rather than a page."""
    if request.path.startswith(("/api/", "/open311/", "/healthz", "/readyz")):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "application/json"


def register_error_handlers(app: Flask) -> None:
    """Map domain errors and HTTP errors to JSON for APIs and to pages for people."""

    @app.errorhandler(DomainError)
    def handle_domain_error(err: DomainError) -> ResponseReturnValue:
        # e.g. Retry-After on a 429
        headers: dict[str, str] = getattr(err, "headers", None) or {}
        if wants_json():
            return jsonify(err.to_dict()), err.status_code, headers
        from app.core.i18n import translate_message

        return (
            render_template(
                "error.html", status=err.status_code, message=translate_message(err.message)
            ),
            err.status_code,
            headers,
        )

    @app.errorhandler(HTTPException)
    def handle_http_error(err: HTTPException) -> ResponseReturnValue:
        # flask-smorest handles errors inside its own blueprints; this covers everything else.
        status = err.code or 500
        message = err.description or err.name
        if status == 413:
            size = "{:g}".format(app.config["MAX_PHOTO_BYTES"] / (1024 * 1024))
            message = gettext(
                "The upload is too large: photos may be at most %(size)s MB.", size=size
            )
        elif isinstance(err, CSRFError):
            # a form left open past its session, or sent without cookies
            message = gettext(
                "This form has expired or was sent without cookies: "
                "reload the page and send it again."
            )
        data = getattr(err, "data", None) or {}
        field_errors = data.get("messages")
        if field_errors:
            message = "Fix these fields: " + "; ".join(_flatten(field_errors))
        # a 405 names the methods that would work (RFC 9110 requires the Allow header)
        headers: dict[str, str] = {}
        if isinstance(err, MethodNotAllowed):
            headers["Allow"] = ", ".join(err.valid_methods or [])
        if wants_json():
            body: dict[str, Any] = {"code": status, "status": err.name, "message": message}
            if field_errors:
                body["errors"] = field_errors
            return jsonify(body), status, headers
        from app.core.i18n import HTTP_ERROR_MESSAGES

        if err.description == type(err).description and status in HTTP_ERROR_MESSAGES:
            # werkzeug's own words are for developers; people read ours, in their language
            message = str(HTTP_ERROR_MESSAGES[status])
        elif status >= 500:
            message = str(HTTP_ERROR_MESSAGES[500])
        page = render_template("error.html", status=status, message=message)
        return page, status, headers


def _flatten(messages: Any, prefix: str = "") -> list[str]:
    """Turn webargs' nested {location: {field: [msg]}} into "field: msg" lines."""
    if isinstance(messages, dict):
        lines: list[str] = []
        for key, value in messages.items():
            # the top level is the location (json, form, query): not useful to a person
            name = (
                "" if key in ("json", "form", "query", "files", "headers") and not prefix else key
            )
            lines += _flatten(value, f"{prefix}.{name}" if prefix and name else prefix or str(name))
        return lines
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [f"{prefix}: {' '.join(messages)}" if prefix else " ".join(messages)]
    if isinstance(messages, list):
        return [line for m in messages for line in _flatten(m, prefix)]
    return [f"{prefix}: {messages}" if prefix else str(messages)]
