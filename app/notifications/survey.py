"""'Is it fixed?': ask the reporter some days after closing, record the answer, reopen if not.

The question is an outbox row due SURVEY_DELAY_HOURS after the closing; its links carry a
signed token (request, closing, address), so answering needs no login and no one can answer
for another request. A "not fixed" within SURVEY_REOPEN_DAYS reopens the request with the
reporter's words, as a reopened event that the reopen rate counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert

from app.core.clock import utcnow
from app.core.errors import DomainError, NotFound
from app.extensions import db
from app.notifications import wording
from app.notifications.models import SatisfactionResponse
from app.org.models import Department
from app.requests import service as requests_service
from app.requests.models import RequestEvent, ServiceRequest, ServiceType

SURVEY_EVENT = "survey"
#: closings whose reporter is asked; a duplicate or a referral is not this city's fix
ASKED_REASONS = frozenset({"fixed", "no_action_needed", "could_not_locate"})
MAX_COMMENT = 2000


@dataclass(frozen=True)
class Ask:
    """What a survey link asks about: one closing of one request (its reporter answers)."""

    request_id: int
    closed_event_id: int


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="city311-survey")


def make_token(ask: Ask) -> str:
    """Return the signed token of the survey links."""
    # no address in the token: it is signed, not encrypted, and links get forwarded
    return _serializer().dumps([ask.request_id, ask.closed_event_id])


def read_token(token: str) -> Ask:
    """Return what a survey token asks about.

    :raises NotFound: the token is not one of ours (altered, or from another install).
    """
    try:
        request_id, event_id = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        raise NotFound("This link is not valid: use the link in the email as it was.") from None
    return Ask(int(request_id), int(event_id))


def survey_url(ask: Ask, **params: Any) -> str:
    """Return the public address of the question page."""
    from app.requests.presenters import public_url_for

    return public_url_for("survey.answer", token=make_token(ask), **params)


#: owe the question for every standing closing old enough, once (the outbox's unique key)
_ASK_DUE = text(
    """
    INSERT INTO outbox (event, request_id, recipient, dedupe_key, channel, payload, status,
                        attempts, next_attempt_at)
    SELECT :event, sr.id, btrim(sr.reporter_email), closing.id::text, 'email',
           jsonb_build_object(
               'request_id', sr.id, 'closed_event_id', closing.id, 'lang', sr.language
           ),
           'pending', 0, :now
    FROM service_requests sr
    CROSS JOIN LATERAL (
        SELECT max(e.id) AS id FROM request_events e
        WHERE e.request_id = sr.id AND e.kind = 'closed'
    ) closing
    WHERE sr.status = 'closed'
      AND sr.closed_at <= :asked_before AND sr.closed_at > :oldest
      AND sr.closure_reason = ANY(:reasons)
      AND sr.channel <> ALL(:silent)
      AND btrim(sr.reporter_email) <> ''
      AND sr.notify IN ('email', 'both')
      AND closing.id IS NOT NULL
    ON CONFLICT (event, request_id, recipient, dedupe_key) DO NOTHING
    RETURNING id
    """
)
#: closings older than the delay by more than this are not asked about any more (a
#: worker down for days still catches up; a first deployment does not survey history)
CATCH_UP = timedelta(days=7)


def ask_due() -> int:
    """Owe the "is it fixed?" question to reporters whose request closed long enough ago.

    Run periodically by the worker; idempotent. Returns how many questions it queued.
    """
    from app.notifications import service, tasks  # they render these emails: import late

    now = utcnow()
    asked_before = now - timedelta(hours=float(current_app.config["SURVEY_DELAY_HOURS"]))
    ids = db.session.execute(
        _ASK_DUE,
        {
            "event": SURVEY_EVENT,
            "now": now,
            "asked_before": asked_before,
            "oldest": asked_before - CATCH_UP,
            "reasons": sorted(ASKED_REASONS),
            "silent": sorted(service.SILENT_CHANNELS),
        },
    ).all()
    db.session.commit()
    if ids:
        tasks.wake()
    return len(ids)


def is_moot(request_id: int, closed_event_id: int) -> bool:
    """Tell whether the closing asked about is not the request's standing state any more."""
    sr = db.session.get(ServiceRequest, request_id)
    return sr is None or sr.status != "closed" or _last_closing(request_id) != closed_event_id


def _last_closing(request_id: int) -> int | None:
    return db.session.scalar(
        select(func.max(RequestEvent.id)).where(
            RequestEvent.request_id == request_id, RequestEvent.kind == "closed"
        )
    )


def record(ask: Ask, *, fixed: bool, rating: int | None, comment: str) -> SatisfactionResponse:
    """Store the reporter's answer; reopen the request if it is not fixed and still may be.

    :raises DomainError: a rating outside 1–5, or too long a comment.
    """
    if rating is not None and not 1 <= rating <= 5:
        raise DomainError("Choose a rating from 1 to 5.", field="rating")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise DomainError(f"Keep the comment under {MAX_COMMENT} characters.", field="comment")
    sr = requests_service.get_request(ask.request_id, for_update=True)
    now = utcnow()
    values = {"fixed": fixed, "rating": rating, "comment": comment, "updated_at": now}
    response_id = db.session.execute(
        insert(SatisfactionResponse)
        .values(
            request_id=ask.request_id,
            closed_event_id=ask.closed_event_id,
            email=sr.reporter_email,
            **values,
        )
        .on_conflict_do_update(constraint="uq_satisfaction_once", set_=values)
        .returning(SatisfactionResponse.id)
    ).scalar_one()
    response = db.session.get_one(SatisfactionResponse, response_id)
    db.session.refresh(response)
    if not fixed and not response.reopened and may_reopen(sr, ask):
        words = f": {comment}" if comment else "."
        requests_service.reopen(sr, actor_id=None, note=f"The reporter says it is not fixed{words}")
        response.reopened = True
    db.session.flush()
    return response


def may_reopen(sr: ServiceRequest, ask: Ask) -> bool:
    """Tell whether a 'not fixed' answer reopens: the closing asked about still stands, recently."""
    if is_moot(sr.id, ask.closed_event_id) or sr.closed_at is None:
        return False
    window = timedelta(days=float(current_app.config["SURVEY_REOPEN_DAYS"]))
    return utcnow() - sr.closed_at <= window


def satisfaction(group_by: str) -> list[dict[str, Any]]:
    """Return per department or service type: responses, share fixed, mean rating."""
    group: type[Department] | type[ServiceType]
    if group_by == "department":
        group, on = Department, Department.id == ServiceRequest.department_id
    elif group_by == "service_type":
        group, on = ServiceType, ServiceType.id == ServiceRequest.service_type_id
    else:
        raise DomainError("group_by is department or service_type.", field="group_by")
    key, name = group.code, group.name
    rows = db.session.execute(
        select(
            key,
            name,
            func.count(SatisfactionResponse.id),
            func.avg(func.cast(SatisfactionResponse.fixed, db.Integer)),
            func.avg(SatisfactionResponse.rating),
            func.count(SatisfactionResponse.rating),
            func.count().filter(SatisfactionResponse.reopened),
        )
        .join(ServiceRequest, ServiceRequest.id == SatisfactionResponse.request_id)
        .join(group, on)
        .group_by(key, name)
        .order_by(key)
    ).all()
    return [
        {
            "key": code,
            "name": label,
            "responses": count,
            "share_fixed": round(float(share), 4),
            "mean_rating": round(float(mean), 2) if mean is not None else None,
            "ratings": ratings,
            "reopened": reopened,
        }
        for code, label, count, share, mean, ratings, reopened in rows
    ]


def survey_context(row: Any, sr: ServiceRequest, context: dict[str, Any]) -> str:
    """Fill in the question email's context: its answer links; return its subject."""
    ask = Ask(sr.id, int(row.payload["closed_event_id"]))
    context.update(
        category=sr.service_type.name,
        fixed_url=survey_url(ask, answer="fixed"),
        not_fixed_url=survey_url(ask, answer="not_fixed"),
        rating_urls=[(n, survey_url(ask, rating=n)) for n in range(1, 6)],
    )
    return wording.subject(SURVEY_EVENT, context["lang"], n=sr.id)
