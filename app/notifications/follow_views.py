"""Pages to follow a request by email and to stop its emails, without signing in."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from app.core.errors import DomainError, NotFound
from app.core.i18n import page_language, translate_message
from app.core.limits import limited
from app.extensions import db
from app.notifications import follow

bp = Blueprint("follow", __name__)


@bp.post("/requests/<int:request_id>/follow")
@limited("RATELIMIT_FOLLOW", shared="follow")
def ask(request_id: int) -> Response:
    """Send a confirmation link to the address given on the tracking page."""
    try:
        # the follower's messages speak the language they read the page in
        follow.ask_to_follow(request_id, request.form.get("email", ""), page_language())
    except NotFound:
        raise  # no such request: a 404, not a message on a page that does not exist
    except DomainError as err:
        db.session.rollback()
        flash(translate_message(err.message), "error")
        return redirect(url_for("requests.track", request_id=request_id))
    db.session.commit()
    # the same words whether or not a link went out: the page tells nobody who follows
    flash(
        gettext("Check your inbox: confirm with the link we sent to follow this request."),
        "success",
    )
    return redirect(url_for("requests.track", request_id=request_id))


@bp.get("/r/<int:request_id>")
def short(request_id: int) -> Response:
    """Redirect a text message's short link to the tracking page."""
    return redirect(url_for("requests.track", request_id=request_id), code=301)


@bp.get("/follow/<token>")
def confirm(token: str) -> Response:
    """Confirm following: the address now gets this request's news."""
    who = follow.read_confirm(token)
    follow.confirm(who)
    db.session.commit()
    flash(
        gettext(
            "You follow request %(number)s: we will email %(email)s its news.",
            number=who.request_id,
            email=who.email,
        ),
        "success",
    )
    return redirect(url_for("requests.track", request_id=who.request_id))


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str) -> str:
    """Ask to confirm stopping the emails (a link scanner's GET changes nothing)."""
    who = follow.read_unsubscribe(token)
    return render_template("notifications/unsubscribe.html", who=who, token=token, done=False)


@bp.post("/unsubscribe/<token>")
def unsubscribe_now(token: str) -> str:
    """Stop this request's emails to the address (also the mail client's one-click POST)."""
    who = follow.read_unsubscribe(token)
    follow.unsubscribe(who)
    db.session.commit()
    return render_template("notifications/unsubscribe.html", who=who, token=token, done=True)
