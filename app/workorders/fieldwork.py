"""Field work: starting an order, its photos, and the close-out that closes its requests.

Verbs validate, write, flush and move the linked requests through requests.service, which
records their events and sends their signals. They never commit: the caller owns the
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from app.auth.models import User
from app.core.clock import utcnow
from app.core.errors import Conflict, DomainError
from app.extensions import db
from app.media import service as media
from app.media.models import Photo
from app.requests import service as requests_service
from app.requests.models import ServiceRequest, ServiceType
from app.workorders import permissions
from app.workorders.dispatch import clean_text, lock_request, locked_requests
from app.workorders.models import WorkOrder
from app.workorders.queries import OPEN_STATUSES, WORK_PHOTO_KINDS, completion_photo_ids

MAX_LABOUR_HOURS = Decimal(999)
MAX_MATERIALS = 50
MAX_MATERIAL_NAME = 200
MAX_MATERIAL_UNIT = 40
MAX_MATERIAL_QUANTITY = 1_000_000
#: a duplicate's parent may itself have been merged on; a chain longer than this is a loop
MAX_PARENT_HOPS = 10


def types_requiring_photo(wo: WorkOrder) -> list[ServiceType]:
    """Return the service types on the order that ask for a photo of the finished work."""
    found = {sr.service_type.id: sr.service_type for sr in wo.requests}
    return [st for st in found.values() if st.completion_photo_required]


def photo_required(wo: WorkOrder) -> bool:
    """Tell whether closing this order needs a photo of the finished work."""
    return bool(types_requiring_photo(wo))


# ---------------------------------------------------------------------------------------------
# what the crew reports


def _number(value: object) -> Decimal | None:
    """Read a number from JSON or a form field; None when it is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        return None
    try:
        number = Decimal(value.strip() if isinstance(value, str) else str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def clean_labour_hours(value: object) -> Decimal | None:
    """Return the labour hours as a number of hundredths; None when none were given.

    :raises DomainError: not a number from 0 to 999 (400).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    hours = _number(value)
    if hours is None or not 0 <= hours <= MAX_LABOUR_HOURS:
        raise DomainError(
            f"Labour hours must be a number from 0 to {MAX_LABOUR_HOURS}.", field="labour_hours"
        )
    return hours.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def clean_materials(items: object) -> list[dict[str, Any]]:
    """Check the materials used: [{name, quantity, unit}]; return them tidied.

    :raises DomainError: not a list, too many, or an item without a name, with a quantity
        that is not a number above 0, a unit that is not text, or an unknown field (400).
    """
    if items is None:
        return []
    if not isinstance(items, list):
        raise DomainError(
            'Materials must be a list like [{"name": "cold patch", "quantity": 2, "unit": "bag"}].',
            field="materials",
        )
    if len(items) > MAX_MATERIALS:
        raise DomainError(
            f"At most {MAX_MATERIALS} materials can be listed; {len(items)} were sent.",
            field="materials",
        )
    cleaned = []
    for n, item in enumerate(items, start=1):

        def refuse(problem: str, n: int = n) -> DomainError:
            return DomainError(f"Material {n}: {problem}", field="materials")

        if not isinstance(item, dict):
            raise refuse("give an object with a name, a quantity and a unit.")
        unknown = sorted(set(item) - {"name", "quantity", "unit"})
        if unknown:
            raise refuse(f"unknown field {', '.join(map(repr, unknown))}.")
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise refuse("give its name.")
        if len(name.strip()) > MAX_MATERIAL_NAME:
            raise refuse(f"the name is longer than {MAX_MATERIAL_NAME} characters.")
        quantity = _number(item.get("quantity"))
        if quantity is None or not 0 < quantity <= MAX_MATERIAL_QUANTITY:
            raise refuse("the quantity must be a number greater than 0.")
        unit = item.get("unit", "")
        if not isinstance(unit, str) or len(unit.strip()) > MAX_MATERIAL_UNIT:
            raise refuse(f"the unit must be text of at most {MAX_MATERIAL_UNIT} characters.")
        cleaned.append(
            {
                "name": name.strip(),
                "quantity": int(quantity)
                if quantity == quantity.to_integral()
                else float(quantity),
                "unit": unit.strip(),
            }
        )
    return cleaned


# ---------------------------------------------------------------------------------------------
# transitions


def start(wo: WorkOrder, *, actor: User) -> WorkOrder:
    """Record that the crew is on site; its open requests become in progress.

    Starting an order already in progress changes nothing, so a retried tap is harmless.
    A request on hold stays on hold: the crew resumes it when the reason has gone.

    :raises Forbidden: the user is not on the order's crew nor a dispatcher of it.
    :raises Conflict: the order is completed or cancelled.
    """
    permissions.check_can_work(actor, wo, "start")
    if wo.status == "in_progress":
        return wo
    if wo.status != "assigned":
        raise Conflict(f"Work order {wo.id} is {wo.status}; it cannot be started.")
    wo.status = "in_progress"
    wo.started_at = utcnow()
    for sr in locked_requests(wo):
        if sr.status in ("assigned", "acknowledged", "new"):
            requests_service.mark_in_progress(sr, actor_id=actor.id, work_order_id=wo.id)
    db.session.flush()
    return wo


def add_photo(wo: WorkOrder, *, actor: User, photo: media.ValidatedPhoto, kind: str) -> Photo:
    """Add a photo of the site before the work or of the finished work to an open order.

    An "after" photo added before completing counts as the completion photo.

    :raises Forbidden: the user is not on the order's crew nor a dispatcher of it.
    :raises DomainError: a kind other than before or after (400).
    :raises Conflict: the order is completed or cancelled (409).
    """
    permissions.check_can_work(actor, wo, "add photos to")
    if kind not in WORK_PHOTO_KINDS:
        raise DomainError(
            f"Unknown photo kind {kind!r}; use one of {', '.join(WORK_PHOTO_KINDS)}.",
            field="kind",
        )
    if wo.status not in OPEN_STATUSES:
        raise Conflict(f"Work order {wo.id} is {wo.status}; it takes no more photos.")
    return media.attach_photo(photo, kind=kind, work_order_id=wo.id)


@dataclass(frozen=True)
class RequestOutcome:
    """What the close-out did to one request of the order, said to the crew."""

    request_id: int
    #: closed (now, as fixed), parent_closed (a duplicate whose original was closed instead),
    #: already_closed (nothing to do)
    outcome: str
    message: str
    #: for a duplicate: the request it had been merged into
    parent_id: int | None = None
    #: for parent_closed: the request that this close-out closed in its place
    closed_request_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CloseOut:
    work_order: WorkOrder
    outcomes: list[RequestOutcome]


def _open_original(sr: ServiceRequest) -> tuple[int | None, ServiceRequest | None]:
    """Follow a duplicate to what it was merged into; return (parent id, first open one)."""
    if sr.closure_reason != "duplicate" or sr.parent_id is None:
        return None, None
    seen = {sr.id}
    current = sr
    for _ in range(MAX_PARENT_HOPS):
        parent_id = current.parent_id
        if current.closure_reason != "duplicate" or parent_id is None or parent_id in seen:
            return sr.parent_id, None
        current = lock_request(parent_id)
        seen.add(current.id)
        if current.is_open:
            return sr.parent_id, current
    return sr.parent_id, None


def close_out(
    wo: WorkOrder,
    *,
    actor: User,
    note: str = "",
    photo: media.ValidatedPhoto | None = None,
    photos: Sequence[media.ValidatedPhoto] = (),
    labour_hours: object = None,
    materials: object = None,
) -> CloseOut:
    """Complete the order in the field; say what became of each request.

    Each open request closes as fixed, with the note and the completion photo. A request
    already closed as a duplicate of another that is still open closes that original in its
    place (the same problem was fixed), so every reporter gets the crew's photo. Requests
    otherwise closed are left as they are.

    The caller locks the order (get_work_order(for_update=True)); the requests are locked
    here in id order, then the originals of duplicates.

    :raises Forbidden: the user is not on the order's crew nor a dispatcher of it.
    :raises Conflict: the order is completed or cancelled.
    :raises DomainError: a required completion photo is missing, the note is too long,
        bad labour hours or materials.
    """
    permissions.check_can_work(actor, wo, "complete")
    if wo.status not in OPEN_STATUSES:
        raise Conflict(f"Work order {wo.id} is already {wo.status}.")
    note = clean_text(note, "note", "note")
    hours = clean_labour_hours(labour_hours)
    used = clean_materials(materials)
    sent = ([photo] if photo is not None else []) + list(photos)
    photo_id = completion_photo_ids([wo.id]).get(wo.id)
    if not sent and photo_id is None and (needing := types_requiring_photo(wo)):
        # the message is the one the forms show; the body also names the types that ask
        raise DomainError(
            "Attach a photo of the finished work.",
            field="photo",
            required_by=[{"code": st.code, "name": st.name} for st in needing],
        )

    now = utcnow()
    if sent:
        # the first photo sent is the one the reporters get; the others are kept with the order
        attached = [media.attach_photo(p, kind="after", work_order_id=wo.id) for p in sent]
        photo_id = attached[0].id
    wo.status = "completed"
    wo.completion_note = note
    wo.completed_at = now
    wo.labour_hours = hours
    wo.materials = used
    if wo.started_at is None:
        wo.started_at = now
    public_note = note or f"Work completed by {wo.crew.name}."

    def close_fixed(sr: ServiceRequest) -> None:
        requests_service.close(
            sr,
            reason="fixed",
            actor_id=actor.id,
            note=public_note,
            photo_id=photo_id,
            work_order_id=wo.id,
            at=now,
        )

    srs = locked_requests(wo)
    closed_now = {sr.id for sr in srs if sr.is_open}
    for sr in srs:
        if sr.id in closed_now:
            close_fixed(sr)
    outcomes = []
    for sr in srs:
        if sr.id in closed_now:
            outcomes.append(RequestOutcome(sr.id, "closed", f"Request {sr.id} closed as fixed."))
            continue
        parent_id, original = _open_original(sr)
        if original is None and parent_id is not None:
            outcomes.append(
                RequestOutcome(
                    sr.id,
                    "already_closed",
                    f"Request {sr.id} was already closed as a duplicate of {parent_id}, "
                    "which is closed too.",
                    parent_id=parent_id,
                )
            )
            continue
        if original is None:
            reason = (sr.closure_reason or "").replace("_", " ")
            outcomes.append(
                RequestOutcome(
                    sr.id, "already_closed", f"Request {sr.id} was already closed ({reason})."
                )
            )
            continue
        if original.id not in closed_now:
            close_fixed(original)
            closed_now.add(original.id)
            requests_service.add_note(
                original,
                actor_id=actor.id,
                note=f"Closed by work order #{wo.id}, which fixed duplicate request {sr.id}.",
                public=False,
            )
        requests_service.add_note(
            sr,
            actor_id=actor.id,
            note=f"Work order #{wo.id} fixed this; request {original.id} closed as fixed.",
            public=False,
        )
        outcomes.append(
            RequestOutcome(
                sr.id,
                "parent_closed",
                f"Request {sr.id} was already closed as a duplicate of {parent_id}; "
                f"request {original.id} closed as fixed instead.",
                parent_id=parent_id,
                closed_request_id=original.id,
            )
        )
    db.session.flush()
    return CloseOut(wo, outcomes)


def complete(
    wo: WorkOrder,
    *,
    actor: User,
    note: str = "",
    photo: media.ValidatedPhoto | None = None,
    labour_hours: object = None,
    materials: object = None,
) -> WorkOrder:
    """Close out the order in the field (see close_out); return the order."""
    return close_out(
        wo,
        actor=actor,
        note=note,
        photo=photo,
        labour_hours=labour_hours,
        materials=materials,
    ).work_order
