"""Staff pages: find a request (by number, a caller's phone or email, or words) and act on it."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.auth.models import User
from app.auth.permissions import roles_required
from app.auth.roles import DEPARTMENT_BOUND
from app.core.errors import DomainError, Forbidden, NotFound
from app.extensions import db
from app.requests import service
from app.requests.lifecycle import check_note_length, note_required
from app.requests.models import CLOSURE_REASONS, STATUSES, ServiceRequest
from app.requests.permissions import (
    DESK_ROLES,
    INTAKE_ROLES,
    acknowledge_request,
    add_request_note,
    allowed_actions,
    check_may_handle,
    close_request,
    reopen_request,
    search_department,
)
from app.requests.presenters import lat_long
from app.requests.words import closure_word, status_word

bp = Blueprint("staff", __name__, url_prefix="/staff")

#: the closure reasons as a dispatcher reads them in the select, fixed first
REASON_CHOICES = [(r, closure_word(r)) for r in CLOSURE_REASONS]
STATUS_CHOICES = [("", "Any status"), ("open", "Open (not closed)")] + [
    (s, status_word(s)) for s in STATUSES
]


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
    items: list[ServiceRequest] = []
    total = 0
    searched = bool(q or status)
    if searched:
        items, total = service.search_requests(
            q, status=status, department_id=search_department(""), page=page
        )
    return render_template(
        "staff/search.html",
        q=q,
        status=status,
        errors=errors,
        searched=searched,
        items=items,
        total=total,
        page=page,
        pages=max(1, math.ceil(total / service.SEARCH_PAGE_SIZE)),
        status_choices=STATUS_CHOICES,
        department_bound=current_user.role in DEPARTMENT_BOUND,
        may_log_calls=current_user.role in INTAKE_ROLES,
    )


@bp.route("/requests/<int:request_id>")
@roles_required(*DESK_ROLES)
def request_detail(request_id: int) -> tuple[str, int]:
    """Show everything staff need about a request, with the actions they may take."""
    return _render_detail(service.get_request(request_id))


def answered_questions(sr: ServiceRequest) -> list[tuple[str, str]]:
    """Return (question, answer) for the request's answers, in the type's question order."""
    questions = {q.get("code"): q for q in sr.service_type.attributes or []}
    order = {code: (q.get("order", 0), i) for i, (code, q) in enumerate(questions.items())}
    rows: list[tuple[tuple[int, int], str, str]] = []
    for code, value in (sr.attributes or {}).items():
        q = questions.get(code, {})
        label = q.get("description") or q.get("label") or code
        names = {str(v.get("key")): v.get("name") or str(v.get("key")) for v in q.get("values", [])}
        values = value if isinstance(value, list) else [value]
        answer = ", ".join(names.get(str(v), str(v)) for v in values)
        # answers to questions since removed from the type come last
        rows.append((order.get(code, (1 << 30, 0)), label, answer))
    return [(label, answer) for _, label, answer in sorted(rows, key=lambda r: r[0])]


def work_orders(sr: ServiceRequest) -> list[tuple[int, str]]:
    """Return (work order id, crew) of the orders the request has been on, from its history.

    Read from the events rather than the work-order tables: requests sits below workorders.
    """
    found: dict[int, str] = {}
    for e in sr.events:
        wo_id = (e.data or {}).get("work_order_id")
        if wo_id:
            found[int(wo_id)] = found.get(int(wo_id)) or (e.data or {}).get("crew", "")
    return list(found.items())


def map_link(lat: float, long: float) -> str:
    return (
        f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={long:.6f}#map=18/{lat:.6f}/{long:.6f}"
    )


def _render_detail(
    sr: ServiceRequest,
    *,
    errors: Mapping[str, str] | None = None,
    form: Mapping[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    lat, long = lat_long(sr)
    created_by = db.session.get(User, sr.created_by_id) if sr.created_by_id else None
    page = render_template(
        "staff/detail.html",
        sr=sr,
        lat=lat,
        long=long,
        map_url=map_link(lat, long),
        answers=answered_questions(sr),
        created_by=created_by,
        orders=work_orders(sr),
        photos=service.public_photos(sr),
        events=list(sr.events),
        actions=allowed_actions(sr),
        reason_choices=REASON_CHOICES,
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
        add_request_note(sr, note=text, public=public)
        if public:
            return "Public note added: the reporter can read it on the tracking page."
        return "Internal note added: only staff can read it."

    return _act(request_id, "note", do)
