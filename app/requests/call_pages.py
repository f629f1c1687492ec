"""The call form's own JSON: route preview, caller lookup, following on the caller's behalf.

The JSON API ignores the session cookie, so the call form asks here, signed in, with the
form's CSRF token on the POST; the answers are the API's (app.requests.call_api).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from marshmallow import Schema, ValidationError
from werkzeug.wrappers import Response

from app.auth.permissions import roles_required
from app.requests import call_api, call_desk
from app.requests.permissions import ACTION_ROLES, DESK_ROLES

bp = Blueprint("call_desk", __name__, url_prefix="/agent")


def _load(schema: Schema, data: Any) -> dict[str, Any] | Response:
    try:
        loaded: dict[str, Any] = schema.load(data)
    except ValidationError as err:
        first = next(iter(err.normalized_messages().values()), ["Check the values."])
        message = first[0] if isinstance(first, list) else str(first)
        response = jsonify({"code": 422, "status": "invalid", "message": message})
        response.status_code = 422
        return response
    return loaded


@bp.route("/route-preview")
@roles_required(*DESK_ROLES)
def route_preview() -> Response:
    """Where the request being keyed would go: department, district, due date."""
    args = _load(call_api.RoutePreviewArgs(), request.args)
    if isinstance(args, Response):
        return args
    found = call_desk.preview_route(args["service_code"], args["lat"], args["long"])
    return jsonify(call_api.RoutePreviewOut().dump(call_api.preview_view(found)))


@bp.route("/caller-lookup")
@roles_required(*DESK_ROLES)
def caller_lookup() -> Response:
    """The caller's earlier requests, and open requests of the type near their place."""
    args = _load(call_api.CallerLookupArgs(), request.args)
    if isinstance(args, Response):
        return args
    return jsonify(call_api.CallerLookupOut().dump(call_api.lookup_view(args)))


@bp.route("/requests/<int:request_id>/followers", methods=["POST"])
@roles_required(*ACTION_ROLES["follow"])
def follow_on_behalf(request_id: int) -> Response:
    """Add the caller as a follower of an open request instead of logging a duplicate."""
    data = _load(call_api.CallerFollowIn(), request.get_json(silent=True) or request.form)
    if isinstance(data, Response):
        return data
    return jsonify(call_api.CallerFollowOut().dump(call_api.follow_view(request_id, data)))
