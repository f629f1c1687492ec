"""The routing-rule endpoints (admin) and the transfer of a request, on the requests API."""

from __future__ import annotations

from typing import Any

from app.auth.permissions import roles_required
from app.auth.roles import ADMIN
from app.core.apidocs import ADMIN_ERRORS, error_answers
from app.extensions import db
from app.requests import routing, service
from app.requests.api import BEARER, blp
from app.requests.models import RoutingRule
from app.requests.permissions import ACTION_ROLES, transfer_request
from app.requests.presenters import request_view
from app.requests.routing_schemas import RoutingRuleIn, RoutingRuleOut, TransferIn
from app.requests.schemas import RequestStaffOut


def _errors(*answers: tuple[int, str]) -> Any:
    """Document the error answers of an endpoint."""
    return error_answers(blp, *answers)


@blp.route("/routing-rules", methods=["GET"])
@roles_required(ADMIN)
@blp.doc(security=BEARER)
@blp.response(200, RoutingRuleOut(many=True))
@_errors(*ADMIN_ERRORS)
def list_routing_rules() -> list[RoutingRule]:
    """List the routing rules, by service type; a type's rule for every district first.

    A rule for the request's district wins over the type's rule for every district, which
    wins over the type's own department.
    """
    return routing.list_rules()


@blp.route("/routing-rules", methods=["POST"])
@roles_required(ADMIN)
@blp.doc(security=BEARER)
@blp.arguments(RoutingRuleIn)
@blp.response(201, RoutingRuleOut)
@_errors(
    *ADMIN_ERRORS,
    (400, "An unknown type, district, department or crew, or a crew of another department."),
    (409, "The type already has a rule for that district."),
    (422, "No service_code, or a field of the wrong type."),
)
def create_routing_rule(data: dict[str, Any]) -> RoutingRule:
    """Route a service type's requests, in one ward or in all, to a department and a crew.

    `district` is a ward's code (leave it out for every district); `crew_id` proposes the
    crew a dispatcher starts from and must work for the rule's department, which defaults
    to the crew's. Requests already made keep their department.
    """
    rule = routing.create_rule(
        data["service_code"],
        district_code=data["district"],
        department_code=data["department"],
        crew_id=data["crew_id"],
    )
    db.session.commit()
    return rule


@blp.route("/routing-rules/<int:rule_id>", methods=["DELETE"])
@roles_required(ADMIN)
@blp.doc(security=BEARER)
@blp.response(204)
@_errors(*ADMIN_ERRORS, (404, "No such rule."))
def delete_routing_rule(rule_id: int) -> None:
    """Delete a routing rule: new requests of its type go by the next rule, or the type."""
    routing.delete_rule(rule_id)
    db.session.commit()


@blp.route("/requests/<int:request_id>/transfer", methods=["POST"])
@roles_required(*ACTION_ROLES["transfer"])
@blp.doc(security=BEARER)
@blp.arguments(TransferIn)
@blp.response(200, RequestStaffOut)
@_errors(
    (401, "No bearer token."),
    (403, "Not a role that may do this, or a request of another department."),
    (404, "No such request, or no active service type with that code."),
    (409, "The request is closed, already of that type, or on an open work order."),
    (422, "No service_code or no note."),
)
def transfer_endpoint(data: dict[str, Any], request_id: int) -> dict[str, Any]:
    """Move a request to the service type it really is ("not ours"), saying why.

    It goes to the new type's department (or its routing rule's, for the request's ward)
    and crew. Its due time is the new type's SLA counted from when the resident asked (plus
    any time on hold); requested_at never changes. The note is internal. For dispatchers of
    the request's department, agents, managers and admins. A request on an open work order
    is refused: call the crew off first.
    """
    sr = service.get_request(request_id, for_update=True)
    db.session.refresh(sr)  # the lock is taken: act on what the last commit left
    transfer_request(sr, service_code=data["service_code"], note=data["note"])
    db.session.commit()
    return request_view(sr, staff=True)
