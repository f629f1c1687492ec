"""The posted intake form: every problem reported in one round, and nothing the resident gave lost.

Photos chosen with the form are checked first; when any other field is wrong they are kept
as uploads waiting for the report, and the page comes back with their tokens (and
thumbnails), so the resident does not choose them again. Photos sent ahead by the page's
script arrive as tokens only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app, request
from werkzeug.datastructures import ImmutableMultiDict

from app.core.errors import DomainError, InvalidPhoto, PhotoTooLarge
from app.core.i18n import page_language
from app.extensions import db
from app.media import service as media
from app.media import uploads as photo_uploads
from app.requests import contact_cap, service
from app.requests.intake import public_channel
from app.requests.intake_checks import check_request
from app.requests.models import AGENT_CHANNELS
from app.requests.parsing import CoordinateError, parse_attribute_fields, parse_coordinate

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
    "idempotency_key",
)
#: what only the call form has: how the request came in, and a link to the message
AGENT_FIELDS = ("channel", "source_url")
#: fields the form shows errors next to; any other field named by an error is a question
FORM_FIELDS = frozenset(TEXT_FIELDS) | frozenset(AGENT_FIELDS) | {"location", "photo"}
#: the coordinates as the form labels them; messages name them so
COORDINATE_WORDS = {"lat": "latitude", "long": "longitude"}
NO_LOCATION = (
    "Show us where: place the pin on the map, use your location, "
    "or type the latitude and longitude."
)


@dataclass
class Posted:
    """What the form sent, and what is wrong with it (field → message)."""

    values: dict[str, str]
    answers: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    #: photos waiting for this report (sent ahead, or kept from a failed submit)
    uploads: list[photo_uploads.Upload] = field(default_factory=list)
    status: int = 400
    result: service.SubmittedRequest | None = None


def browser_language() -> str:
    """Return the language the page is read in: the reporter's messages follow it."""
    return page_language()


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


def _error_field(err: DomainError) -> str:
    name = err.field or "form"
    return name if name in FORM_FIELDS or name == "form" else f"attr:{name}"


def _coordinate(values: dict[str, str], name: str, errors: dict[str, str]) -> float | None:
    try:
        return parse_coordinate(values[name], COORDINATE_WORDS[name])
    except CoordinateError as err:
        errors[name] = err.message
        return None


def _photos(posted: Posted, form: ImmutableMultiDict[str, str]) -> list[media.ValidatedPhoto]:
    """Read the tokens and the files sent; note what is wrong with them."""
    try:
        posted.uploads = photo_uploads.read_tokens(form.getlist("photo_token"))
    except InvalidPhoto as err:
        posted.errors["photo"] = err.message
    files = [upload for upload in request.files.getlist("photo") if upload.filename]
    try:
        photos = media.validate_photos([upload.stream for upload in files])
    except InvalidPhoto as err:
        posted.errors["photo"] = err.message + " Choose the photo again."
        if isinstance(err, PhotoTooLarge):
            posted.status = 413
        return []
    if len(photos) + len(posted.uploads) > media.max_photos():
        posted.errors["photo"] = f"Send at most {media.max_photos()} photos with a report."
        return []
    return photos


def handle_post(*, agent: bool, actor_id: int | None) -> Posted:
    """Check a posted form in one pass and store the request when nothing is wrong.

    Nothing is committed here: the caller commits (the idempotency decorator with its key).
    """
    form = request.form
    names = TEXT_FIELDS + (AGENT_FIELDS if agent else ())
    posted = Posted({name: form.get(name, "") for name in names}, parse_attribute_fields(form))
    values, errors = posted.values, posted.errors
    channel = intake_channel(values, errors) if agent else "web"
    if not values["service_code"]:
        errors["service_code"] = "Choose the category of the problem."
    lat = _coordinate(values, "lat", errors)
    long = _coordinate(values, "long", errors)
    photos = _photos(posted, form)
    places = [u.location for u in posted.uploads] + [p.location for p in photos]
    where = next((place for place in places if place), None)
    if lat is None and long is None and not ({"lat", "long"} & errors.keys()) and where:
        # no pin and no device position: the place the photo was taken is the best guess
        lat, long = where.lat, where.long
        values["lat"], values["long"] = str(lat), str(long)
    if (lat is None or long is None) and not ({"lat", "long"} & errors.keys()):
        errors["location"] = NO_LOCATION
    new = service.NewRequest(
        service_code=values["service_code"],
        description=values["description"],
        lat=lat if lat is not None else 0.0,
        long=long if long is not None else 0.0,
        address=values["address"],
        name=values["name"],
        email=values["email"],
        phone=values["phone"],
        attributes=posted.answers,
        notify=values["notify"],
        language=values["language"] or browser_language(),
        source_url=values.get("source_url", ""),
    )
    checked = check_request(
        new,
        public=public_channel(channel, actor_id),
        sms_country=current_app.config["SMS_COUNTRY_CODE"],
        location=lat is not None and long is not None,
    )
    for problem in checked.problems:
        if values["service_code"] or problem.field != "service_code":
            errors.setdefault(_error_field(problem), problem.message)
    if not errors:
        if not agent:
            contact_cap.check(new.email, new.phone)  # 429 past the day's cap
        try:
            with db.session.begin_nested():
                posted.result = service.submit_request(
                    new, channel=channel, actor_id=actor_id, photos=photos, uploads=posted.uploads
                )
        except DomainError as err:  # outside the city, or a photo taken meanwhile
            errors[_error_field(err)] = err.message
    if errors:
        # keep the photos just chosen, so that the corrected form need not send them again
        posted.uploads += [photo_uploads.stash(p) for p in photos]
    return posted
