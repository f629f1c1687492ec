"""The personal data a request holds: its reporter's contact and its subscribers' addresses.

The retention purge and a resident's erasure (app/privacy) empty them here; the rest of the
request (type, place, description, times, history) stays, so the KPIs read the same after.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update

from app.core.clock import utcnow
from app.extensions import db
from app.media.models import Photo
from app.requests.models import RequestSubscriber, ServiceRequest
from app.requests.presenters import tracking_url

#: the reporter's contact fields, emptied by the purge and by an erasure; source_url is the
#: resident's own social media post a call-taker logged the request from
CONTACT_FIELDS = (
    "reporter_name",
    "reporter_email",
    "reporter_phone",
    "reporter_device_id",
    "reporter_account_id",
    "source_url",
)


def _blank_contact() -> dict[str, Any]:
    return dict.fromkeys(CONTACT_FIELDS, "")


def due_for_purge(closed_before: datetime, limit: int) -> list[int]:
    """Return ids of requests closed before `closed_before` whose personal data is still held.

    A request purged once comes back only if it was closed again since (reopened, then
    closed) or someone followed it since: that is what can bring new personal data.
    """
    followed_since = (
        select(RequestSubscriber.id)
        .where(
            RequestSubscriber.request_id == ServiceRequest.id,
            or_(
                ServiceRequest.personal_data_purged_at.is_(None),
                RequestSubscriber.created_at > ServiceRequest.personal_data_purged_at,
            ),
        )
        .exists()
    )
    return list(
        db.session.scalars(
            select(ServiceRequest.id)
            .where(
                ServiceRequest.status == "closed",
                ServiceRequest.closed_at < closed_before,
                or_(
                    ServiceRequest.personal_data_purged_at.is_(None),
                    ServiceRequest.personal_data_purged_at < ServiceRequest.closed_at,
                    followed_since,
                ),
            )
            .order_by(ServiceRequest.id)
            .limit(limit)
        )
    )


def purge(request_ids: Sequence[int]) -> int:
    """Empty the reporter's contact and drop the subscribers of these requests; mark them.

    Returns how many subscriber rows were removed.
    """
    if not request_ids:
        return 0
    db.session.execute(
        update(ServiceRequest)
        .where(ServiceRequest.id.in_(request_ids))
        .values(**_blank_contact(), personal_data_purged_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    removed = db.session.execute(
        delete(RequestSubscriber).where(RequestSubscriber.request_id.in_(request_ids))
    )
    return int(getattr(removed, "rowcount", 0) or 0)


def _reported_by(email: str) -> Any:
    return func.lower(func.btrim(ServiceRequest.reporter_email)) == email.strip().lower()


def _subscribed(email: str) -> Any:
    return func.lower(func.btrim(RequestSubscriber.email)) == email.strip().lower()


def of_email(email: str) -> dict[str, list[dict[str, Any]]]:
    """Return what is held about the address: the requests it reported and those it follows."""
    reported = db.session.scalars(
        select(ServiceRequest).where(_reported_by(email)).order_by(ServiceRequest.id)
    )
    follows = db.session.scalars(
        select(RequestSubscriber).where(_subscribed(email)).order_by(RequestSubscriber.id)
    )
    return {
        "requests": [_reported(sr) for sr in reported],
        "follows": [
            {
                "request_id": row.request_id,
                "email": row.email,
                "source": row.source,
                "from_request_id": row.from_request_id,
                "since": row.created_at.isoformat(),
            }
            for row in follows
        ],
    }


def _reported(sr: ServiceRequest) -> dict[str, Any]:
    return {
        "id": sr.id,
        "service_code": sr.service_type.code,
        "service_name": sr.service_type.name,
        "description": sr.description,
        "address": sr.address,
        "status": sr.status,
        "closure_reason": sr.closure_reason,
        "channel": sr.channel,
        "requested_at": sr.requested_at.isoformat(),
        "closed_at": sr.closed_at.isoformat() if sr.closed_at else None,
        "attributes": sr.attributes,
        "tracking_url": tracking_url(sr.id),
        # the photos the reporter sent; their public copies are at /photos/<id>/display.jpg
        "photo_ids": list(
            db.session.scalars(
                select(Photo.id)
                .where(Photo.request_id == sr.id, Photo.kind == "report")
                .order_by(Photo.id)
            )
        ),
        "contact": {
            "name": sr.reporter_name,
            "email": sr.reporter_email,
            "phone": sr.reporter_phone,
            "device_id": sr.reporter_device_id,
            "account_id": sr.reporter_account_id,
            "source_url": sr.source_url,
        },
    }


def erase_email(email: str) -> tuple[list[int], int]:
    """Empty the contact of every request the address reported and drop its follows.

    Returns the ids of the requests it reported and how many follows were removed.
    """
    reported = list(
        db.session.scalars(
            update(ServiceRequest)
            .where(_reported_by(email))
            .values(**_blank_contact())
            .returning(ServiceRequest.id)
            .execution_options(synchronize_session="fetch")
        )
    )
    follows = db.session.execute(delete(RequestSubscriber).where(_subscribed(email)))
    return sorted(reported), int(getattr(follows, "rowcount", 0) or 0)
