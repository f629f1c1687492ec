"""The 'is it fixed?' page the reporter reaches from the email, without signing in.

The email's links open this page with the answer chosen; the answer is stored by the form's
POST, never by the GET: mail scanners follow every link in a message, and a "not fixed"
fetched by a scanner must not reopen a request.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext
from werkzeug.wrappers import Response

from app.core.errors import DomainError
from app.core.i18n import translate_message
from app.extensions import db
from app.notifications import survey
from app.requests import service as requests_service

bp = Blueprint("survey", __name__, url_prefix="/survey")


def _page(token: str, form: dict[str, str], error: str = "", status: int = 200) -> tuple[str, int]:
    ask = survey.read_token(token)
    sr = requests_service.get_request(ask.request_id)
    return (
        render_template(
            "notifications/survey/answer.html", sr=sr, token=token, form=form, error=error
        ),
        status,
    )


@bp.get("/<token>")
def answer(token: str) -> tuple[str, int]:
    """Show the question with the answer chosen in the email."""
    form = {
        "answer": request.args.get("answer", ""),
        "rating": request.args.get("rating", ""),
        "comment": "",
    }
    return _page(token, form)


@bp.post("/<token>")
def submit(token: str) -> Response | tuple[str, int]:
    """Store the answer; a "not fixed" reopens the request."""
    ask = survey.read_token(token)
    form = {k: request.form.get(k, "").strip() for k in ("answer", "rating", "comment")}
    if form["answer"] not in ("fixed", "not_fixed"):
        return _page(token, form, gettext("Say whether the problem is fixed."), 400)
    rating = int(form["rating"]) if form["rating"].isdigit() else None
    try:
        response = survey.record(
            ask, fixed=form["answer"] == "fixed", rating=rating, comment=form["comment"]
        )
    except DomainError as err:
        db.session.rollback()
        return _page(token, form, translate_message(err.message), 400)
    reopened = response.reopened
    sr_id = response.request_id
    db.session.commit()
    return render_template(
        "notifications/survey/thanks.html",
        request_id=sr_id,
        fixed=form["answer"] == "fixed",
        reopened=reopened,
    ), 200
