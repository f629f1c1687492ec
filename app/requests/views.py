"""Resident and call-centre intake forms, and the public tracking page."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user
from markupsafe import Markup
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from app.auth.permissions import roles_required
from app.core import limits
from app.core.errors import NotFound
from app.core.i18n import page_language, resident_error
from app.core.idempotency import idempotent
from app.core.replica import reads_from_replica
from app.extensions import db
from app.geo.routing import map_frame
from app.media import service as media
from app.media.uploads import Upload
from app.requests import contact_cap, form_page, service
from app.requests.form_intake import handle_post
from app.requests.models import AGENT_CHANNELS, STATUSES, ServiceType
from app.requests.permissions import INTAKE_ROLES
from app.requests.picker import picker_groups

bp = Blueprint("requests", __name__)


def questions(st: ServiceType) -> list[dict[str, Any]]:
    return sorted(st.attributes or [], key=lambda q: (q.get("order", 0), q.get("code", "")))


def _render_form(
    *,
    agent: bool,
    values: dict[str, str],
    answers: dict[str, Any],
    errors: dict[str, str],
    uploads: list[Upload] | None = None,
    status: int = 200,
    marks: Mapping[str, object] | None = None,
) -> tuple[str, int]:
    # staff log calls of internal types too; residents see only the public catalogue
    types = service.list_service_types(public_only=not agent)
    # the select (call-takers', and residents' without script) and the resident's searchable
    # picker list the same groups in the same order: picker_groups is the one rule
    popular, picker = picker_groups(types)
    page = render_template(
        "requests/form.html",
        agent=agent,
        service_types=types,
        questions=questions,
        values=values,
        answers=answers,
        errors=errors,
        frame=map_frame(),
        max_photo_bytes=current_app.config["MAX_PHOTO_BYTES"],
        max_photo_mb=current_app.config["MAX_PHOTO_BYTES"] / (1024 * 1024),
        max_photos=media.max_photos(),
        agent_channels=AGENT_CHANNELS,
        uploads=uploads or [],
        popular=[] if agent else popular,
        picker=picker,
        # a new key for each form shown; the resident's draft keeps it across reloads
        idempotency_key=values.get("idempotency_key") or str(uuid.uuid4()),
        # form_page's marks in place of what differs per visitor
        **(marks or {}),
    )
    return page, status


def _too_large_message() -> str:
    size = "{:g}".format(current_app.config["MAX_PHOTO_BYTES"] / (1024 * 1024))
    return gettext(
        "The photo is too large: at most %(size)s MB is accepted. Choose a smaller one.", size=size
    )


def _script_asks_for_json() -> bool:
    """Whether the resident form's script sent it (it prefers JSON; a browser asks for HTML)."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _intake(*, agent: bool) -> Response | tuple[str, int]:
    """Handle a posted intake form: store the request, or re-render it with every error."""
    try:
        request.form, request.files  # noqa: B018  (reads the body: it may be too large)
    except RequestEntityTooLarge:
        # the body was refused unread, so there is nothing of the user's input to keep
        return _render_form(
            agent=agent, values={}, answers={}, errors={"photo": _too_large_message()}, status=413
        )
    posted = handle_post(agent=agent, actor_id=current_user.id if agent else None)
    result = posted.result
    if result is None:
        if agent:
            db.session.commit()  # the photos kept for the corrected form
        return _render_form(
            agent=agent,
            values=posted.values,
            answers=posted.answers,
            # the services' words, in the page's language
            errors={name: resident_error(name, text) for name, text in posted.errors.items()},
            uploads=posted.uploads,
            status=posted.status,
        )
    track = url_for("requests.track", request_id=result.id)
    if not agent:
        # the confirmation is the tracking page, which says what happens next and when; a
        # retried submit (the same idempotency key) is sent to the same page
        flash(
            gettext("Thank you — your request number is %(number)s.", number=result.id), "success"
        )
        if _script_asks_for_json():
            # the form's script goes to the page itself: a redirect fetch followed would
            # have shown the thank-you to the script, not to the resident
            sent = jsonify(id=result.id, url=track)
            sent.status_code = 201
            sent.headers["Location"] = track
            return sent
        return redirect(track, 303)
    db.session.commit()
    flash(
        Markup(
            'Request <a href="{staff}"><strong>{n}</strong></a> logged '
            "({service}, {district}). Read the "
            'number to the caller; it can be followed at <a href="{url}">{url}</a>. '
            "Log another call below."
        ).format(
            n=result.id,
            service=result.service_name,
            district=result.district_name,
            url=track,
            staff=url_for("staff.request_detail", request_id=result.id),
        ),
        "success",
    )
    return redirect(url_for("requests.agent_new"), 303)


@bp.route("/", methods=["GET", "POST"])
@idempotent
def report() -> Response | tuple[str, int]:
    """Let a resident report a problem; a submit sent twice (same hidden key) stores one."""
    if request.method == "POST":
        if not current_user.is_authenticated:  # staff are accountable, and log at volume
            limits.hit_all([contact_cap.address_count()])  # 429 past RATELIMIT_REPORT
        return _intake(agent=False)
    language = page_language()
    if form_page.shared_page_wanted():

        def render(csrf_mark: str, key_mark: str) -> str:
            values = {"language": language, "idempotency_key": key_mark}
            marks = {"csrf_token": lambda: csrf_mark}
            return _render_form(agent=False, values=values, answers={}, errors={}, marks=marks)[0]

        return form_page.shared_page(language, render), 200
    return _render_form(agent=False, values={"language": language}, answers={}, errors={})


@bp.route("/agent/requests/new", methods=["GET", "POST"])
@roles_required(*INTAKE_ROLES)
def agent_new() -> Response | tuple[str, int]:
    """Let a call-centre agent log a request phoned in by a caller."""
    if request.method == "POST":
        return _intake(agent=True)
    return _render_form(agent=True, values={}, answers={}, errors={})


@bp.route("/requests/<int:request_id>")
def track(request_id: int) -> str:
    """Show the public status page of a request; the reporter's details are never on it."""
    try:
        sr = service.tracked_request(request_id)
    except NotFound:
        # the service's words, in the page's language
        raise NotFound(
            gettext("There is no service request %(number)s.", number=request_id)
        ) from None
    return render_template("requests/track.html", sr=sr, photos=sr.photos)


@bp.get("/track")
def track_lookup() -> Response | tuple[str, int]:
    """Go to the tracking page of the request number typed in the home page's box."""
    raw = (request.args.get("number") or "").strip().lstrip("#")
    if raw.isdigit() and 0 < int(raw) < 2**63 and service.request_exists(int(raw)):
        return redirect(url_for("requests.track", request_id=int(raw)), 303)
    message = (
        gettext(
            "There is no request number %(number)s: check the number in your receipt.", number=raw
        )
        if raw.isdigit()
        else gettext("Type the request number from your receipt, e.g. 1042.")
    )
    return render_template("error.html", status=404, message=message), 404


@bp.get("/map")
@reads_from_replica
def public_map() -> str:
    """Show recent requests on a map, by category and status; nothing about who reported."""
    return render_template(
        "requests/map.html",
        frame=map_frame(),
        service_types=service.list_service_types(),
        statuses=STATUSES,
    )
