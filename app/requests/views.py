"""Resident and call-centre intake forms, and the public tracking page."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
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
from app.core.errors import DomainError, InvalidPhoto, NotFound, PhotoTooLarge
from app.core.i18n import page_language, resident_error
from app.core.limits import limited
from app.core.replica import reads_from_replica
from app.extensions import db
from app.geo.routing import map_frame
from app.media import service as media
from app.requests import contact_cap, service
from app.requests.models import AGENT_CHANNELS, STATUSES, ServiceType
from app.requests.parsing import CoordinateError, parse_attribute_fields, parse_coordinate
from app.requests.permissions import INTAKE_ROLES
from app.requests.presenters import public_address, public_lat_long

bp = Blueprint("requests", __name__)

TEXT_FIELDS = (
    "service_code",
    "description",
    "lat",
    "long",
    "address",
    "name",
    "email",
    "phone",
    "notify",
    "language",
)
#: what only the call form has: how the request came in, and a link to the message
AGENT_FIELDS = ("channel", "source_url")
#: fields the form shows errors next to; any other field named by an error is a question
FORM_FIELDS = frozenset(TEXT_FIELDS) | frozenset(AGENT_FIELDS) | {"location", "photo"}


def grouped_service_types(types: list[ServiceType]) -> list[tuple[str, list[ServiceType]]]:
    """Group the catalogue for the category picker; types without a group come last."""
    groups: OrderedDict[str, list[ServiceType]] = OrderedDict()
    for st in types:
        if st.group:
            groups.setdefault(st.group, []).append(st)
    other = [st for st in types if not st.group]
    if other:
        groups[gettext("Other problems")] = other
    return list(groups.items())


def questions(st: ServiceType) -> list[dict[str, Any]]:
    return sorted(st.attributes or [], key=lambda q: (q.get("order", 0), q.get("code", "")))


#: the coordinates as the form labels them; messages name them so
COORDINATE_WORDS = {"lat": "latitude", "long": "longitude"}


def _coordinate(values: dict[str, str], name: str, errors: dict[str, str]) -> float | None:
    """Return the posted coordinate, or None when it is missing or wrong (wrong: in errors)."""
    try:
        return parse_coordinate(values[name], COORDINATE_WORDS[name])
    except CoordinateError as err:
        errors[name] = resident_error(name, err.message)
        return None


def _render_form(
    *,
    agent: bool,
    values: dict[str, str],
    answers: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> tuple[str, int]:
    # staff log calls of internal types too; residents see only the public catalogue
    types = service.list_service_types(public_only=not agent)
    page = render_template(
        "requests/form.html",
        agent=agent,
        groups=grouped_service_types(types),
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
    )
    return page, status


def _too_large_message() -> str:
    size = "{:g}".format(current_app.config["MAX_PHOTO_BYTES"] / (1024 * 1024))
    return gettext(
        "The photo is too large: at most %(size)s MB is accepted. Choose a smaller one.", size=size
    )


def _intake(*, agent: bool) -> Response | tuple[str, int]:
    """Handle a posted intake form: store the request, or re-render it with the errors."""
    try:
        form, files = request.form, request.files
    except RequestEntityTooLarge:
        # the body was refused unread, so there is nothing of the user's input to keep
        return _render_form(
            agent=agent, values={}, answers={}, errors={"photo": _too_large_message()}, status=413
        )
    values = {name: form.get(name, "") for name in TEXT_FIELDS + (AGENT_FIELDS if agent else ())}
    answers = parse_attribute_fields(form)
    errors: dict[str, str] = {}
    status = 400
    channel = intake_channel(values, errors) if agent else "web"

    if not values["service_code"]:
        errors["service_code"] = gettext("Choose the category of the problem.")
    lat = _coordinate(values, "lat", errors)
    long = _coordinate(values, "long", errors)
    photos: list[media.ValidatedPhoto] = []
    uploads = [upload for upload in files.getlist("photo") if upload.filename]
    try:
        photos = media.validate_photos([upload.stream for upload in uploads])
    except InvalidPhoto as err:
        errors["photo"] = gettext(
            "%(problem)s Choose the photo again.", problem=resident_error("photo", err.message)
        )
        if isinstance(err, PhotoTooLarge):
            status = 413
    where = next((p.location for p in photos if p.location), None)
    if lat is None and long is None and not ({"lat", "long"} & errors.keys()) and where:
        # no pin and no device position: the place the photo was taken is the best guess
        lat, long = where.lat, where.long
        values["lat"], values["long"] = str(lat), str(long)
    if (lat is None or long is None) and not ({"lat", "long"} & errors.keys()):
        errors["location"] = gettext(
            "Show us where: place the pin on the map, use your location, "
            "or type the latitude and longitude."
        )

    if not errors:
        assert lat is not None and long is not None
        if not agent:
            contact_cap.check(values["email"], values["phone"])  # 429 past the day's cap
        new = service.NewRequest(
            service_code=values["service_code"],
            description=values["description"],
            lat=lat,
            long=long,
            address=values["address"],
            name=values["name"],
            email=values["email"],
            phone=values["phone"],
            attributes=answers,
            notify=values["notify"],
            # the reporter's messages follow the page they read, unless they chose otherwise
            language=values["language"] or page_language(),
            source_url=values.get("source_url", ""),
        )
        try:
            result = service.submit_request(
                new,
                channel=channel,
                actor_id=current_user.id if agent else None,
                photos=photos,
            )
        except DomainError as err:
            # submit_request refuses before it writes anything, so there is nothing to undo
            field = err.field or "form"
            if field not in FORM_FIELDS and field != "form":
                field = f"attr:{field}"
            errors[field] = resident_error(field, err.message)
            if photos:
                errors.setdefault(
                    "photo", gettext("Your photo was not kept: choose it again before sending.")
                )
        else:
            db.session.commit()
            track = url_for("requests.track", request_id=result.id)
            if agent:
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
            flash(
                gettext("Thank you — your request number is %(number)s.", number=result.id),
                "success",
            )
            return redirect(track, 303)

    return _render_form(agent=agent, values=values, answers=answers, errors=errors, status=status)


def intake_channel(values: dict[str, str], errors: dict[str, str]) -> str:
    """Return the channel a call-taker chose (phone by default); check the message link."""
    channel = values.get("channel") or "phone"
    if channel not in AGENT_CHANNELS:
        errors["channel"] = (
            "Choose how the request came in: " + ", ".join(AGENT_CHANNELS.values()).lower() + "."
        )
    link = values.get("source_url", "").strip()
    if link and (not link.startswith(("https://", "http://")) or len(link) > 2000 or " " in link):
        errors["source_url"] = "The link must be a web address starting with https://."
    return channel


@bp.route("/", methods=["GET", "POST"])
@limited("RATELIMIT_REPORT", methods=["POST"])
def report() -> Response | tuple[str, int]:
    """Let a resident report a problem."""
    if request.method == "POST":
        return _intake(agent=False)
    values = {"language": page_language()}
    return _render_form(agent=False, values=values, answers={}, errors={})


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
        sr = service.get_request(request_id)
    except NotFound:
        # the service's words, in the page's language
        raise NotFound(
            gettext("There is no service request %(number)s.", number=request_id)
        ) from None
    lat, long = public_lat_long(sr)
    return render_template(
        "requests/track.html",
        sr=sr,
        address=public_address(sr),
        lat=lat,
        long=long,
        events=service.public_events(sr),
        photos=service.public_photos(sr),
    )


def _no_such_request(number: str) -> str:
    return gettext(
        "There is no request number %(number)s: check the number in your receipt.", number=number
    )


@bp.get("/track")
def track_lookup() -> Response | tuple[str, int]:
    """Go to the tracking page of the request number typed in the home page's box."""
    raw = (request.args.get("number") or "").strip().lstrip("#")
    if raw.isdigit() and 0 < int(raw) < 2**63:
        try:
            service.get_request(int(raw))
        except NotFound:
            pass
        else:
            return redirect(url_for("requests.track", request_id=int(raw)), 303)
    message = (
        _no_such_request(raw)
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
