"""Work-order API: crews, dispatch, start, photos and field close-out. Staff only, bearer tokens.

Start, complete and photo uploads take an Idempotency-Key header (app.core.idempotency): their
views never commit, the decorator does, with the stored answer.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_login import current_user
from flask_smorest import Blueprint

from app.auth.api import BEARER
from app.auth.permissions import roles_required
from app.core.errors import DomainError, Forbidden
from app.core.idempotency import IDEMPOTENCY_HEADER, idempotent
from app.extensions import db
from app.org import service as org
from app.workorders import permissions, service
from app.workorders.presenters import (
    materials_field,
    present,
    present_close_out,
    present_crew_list,
    uploaded_photos,
)
from app.workorders.schemas import (
    CancelIn,
    CompletedOut,
    CompleteForm,
    CrewListArgs,
    CrewOut,
    CrewWorkOrderOut,
    CrewWorkOrdersArgs,
    PhotoForm,
    WorkOrderIn,
    WorkOrderListArgs,
    WorkOrderOut,
)

blp = Blueprint(
    "workorders_api",
    __name__,
    url_prefix="/api/v1",
    description="Crews and work orders: dispatch, start and field close-out.",
)


def _department_scope(code: str | None) -> int | None:
    """Return the department a dispatcher is confined to, or the one a supervisor picked."""
    if not permissions.chooses_department(current_user):
        if code and code != current_user.department.code:
            raise Forbidden(f"You dispatch for {current_user.department.code}, not {code}.")
        return current_user.department_id
    return org.get_department(code).id if code else None


@blp.route("/crews")
@roles_required(*permissions.DISPATCH_ROLES)
@blp.doc(security=BEARER, summary="List crews with their open work orders")
@blp.arguments(CrewListArgs, location="query")
@blp.response(200, CrewOut(many=True))
def list_crews(args: dict[str, Any]) -> list[dict[str, Any]]:
    """A dispatcher sees the crews of their department; managers and admins see all."""
    crews = org.list_crews(_department_scope(args.get("department")))
    counts = service.open_work_order_counts(c.id for c in crews)
    return [
        {
            "id": c.id,
            "name": c.name,
            "department": c.department,
            "active": c.active,
            "open_work_orders": counts.get(c.id, 0),
        }
        for c in crews
    ]


@blp.route("/workorders")
@roles_required(*permissions.WORK_ROLES)
@blp.doc(security=BEARER, summary="List work orders")
@blp.arguments(WorkOrderListArgs, location="query")
@blp.response(200, WorkOrderOut(many=True))
def list_work_orders(args: dict[str, Any]) -> list[dict[str, Any]]:
    """Open orders first. Crew members see their own crew's orders only."""
    crew_id = args.get("crew_id")
    department_id = None
    if permissions.is_crew_member(current_user):
        if crew_id is not None and crew_id != current_user.crew_id:
            raise Forbidden("Crew members can only list their own crew's work orders.")
        crew_id = current_user.crew_id
    else:
        department_id = _department_scope(args.get("department"))
    orders = service.list_work_orders(
        department_id=department_id, crew_id=crew_id, status=args.get("status"), limit=args["limit"]
    )
    return present(orders)


@blp.route("/workorders", methods=["POST"])
@roles_required(*permissions.DISPATCH_ROLES)
@blp.doc(security=BEARER, summary="Dispatch a crew to one or more requests")
@blp.arguments(WorkOrderIn)
@blp.response(201, WorkOrderOut)
@blp.alt_response(404, description="A request or the crew does not exist")
@blp.alt_response(409, description="A request is closed or already on an open work order")
def create_work_order(data: dict[str, Any]) -> dict[str, Any]:
    wo = service.create_work_order(
        data["request_ids"],
        data["crew_id"],
        actor=current_user,
        instructions=data.get("instructions", ""),
        priority=data["priority"],
        scheduled_for=data["scheduled_for"],
    )
    db.session.commit()
    return present([wo])[0]


@blp.route("/workorders/<int:work_order_id>")
@roles_required(*permissions.VIEW_ROLES)
@blp.doc(security=BEARER, summary="Show a work order")
@blp.response(200, WorkOrderOut)
def get_work_order(work_order_id: int) -> dict[str, Any]:
    wo = service.get_work_order(work_order_id)
    permissions.check_can_view(current_user, wo)
    return present([wo])[0]


@blp.route("/workorders/<int:work_order_id>/start", methods=["POST"])
@roles_required(*permissions.WORK_ROLES)
@idempotent
@blp.doc(
    security=BEARER, summary="Record that the crew is on site", parameters=[IDEMPOTENCY_HEADER]
)
@blp.response(200, WorkOrderOut)
def start_work_order(work_order_id: int) -> dict[str, Any]:
    """Requests on hold stay on hold. Starting an order in progress changes nothing."""
    wo = service.start(service.get_work_order(work_order_id, for_update=True), actor=current_user)
    return present([wo])[0]


@blp.route("/workorders/<int:work_order_id>/complete", methods=["POST"])
@roles_required(*permissions.WORK_ROLES)
@idempotent
@blp.doc(
    security=BEARER,
    summary="Close out a work order with a note and a photo of the finished work",
    requestBody={"required": True, "content": {"multipart/form-data": {"schema": CompleteForm}}},
    parameters=[IDEMPOTENCY_HEADER],
)
@blp.response(200, CompletedOut)
@blp.alt_response(400, description="The photo is missing or not an image; bad hours or materials")
@blp.alt_response(409, description="The order is already completed or cancelled")
@blp.alt_response(413, description="The photo is too large")
def complete_work_order(work_order_id: int) -> dict[str, Any]:
    """Every linked open request closes as fixed; reporters get the note and the photo.

    A request already closed as a duplicate of one still open closes that one instead;
    `outcomes` says what became of each request. `materials` is a JSON list in one form
    field. The photo may be left out when an after photo was added to the order before.
    """
    wo = service.get_work_order(work_order_id, for_update=True)
    # refuse a stranger before reading their upload
    permissions.check_can_work(current_user, wo, "complete")
    result = service.close_out(
        wo,
        actor=current_user,
        note=request.form.get("note", ""),
        photos=uploaded_photos(),
        labour_hours=request.form.get("labour_hours"),
        materials=materials_field(),
    )
    return present_close_out(result)


@blp.route("/workorders/<int:work_order_id>/photos", methods=["POST"])
@roles_required(*permissions.WORK_ROLES)
@idempotent
@blp.doc(
    security=BEARER,
    summary="Add photos of the site before the work or of the finished work",
    requestBody={"required": True, "content": {"multipart/form-data": {"schema": PhotoForm}}},
    parameters=[IDEMPOTENCY_HEADER],
)
@blp.response(201, WorkOrderOut)
@blp.alt_response(400, description="No photo, not an image, or a kind other than before/after")
@blp.alt_response(409, description="The order is completed or cancelled")
@blp.alt_response(413, description="The photo is too large")
def add_work_order_photo(work_order_id: int) -> tuple[dict[str, Any], int]:
    """Repeat `photo` for up to MAX_PHOTOS_PER_UPLOAD photos of the same kind; none is kept
    if one is refused. An after photo added before completing is the completion photo, if
    none comes with it."""
    wo = service.get_work_order(work_order_id, for_update=True)
    permissions.check_can_work(current_user, wo, "add photos to")
    kind = request.form.get("kind", "")
    if kind not in service.WORK_PHOTO_KINDS:
        raise DomainError("Say which photo this is: kind is before or after.", field="kind")
    photos = uploaded_photos()
    if not photos:
        raise DomainError("Attach the photo.", field="photo")
    for photo in photos:
        service.add_photo(wo, actor=current_user, photo=photo, kind=kind)
    return present([wo])[0], 201


@blp.route("/crews/<int:crew_id>/workorders")
@roles_required(*permissions.WORK_ROLES)
@blp.doc(security=BEARER, summary="List a crew's open work orders, nearest first")
@blp.arguments(CrewWorkOrdersArgs, location="query")
@blp.response(200, CrewWorkOrderOut(many=True))
@blp.alt_response(403, description="Another crew's list, or a crew of another department")
@blp.alt_response(404, description="No such crew")
def crew_work_orders(args: dict[str, Any], crew_id: int) -> list[dict[str, Any]]:
    """With lat and long: nearest first, with the distance in metres on the ground.

    Without them: by priority (urgent first), then the planned day, then the oldest. Crew
    members read their own crew's list; dispatchers their department's crews; managers and
    admins any.
    """
    crew = org.get_crew(crew_id)
    permissions.check_can_see_crew(current_user, crew)
    near = (args["lat"], args["long"]) if "lat" in args else None
    return present_crew_list(service.crew_open_orders(crew.id, near=near, limit=args["limit"]))


@blp.route("/workorders/<int:work_order_id>/cancel", methods=["POST"])
@roles_required(*permissions.DISPATCH_ROLES)
@blp.doc(security=BEARER, summary="Call off an open work order; its requests return to the queue")
@blp.arguments(CancelIn)
@blp.response(200, WorkOrderOut)
def cancel_work_order(data: dict[str, Any], work_order_id: int) -> dict[str, Any]:
    wo = service.cancel(
        service.get_work_order(work_order_id, for_update=True),
        actor=current_user,
        reason=data["reason"],
    )
    db.session.commit()
    return present([wo])[0]
