"""The audit JSON API: a request's full history, every event with who did it and when."""

from __future__ import annotations

from marshmallow import Schema, fields

from app.auth.permissions import roles_required
from app.requests import service
from app.requests.api import BEARER, blp
from app.requests.models import RequestEvent
from app.requests.permissions import DESK_ROLES, may_read_private


class ActorOut(Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String()
    role = fields.String()


class EventOut(Schema):
    id = fields.Integer()
    kind = fields.String(
        metadata={
            "description": "created, routed, acknowledged, assigned, status_changed, note, "
            "reopened, merged, closed, transferred, held or resumed."
        }
    )
    at = fields.AwareDateTime()
    actor = fields.Function(
        lambda e: ActorOut().dump(e.actor) if e.actor else None,
        metadata={"description": "Who did it; null for residents and the system."},
    )
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    note = fields.String()
    public = fields.Boolean(
        metadata={"description": "true: residents see it; false: staff only (internal)."}
    )
    data = fields.Dict(
        metadata={
            "description": "Details of the kind: closure reason, work order, crew, hold "
            "reason and paused seconds, merged into/from, transfer from/to."
        }
    )


@blp.route("/requests/<int:request_id>/events")
@roles_required(*DESK_ROLES)
@blp.doc(security=BEARER)
@blp.response(200, EventOut(many=True))
@blp.alt_response(401, response="DEFAULT_ERROR", description="No bearer token.")
@blp.alt_response(403, response="DEFAULT_ERROR", description="A crew token: not a desk role.")
@blp.alt_response(404, response="DEFAULT_ERROR", description="No such request.")
def events_endpoint(request_id: int) -> list[RequestEvent]:
    """Read a request's full history, oldest first: public and internal events alike.

    Each event says who (the staff member's name, email and role), when, what kind, the
    status it moved from and to, its note, whether residents see it, and its details. For
    agents, dispatchers, managers and admins; a dispatcher of another department gets the
    public events only, as the public view of the request shows them.
    """
    sr = service.get_request(request_id)
    if may_read_private(sr):
        return list(sr.events)
    return [e for e in sr.events if e.public]
