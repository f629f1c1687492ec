"""Work-order API: crews, dispatch, start and field close-out. Staff only, bearer tokens."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_login import current_user
from flask_smorest import Blueprint

from app.auth.api import BEARER
from app.auth.permissions import roles_required
from app.core.errors import Forbidden
from app.extensions import db
from app.org import service as org
from app.workorders import permissions, service
from app.workorders.presenters import present, uploaded_photo
from app.workorders.schemas import (
    CancelIn,
    CompleteForm,
    CrewListArgs,
    CrewOut,
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
@blp.doc(security=BEARER, summary="Record that the crew is on site")
@blp.response(200, WorkOrderOut)
def start_work_order(work_order_id: int) -> dict[str, Any]:
    wo = service.start(service.get_work_order(work_order_id, for_update=True), actor=current_user)
    db.session.commit()
    return present([wo])[0]


@blp.route("/workorders/<int:work_order_id>/complete", methods=["POST"])
@roles_required(*permissions.WORK_ROLES)
@blp.doc(
    security=BEARER,
    summary="Close out a work order with a note and a photo of the finished work",
    requestBody={"required": True, "content": {"multipart/form-data": {"schema": CompleteForm}}},
)
@blp.response(200, WorkOrderOut)
@blp.alt_response(400, description="The photo is missing or not an image")
@blp.alt_response(413, description="The photo is too large")
def complete_work_order(work_order_id: int) -> dict[str, Any]:
    """Every linked open request closes as fixed; reporters get the note and the photo."""
    wo = service.get_work_order(work_order_id, for_update=True)
    # refuse a stranger before reading their upload
    permissions.check_can_work(current_user, wo, "complete")
    wo = service.complete(
        wo, actor=current_user, note=request.form.get("note", ""), photo=uploaded_photo()
    )
    db.session.commit()
    return present([wo])[0]


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
