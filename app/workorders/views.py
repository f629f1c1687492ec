"""Staff pages: the dispatch queue, the crew's phone page and the field close-out form."""

from __future__ import annotations

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
from app.requests.models import MAX_TEXT
from app.workorders import permissions, queue_page, service
from app.workorders.models import WorkOrder
from app.workorders.presenters import age, location, uploaded_photo

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
    """Show the crew's open work orders on a phone, with the way to each site."""
    orders = service.crew_work_orders(current_user.crew_id)
    open_orders = [wo for wo in orders if wo.status in service.OPEN_STATUSES]
    done = [wo for wo in orders if wo.status not in service.OPEN_STATUSES]
    coords = {sr.id: location(sr) for wo in open_orders for sr in wo.requests}
    return render_template(
        "workorders/crew_home.html",
        crew=current_user.crew,
        open_orders=open_orders,
        done=done,
        coords=coords,
        photo_required=service.photo_required,
    )


def _back_to_work() -> str:
    if permissions.is_crew_member(current_user):
        return url_for(".crew_home")
    return url_for(".queue")


@bp.route("/crew/workorders/<int:work_order_id>/start", methods=["POST"])
@roles_required(*permissions.WORK_ROLES)
def start(work_order_id: int) -> Response:
    """Record that the crew is on site."""
    wo = service.get_work_order(work_order_id, for_update=True)
    try:
        service.start(wo, actor=current_user)
        db.session.commit()
        flash(f"Work order #{wo.id} started.", "success")
    except (Forbidden, NotFound):
        raise
    except DomainError as err:
        db.session.rollback()
        flash(err.message, "error")
    return redirect(_back_to_work(), 303)


@bp.route("/crew/workorders/<int:work_order_id>/complete", methods=["GET", "POST"])
@roles_required(*permissions.WORK_ROLES)
def complete_form(work_order_id: int) -> Any:
    """Close out a work order with a note and a photo of the finished work."""
    wo = service.get_work_order(work_order_id, for_update=request.method == "POST")
    # a stranger gets no form, and their upload is never read
    permissions.check_can_work(current_user, wo, "complete")
    if request.method == "GET":
        return _render_complete(wo)
    try:
        note = request.form.get("note", "")
    except RequestEntityTooLarge:
        return _render_complete(wo, error=_too_large(), status=413)
    try:
        service.complete(wo, actor=current_user, note=note, photo=uploaded_photo())
        db.session.commit()
    except DomainError as err:
        db.session.rollback()
        return _render_complete(
            service.get_work_order(work_order_id), error=err, note=note, status=err.status_code
        )
    closed = len(wo.requests)
    flash(
        f"Work order #{wo.id} completed; {closed} request{'s' if closed != 1 else ''} closed "
        "and the reporters told.",
        "success",
    )
    return redirect(_back_to_work(), 303)


def _too_large() -> DomainError:
    limit_mb = current_app.config["MAX_PHOTO_BYTES"] / (1024 * 1024)
    return DomainError(
        f"The upload is too large: photos may be at most {limit_mb:g} MB.", field="photo"
    )


def _render_complete(
    wo: WorkOrder, *, error: DomainError | None = None, note: str = "", status: int = 200
) -> tuple[str, int]:
    return (
        render_template(
            "workorders/complete.html",
            wo=wo,
            error=error,
            note=note,
            photo_required=service.photo_required(wo),
            is_open=wo.status in service.OPEN_STATUSES,
        ),
        status,
    )
