"""What the staff request page shows besides the request: answers, orders, duplicates, history.

Read-only helpers of staff_pages; the page's actions are there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from app.auth.models import User
from app.extensions import db
from app.media import service as media
from app.org.models import Crew
from app.requests import duplicates, merging, service, subscribers
from app.requests.models import RequestEvent, ServiceRequest
from app.requests.permissions import may_handle
from app.requests.presenters import answered_questions, lat_long
from app.requests.words import HOLD_WORDS, closure_word


def detail_context(sr: ServiceRequest, *, private: bool = True) -> dict[str, Any]:
    """Return what the staff page of a request renders, besides the actions and the forms.

    Without `private` (another department's dispatcher) the reporter and internal events
    are left out, as in the public view.
    """
    lat, long = lat_long(sr)
    return {
        "sr": sr,
        "lat": lat,
        "long": long,
        "map_url": map_link(lat, long) if lat is not None and long is not None else "",
        "answers": answered_questions(sr),
        "created_by": db.session.get(User, sr.created_by_id) if sr.created_by_id else None,
        "orders": work_orders(sr),
        "photos": service.request_photos(sr, private=private),
        "private": private,
        "photo_originals": private,
        "max_photos": media.max_photos(),
        "history": [(e, event_facts(e)) for e in sr.events if private or e.public],
        "held_for": duration(sr.held_seconds),
        "proposed_crew": db.session.get(Crew, sr.crew_id) if sr.crew_id else None,
        "candidates": likely_duplicates(sr),
        "children": subscribers.children(sr.id),
        "subscriber_count": subscribers.count(sr.id),
        "duplicate_radius": current_app.config["DUPLICATE_RADIUS_METRES"],
        "duplicate_days": current_app.config["DUPLICATE_WINDOW_DAYS"],
    }


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


@dataclass(frozen=True)
class Candidate:
    """A likely duplicate as the page lists it, with the merges the user may make."""

    request: ServiceRequest
    metres: float
    #: "merge this request into the candidate" may be offered
    merge_into: bool
    #: "merge the candidate into this request" may be offered
    merge_from: bool
    #: why a direction is not offered although the user may merge: a crew is on one side
    hint: str


def likely_duplicates(sr: ServiceRequest) -> list[Candidate]:
    """Return the open request's likely duplicates, nearest first, with the merges offered."""
    if not sr.is_open:
        return []
    found = duplicates.find_candidates(sr)
    metres = duplicates.distances(sr, found)
    may_merge_this = may_handle(sr, "merge")
    this_busy = merging.crew_status(sr) is not None
    listed = []
    for other in found:
        may_merge_other = may_handle(other, "merge")
        other_busy = merging.crew_status(other) is not None
        hint = ""
        if may_merge_this and this_busy:
            hint = f"A crew is on request {sr.id}: merge the other into it."
        elif may_merge_other and other_busy:
            hint = f"A crew is on request {other.id}: merge this one into it."
        listed.append(
            Candidate(
                other,
                metres.get(other.id, 0.0),
                may_merge_this and not this_busy,
                may_merge_other and not other_busy,
                hint,
            )
        )
    return listed


#: event details the history tells in words or links of its own
_TOLD = {
    "reason",
    "crew",
    "held_seconds",
    "due_at",
    "work_order_id",
    "photo_id",
    "photo_ids",
    "previous_reason",
    "subscribed",
    "into",
    "from",
    "unmerged_from",
}


def duration(seconds: int) -> str:
    """Say a span of seconds in hours and minutes ("3 h 5 min")."""
    hours, minutes = divmod(int(seconds) // 60, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def event_facts(e: RequestEvent) -> list[str]:
    """Return the details of a history event in words, for the staff timeline."""
    d = e.data or {}
    facts = []
    if e.kind == "held" and d.get("reason"):
        facts.append(f"Reason: {HOLD_WORDS.get(d['reason'], d['reason'])}")
    if d.get("held_seconds"):
        facts.append(f"Paused {duration(d['held_seconds'])}; the due time moved by it")
    if d.get("work_order_id"):
        crew = f" ({d['crew']})" if d.get("crew") else ""
        facts.append(f"Work order #{d['work_order_id']}{crew}")
    if d.get("photo_id"):
        facts.append("With the crew's photo")
    if d.get("photo_ids"):
        n = len(d["photo_ids"])
        facts.append(f"With {n} photo{'s' if n != 1 else ''}")
    if d.get("previous_reason"):
        facts.append(f"Had been closed: {closure_word(d['previous_reason'])}")
    if d.get("subscribed"):
        n = int(d["subscribed"])
        where = f"request {d['into']}" if d.get("into") else "this request"
        facts.append(f"{n} subscriber{'s' if n != 1 else ''} added to {where}")
    # kinds added later (a transfer's from/to) are shown as they are stored
    facts += [f"{k.replace('_', ' ')}: {v}" for k, v in sorted(d.items()) if k not in _TOLD]
    return facts
