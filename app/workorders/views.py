"""Staff pages: the dispatch queue, the crew's phone page and the field close-out form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from app.auth.permissions import roles_required
from app.core.clock import utcnow
from app.core.errors import DomainError, Forbidden, NotFound
from app.extensions import db
from app.org import service as org
from app.org.models import Department
from app.requests.models import HOLD_REASONS, MAX_TEXT
from app.requests.permissions import hold_request, resume_request
from app.requests.presenters import answered_questions, lat_long
from app.workorders import permissions, queue_page, service
from app.workorders.models import WorkOrder
from app.workorders.presenters import (
    age,
    distance_words,
    material_rows,
    position,
    uploaded_photos,
)

bp = Blueprint("workorders", __name__)


@bp.context_processor
def _limits() -> dict[str, int]:
    """Give the forms the length limit the service enforces."""
    return {"max_text": MAX_TEXT}


def _department(code: str | None) -> Department | None:
    if not permissions.chooses_department(current_user):
        return current_user.department
    if code:
        return org.get_department(code)
    departments = org.list_departments()
    return departments[0] if departments else None


def _render_queue(
    department: Department | None,
    *,
    error: DomainError | None = None,
    selected: set[int] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    context: dict[str, Any] = {"page": None, "filter_error": None}
    crews = []
    open_orders: list[WorkOrder] = []
    if department is not None:
        context = queue_page.queue_context(department, request.args)
        crews = org.list_crews(department.id, active_only=True)
        open_orders = service.list_work_orders(department_id=department.id, open_only=True)
        if context["filter_error"] is not None and error is None:
            status = context["filter_error"].status_code
    return (
        render_template(
            "workorders/queue.html",
            department=department,
            departments=(
                org.list_departments() if permissions.chooses_department(current_user) else []
            ),
            crews=crews,
            open_orders=open_orders,
            now=utcnow(),
            age=age,
            error=error,
            selected=selected or set(),
            form=form or {},
            assign_modes=queue_page.ASSIGN_MODES,
            **context,
        ),
        status,
    )


@bp.route("/dispatch")
@roles_required(*permissions.DISPATCH_ROLES)
def queue() -> Any:
    """Show a department's open requests, filtered, in a list and on a map, to pick crews."""
    return _render_queue(_department(request.args.get("department")))


def _int_list(values: list[str], field: str) -> list[int]:
    try:
        return [int(v) for v in values]
    except ValueError:
        raise DomainError("Pick requests from the list.", field=field) from None


def _assign(ids: list[int], form: dict[str, str]) -> list[WorkOrder]:
    """Create the work orders the form asks for: one for every request, or one each."""
    if not form["crew_id"].strip().isdigit():
        raise DomainError("Choose a crew.", field="crew_id")
    if form["mode"] not in queue_page.ASSIGN_MODES:
        raise DomainError("Choose one work order for all, or one each.", field="mode")
    options: dict[str, Any] = {
        "actor": current_user,
        "instructions": form["instructions"],
        "priority": form["priority"] or "normal",
        "scheduled_for": queue_page.read_schedule(form["scheduled_for"]),
    }
    crew_id = int(form["crew_id"])
    if form["mode"] == "one" or len(ids) < 2:
        return [service.create_work_order(ids, crew_id, **options)]
    # in id order, as create_work_order locks, so two dispatchers cannot deadlock
    return [service.create_work_order([i], crew_id, **options) for i in sorted(set(ids))]


@bp.route("/dispatch/workorders", methods=["POST"])
@roles_required(*permissions.DISPATCH_ROLES)
def create() -> Any:
    """Send a crew to the ticked requests, on one work order or one each, then go back.

    One each is all or nothing: if one request cannot be assigned (closed meanwhile, taken
    by another dispatcher), no work order is created.
    """
    department = _department(request.form.get("department"))
    form = {
        name: request.form.get(name, default)
        for name, default in (
            ("crew_id", ""),
            ("instructions", ""),
            ("mode", "one"),
            ("priority", "normal"),
            ("scheduled_for", ""),
        )
    }
    raw_ids = request.form.getlist("request_id")
    try:
        ids = _int_list(raw_ids, "request_ids")
        orders = _assign(ids, form)
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        selected = {int(v) for v in raw_ids if v.isdigit()}
        return _render_queue(
            department, error=err, selected=selected, form=form, status=err.status_code
        )
    flash(_assigned_message(orders), "success")
    code = department.code if department is not None else None
    return redirect(queue_page.queue_url(queue_page.kept_args(request.args), department=code), 303)


def _assigned_message(orders: list[WorkOrder]) -> str:
    crew = orders[0].crew.name
    if len(orders) == 1:
        count = len(orders[0].requests)
        return (
            f"Work order #{orders[0].id} sent to {crew} with {count} "
            f"request{'s' if count != 1 else ''}."
        )
    numbers = ", ".join(f"#{wo.id}" for wo in orders)
    return f"{len(orders)} work orders ({numbers}) sent to {crew}, one per request."


@bp.route("/dispatch/workorders/<int:work_order_id>/cancel", methods=["POST"])
@roles_required(*permissions.DISPATCH_ROLES)
def cancel(work_order_id: int) -> Response:
    """Call off a work order; its requests return to the queue."""
    wo = service.get_work_order(work_order_id, for_update=True)
    code = db.session.get_one(Department, wo.department_id).code
    try:
        service.cancel(wo, actor=current_user, reason=request.form.get("reason", ""))
        db.session.commit()
        flash(f"Work order #{wo.id} cancelled; its requests are back in the queue.", "success")
    except (Forbidden, NotFound):
        raise
    except DomainError as err:
        db.session.rollback()
        flash(f"Work order #{work_order_id} was not cancelled: {err.message}", "error")
    return redirect(url_for(".queue", department=code), 303)


@bp.route("/crew")
@roles_required(*permissions.CREW_ROLES)
def crew_home() -> str:
    """Show the crew's open work orders on a phone, nearest first when the phone says where."""
    near = position()
    rows = service.crew_open_orders(current_user.crew_id, near=near)
    open_orders = [wo for wo, _ in rows]
    srs = [sr for wo in open_orders for sr in wo.requests]
    return render_template(
        "workorders/crew_home.html",
        crew=current_user.crew,
        open_orders=open_orders,
        distances={wo.id: distance_words(metres) for wo, metres in rows},
        done=service.recently_completed(current_user.crew_id),
        coords={sr.id: lat_long(sr) for sr in srs},
        report_photos=service.report_photo_ids(sr.id for sr in srs),
        answers={sr.id: answered_questions(sr) for sr in srs},
        hold_reasons=HOLD_REASONS,
        near=near,
        photo_required=service.photo_required,
    )


def _back_to_work() -> str:
    if permissions.is_crew_member(current_user):
        # the forms carry the position the list was sorted by, so it stays sorted
        near = position()
        if near is not None:
            return url_for(".crew_home", lat=near[0], long=near[1])
        return url_for(".crew_home")
    return url_for(".queue")


def _act_and_return(action: Callable[[], str]) -> Response:
    """Take a crew page's action and commit; flash its message or the error; go back."""
    try:
        message = action()
        db.session.commit()
        flash(message, "success")
    except (Forbidden, NotFound):
        raise
    except RequestEntityTooLarge:
        db.session.rollback()
        flash(_too_large().message, "error")
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
    return redirect(_back_to_work(), 303)


@bp.route("/crew/workorders/<int:work_order_id>/start", methods=["POST"])
@roles_required(*permissions.WORK_ROLES)
def start(work_order_id: int) -> Response:
    """Record that the crew is on site."""
    wo = service.get_work_order(work_order_id, for_update=True)
    permissions.check_can_work(current_user, wo, "start")

    def action() -> str:
        service.start(wo, actor=current_user)
        return f"Work order #{wo.id} started."

    return _act_and_return(action)


@bp.route("/crew/workorders/<int:work_order_id>/photos", methods=["POST"])
@roles_required(*permissions.WORK_ROLES)
def add_photo(work_order_id: int) -> Response:
    """Add a photo of the site before the work (or of the result) to an open order."""
    wo = service.get_work_order(work_order_id, for_update=True)
    permissions.check_can_work(current_user, wo, "add photos to")

    def action() -> str:
        kind = request.form.get("kind", "before")
        photos = uploaded_photos()
        if not photos:
            raise DomainError("Choose a photo to add.", field="photo")
        for photo in photos:
            service.add_photo(wo, actor=current_user, photo=photo, kind=kind)
        added = "Photo" if len(photos) == 1 else f"{len(photos)} photos"
        return f"{added} added to work order #{wo.id}."

    return _act_and_return(action)


@bp.route("/crew/requests/<int:request_id>/hold", methods=["POST"])
@roles_required(*permissions.WORK_ROLES)
def hold(request_id: int) -> Response:
    """Put a request on hold from the field (materials, weather…): its SLA clock stops."""
    sr = service.lock_request(request_id)

    def action() -> str:
        hold_request(sr, reason=request.form.get("reason", ""), note=request.form.get("note", ""))
        return f"Request {sr.id} is on hold; its clock has stopped."

    return _act_and_return(action)


@bp.route("/crew/requests/<int:request_id>/resume", methods=["POST"])
@roles_required(*permissions.WORK_ROLES)
def resume(request_id: int) -> Response:
    """End a request's hold; its due time moves by the pause."""
    sr = service.lock_request(request_id)

    def action() -> str:
        resume_request(sr, note=request.form.get("note", ""))
        return f"Request {sr.id} resumed."

    return _act_and_return(action)


@bp.route("/crew/workorders/<int:work_order_id>/complete", methods=["GET", "POST"])
@roles_required(*permissions.WORK_ROLES)
def complete_form(work_order_id: int) -> Any:
    """Close out a work order with a note, a photo, the hours and the materials used."""
    wo = service.get_work_order(work_order_id, for_update=request.method == "POST")
    # a stranger gets no form, and their upload is never read
    permissions.check_can_work(current_user, wo, "complete")
    if request.method == "GET":
        return _render_complete(wo)
    try:
        form = {"note": request.form.get("note", ""), **request.form}
        materials = material_rows()
    except RequestEntityTooLarge:
        return _render_complete(wo, error=_too_large(), status=413)
    try:
        result = service.close_out(
            wo,
            actor=current_user,
            note=form["note"],
            photos=uploaded_photos(),
            labour_hours=form.get("labour_hours"),
            materials=materials,
        )
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        return _render_complete(
            service.get_work_order(work_order_id),
            error=err,
            form=form,
            materials=materials,
            status=err.status_code,
        )
    # an original closed in a duplicate's place counts: its reporters are told too
    closed = len(
        {o.request_id for o in result.outcomes if o.outcome == "closed"}
        | {o.closed_request_id for o in result.outcomes if o.closed_request_id}
    )
    flash(
        f"Work order #{wo.id} completed; {closed} request{'s' if closed != 1 else ''} closed "
        "and the reporters told.",
        "success",
    )
    for outcome in result.outcomes:
        if outcome.outcome != "closed":
            flash(outcome.message, "success")
    return redirect(_back_to_work(), 303)


def _too_large() -> DomainError:
    limit_mb = current_app.config["MAX_PHOTO_BYTES"] / (1024 * 1024)
    return DomainError(
        f"The upload is too large: photos may be at most {limit_mb:g} MB.", field="photo"
    )


#: blank material rows the completion form offers
MATERIAL_ROWS = 3


def _render_complete(
    wo: WorkOrder,
    *,
    error: DomainError | None = None,
    form: dict[str, str] | None = None,
    materials: list[dict[str, str]] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    rows = list(materials or [])
    rows += [{"name": "", "quantity": "", "unit": ""}] * max(MATERIAL_ROWS - len(rows), 1)
    return (
        render_template(
            "workorders/complete.html",
            wo=wo,
            error=error,
            form=form or {},
            note=(form or {}).get("note", ""),
            materials=rows,
            max_hours=service.MAX_LABOUR_HOURS,
            photo_required=service.photo_required(wo),
            needing=service.types_requiring_photo(wo),
            has_after_photo=service.completion_photo_ids([wo.id]).get(wo.id) is not None,
            is_open=wo.status in service.OPEN_STATUSES,
            near=position(),
        ),
        status,
    )
