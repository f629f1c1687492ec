"""The routing-rule endpoints (admin), on the requests API blueprint."""

from __future__ import annotations

from typing import Any

from app.auth.permissions import roles_required
from app.auth.roles import ADMIN
from app.extensions import db
from app.requests import routing
from app.requests.api import BEARER, blp
from app.requests.models import RoutingRule
from app.requests.routing_schemas import RoutingRuleIn, RoutingRuleOut


def _errors(*answers: tuple[int, str]) -> Any:
    """Document the error answers of an endpoint."""

    def decorator(func: Any) -> Any:
        for code, text in answers:
            func = blp.alt_response(code, response="DEFAULT_ERROR", description=text)(func)
        return func

    return decorator


_ADMIN_ERRORS = ((401, "No bearer token."), (403, "Not an admin."))


@blp.route("/routing-rules", methods=["GET"])
@roles_required(ADMIN)
@blp.doc(security=BEARER)
@blp.response(200, RoutingRuleOut(many=True))
@_errors(*_ADMIN_ERRORS)
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
    *_ADMIN_ERRORS,
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
@_errors(*_ADMIN_ERRORS, (404, "No such rule."))
def delete_routing_rule(rule_id: int) -> None:
    """Delete a routing rule: new requests of its type go by the next rule, or the type."""
    routing.delete_rule(rule_id)
    db.session.commit()
