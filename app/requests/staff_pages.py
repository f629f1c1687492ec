"""Staff pages: find a request (by number, a caller's phone or email, or words) and act on it."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth.permissions import roles_required
from app.auth.roles import DEPARTMENT_BOUND
from app.core.errors import DomainError, Forbidden, NotFound
from app.extensions import db
from app.media import service as media
from app.requests import service
from app.requests.models import (
    CLOSURE_REASONS,
    HOLD_REASONS,
    STATUSES,
    ServiceRequest,
)
from app.requests.notes import check_note_length, note_required
from app.requests.permissions import (
    DESK_ROLES,
    INTAKE_ROLES,
    acknowledge_request,
    add_request_note,
    allowed_actions,
    check_may_handle,
    close_request,
    hold_request,
    may_read_private,
    merge_request,
    reopen_request,
    resume_request,
    search_department,
)
from app.requests.staff_detail import detail_context
from app.requests.words import HOLD_WORDS, closure_word, status_word

bp = Blueprint("staff", __name__, url_prefix="/staff")

#: the closure reasons as a dispatcher reads them in the select, fixed first
REASON_CHOICES = [(r, closure_word(r)) for r in CLOSURE_REASONS]
STATUS_CHOICES = [("", "Any status"), ("open", "Open (not closed)")] + [
    (s, status_word(s)) for s in STATUSES
]
HOLD_CHOICES = [(r, HOLD_WORDS.get(r, r)) for r in HOLD_REASONS]


def _page_number(raw: str | None) -> int:
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


@bp.route("/requests")
@roles_required(*DESK_ROLES)
def search() -> str:
    """Find a request by its number, the caller's phone or email, or words of it."""
    q = request.args.get("q", "").strip()
    status = request.args.get("status", "")
    errors: dict[str, str] = {}
    if status not in {value for value, _ in STATUS_CHOICES}:
        errors["status"] = "Choose a status from the list."
        status = ""
    page = _page_number(request.args.get("page"))
    found = service.SearchPage([], 0, more=False)
    searched = bool(q or status)
    if searched:
        found = service.search_requests(
            q, status=status, department_id=search_department(""), page=page
        )
    return render_template(
        "staff/search.html",
        q=q,
        status=status,
        errors=errors,
        searched=searched,
        items=found.items,
        total=found.total,
        more=found.more,
        page=page,
        pages=max(1, math.ceil(found.total / service.SEARCH_PAGE_SIZE)),
        status_choices=STATUS_CHOICES,
        department_bound=current_user.role in DEPARTMENT_BOUND,
        may_log_calls=current_user.role in INTAKE_ROLES,
    )


@bp.route("/requests/<int:request_id>")
@roles_required(*DESK_ROLES)
def request_detail(request_id: int) -> tuple[str, int]:
    """Show everything staff need about a request, with the actions they may take."""
    return _render_detail(service.get_request(request_id))


def _render_detail(
    sr: ServiceRequest,
    *,
    errors: Mapping[str, str] | None = None,
    form: Mapping[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    page = render_template(
        "staff/detail.html",
        **detail_context(sr, private=may_read_private(sr)),
        actions=allowed_actions(sr),
        reason_choices=REASON_CHOICES,
        hold_choices=HOLD_CHOICES,
        errors=errors or {},
        form=form or {},
    )
    return page, status


def _note_field(*, required: str | None) -> str:
    """Return the posted note, stripped; refuse a missing or overlong one."""
    note = request.form.get("note", "").strip()
    if required and not note:
        raise DomainError(required, field="note")
    check_note_length(note)
    return note


def _act(
    request_id: int, action: str, do: Callable[[ServiceRequest], str]
) -> Response | tuple[str, int]:
    """Run one staff action; on success flash and go back to the request, else show why.

    Errors are shown next to the field of the form that was sent, which stays open with
    what was typed.
    """
    sr = service.get_request(request_id, for_update=True)
    check_may_handle(sr, action)  # a refusal is a 403 page, whatever the form says
    try:
        # a savepoint, so that a refusal after a partial write leaves nothing half-stored
        with db.session.begin_nested():
            message = do(sr)
    except (Forbidden, NotFound):
        raise
    except DomainError as err:
        db.session.refresh(sr)
        return _render_detail(
            sr,
            errors={f"{action}:{err.field or 'form'}": err.message},
            form={"action": action, **request.form.to_dict()},
            status=err.status_code,
        )
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("staff.request_detail", request_id=request_id), 303)


@bp.route("/requests/<int:request_id>/acknowledge", methods=["POST"])
@roles_required(*DESK_ROLES)
def acknowledge(request_id: int) -> Response | tuple[str, int]:
    def do(sr: ServiceRequest) -> str:
        acknowledge_request(sr)
        return f"Request {sr.id} acknowledged."

    return _act(request_id, "acknowledge", do)


@bp.route("/requests/<int:request_id>/close", methods=["POST"])
@roles_required(*DESK_ROLES)
def close(request_id: int) -> Response | tuple[str, int]:
    def do(sr: ServiceRequest) -> str:
        reason = request.form.get("reason", "")
        if reason not in CLOSURE_REASONS:
            raise DomainError("Choose why the request is closed.", field="reason")
        note = _note_field(
            required="Write a note unless the reason is Fixed: say why, the reporter reads it."
            if note_required(reason)
            else None,
        )
        close_request(sr, reason=reason, note=note)
        told = " The reporter will get an email." if sr.reporter_email else ""
        return f"Request {sr.id} closed: {closure_word(reason)}.{told}"

    return _act(request_id, "close", do)


@bp.route("/requests/<int:request_id>/reopen", methods=["POST"])
@roles_required(*DESK_ROLES)
def reopen(request_id: int) -> Response | tuple[str, int]:
    def do(sr: ServiceRequest) -> str:
        note = _note_field(required="Say why the request is reopened.")
        reopen_request(sr, note=note)
        return f"Request {sr.id} reopened; it is back in the {sr.department.name} queue."

    return _act(request_id, "reopen", do)


@bp.route("/requests/<int:request_id>/note", methods=["POST"])
@roles_required(*DESK_ROLES)
def note(request_id: int) -> Response | tuple[str, int]:
    def do(sr: ServiceRequest) -> str:
        text = _note_field(required="Write the note.")
        public = request.form.get("public") in ("1", "on", "true", "yes")
        # every file is checked before anything is stored: one bad file keeps them all out
        photos = media.validate_uploads(request.files.getlist("photo"), field="photo")
        add_request_note(sr, note=text, public=public, photos=photos)
        with_photos = (
            f" with {len(photos)} photo{'s' if len(photos) != 1 else ''}" if photos else ""
        )
        if public:
            return f"Public note added{with_photos}: the reporter can read it on the tracking page."
        return f"Internal note added{with_photos}: only staff can read it."

    return _act(request_id, "note", do)


@bp.route("/requests/<int:request_id>/hold", methods=["POST"])
@roles_required(*DESK_ROLES)
def hold(request_id: int) -> Response | tuple[str, int]:
    def do(sr: ServiceRequest) -> str:
        reason = request.form.get("reason", "")
        if reason not in HOLD_REASONS:
            raise DomainError("Choose why the request waits.", field="reason")
        hold_request(sr, reason=reason, note=_note_field(required=None))
        return f"Request {sr.id} is on hold: its SLA clock is stopped until it is resumed."

    return _act(request_id, "hold", do)


@bp.route("/requests/<int:request_id>/resume", methods=["POST"])
@roles_required(*DESK_ROLES)
def resume(request_id: int) -> Response | tuple[str, int]:
    def do(sr: ServiceRequest) -> str:
        resume_request(sr, note=_note_field(required=None))
        return f"Request {sr.id} resumed; its due time moved by the pause."

    return _act(request_id, "resume", do)


def _form_id(name: str) -> int | None:
    raw = request.form.get(name, "").strip().removeprefix("#")
    return int(raw) if raw.isdigit() and len(raw) <= 18 else None


@bp.route("/requests/<int:request_id>/merge", methods=["POST"])
@roles_required(*DESK_ROLES)
def merge(request_id: int) -> Response | tuple[str, int]:
    """Merge this request into the one posted as `into`; go to the one that stays open.

    The page a merge was asked from (`back`) shows the refusal, whichever side it was on.
    """
    back = _form_id("back") or request_id
    try:
        into = _form_id("into")
        if into is None:
            raise DomainError("Give the number of the request to merge into.", field="into")
        # a savepoint: a refusal after a partial write leaves nothing half-stored
        with db.session.begin_nested():
            merged = merge_request(request_id, into, note=_note_field(required=None))
    except Forbidden:
        raise
    except DomainError as err:  # NotFound too: a mistyped number is shown by the field
        return _render_detail(
            service.get_request(back),
            errors={"merge:into": err.message},
            form={"action": "merge", **request.form.to_dict()},
            status=err.status_code,
        )
    db.session.commit()
    told = (
        f" {merged.subscribed} more {'person' if merged.subscribed == 1 else 'people'} will "
        "be told when it closes."
        if merged.subscribed
        else ""
    )
    flash(f"Request {request_id} merged into request {into}.{told}", "success")
    return redirect(url_for("staff.request_detail", request_id=into), 303)
