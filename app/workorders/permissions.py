"""Who may do what with work orders: the one answer for the API, the pages and the service.

Dispatchers act on their own department's orders, crew members on their own crew's, agents
may read any order, managers and admins may do everything.
"""

from __future__ import annotations

from app.auth import roles
from app.auth.models import User
from app.auth.roles import AGENT, CREW, DISPATCHER, SUPERVISORS
from app.core.errors import Forbidden
from app.org.models import Crew
from app.workorders.models import WorkOrder

#: may list crews, create and cancel orders; can_dispatch then decides for which department
DISPATCH_ROLES = roles.DISPATCH_ROLES
#: may open one order; can_view then decides which
VIEW_ROLES = roles.ROLES
#: may list, start and complete orders; can_work then decides which
WORK_ROLES = (*DISPATCH_ROLES, CREW)
#: work from the crew's phone page
CREW_ROLES = (CREW,)


def can_dispatch(actor: User, department_id: int) -> bool:
    """Tell whether the user may create and cancel work orders for this department."""
    if actor.role in SUPERVISORS:
        return True
    return actor.role == DISPATCHER and actor.department_id == department_id


def can_work(actor: User, wo: WorkOrder) -> bool:
    """Tell whether the user may start or complete this order: its crew or its dispatchers."""
    if actor.role == CREW:
        return actor.crew_id is not None and actor.crew_id == wo.crew_id
    return can_dispatch(actor, wo.department_id)


def can_see_crew(actor: User, crew: Crew) -> bool:
    """Tell whether the user may read a crew's list: its members, its dispatchers, supervisors."""
    if actor.role == CREW:
        return actor.crew_id is not None and actor.crew_id == crew.id
    return can_dispatch(actor, crew.department_id)


def can_view(actor: User, wo: WorkOrder) -> bool:
    """Tell whether the user may see this order."""
    if actor.role == AGENT:
        return True
    return can_work(actor, wo)


def chooses_department(actor: User) -> bool:
    """Tell whether the user may pick any department's queue, not only their own."""
    return actor.role in SUPERVISORS


def is_crew_member(actor: User) -> bool:
    """Tell whether the user works on one crew's orders (and sees only those)."""
    return actor.role == CREW


def check_can_dispatch(actor: User, department_id: int, message: str) -> None:
    """:raises Forbidden: with `message`, when the user may not dispatch for the department."""
    if not can_dispatch(actor, department_id):
        raise Forbidden(message)


def check_can_see_crew(actor: User, crew: Crew) -> None:
    """:raises Forbidden: the user is on another crew, or dispatches for another department."""
    if not can_see_crew(actor, crew):
        if actor.role == CREW:
            raise Forbidden(f"Crew members can only read their own crew's work, not {crew.name}'s.")
        raise Forbidden(
            f"{crew.name} works for {crew.department.name}; you can only read the crews of "
            "your own department."
        )


def check_can_view(actor: User, wo: WorkOrder) -> None:
    """:raises Forbidden: the user may not see this order."""
    if not can_view(actor, wo):
        raise Forbidden(f"Work order {wo.id} belongs to another crew or department.")


def check_can_work(actor: User, wo: WorkOrder, verb: str) -> None:
    """:raises Forbidden: the user is not on the order's crew nor a dispatcher of it."""
    if not can_work(actor, wo):
        raise Forbidden(
            f"Only {wo.crew.name} or a dispatcher of its department may {verb} work order {wo.id}."
        )


def check_can_cancel(actor: User, wo: WorkOrder) -> None:
    """:raises Forbidden: the user may not dispatch for the order's department."""
    check_can_dispatch(
        actor,
        wo.department_id,
        f"Only a dispatcher of its department may cancel work order {wo.id}.",
    )
