"""A small city history with known figures: holds, a reopening, a transfer, and closures
kept apart (duplicate, referred, no action needed), made through the real lifecycle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest

from app.core.clock import city_tz, utcnow
from app.extensions import db
from app.requests import lifecycle, transfer
from app.requests.models import ServiceRequest
from tests.factories import WARD_1_POINT, WARD_2_POINT, submit


def at_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=city_tz())


def make(
    code: str,
    requested_at: datetime,
    *,
    ack: float | None = None,
    close: float | None = None,
    reason: str = "fixed",
    hold: float = 0,
    point: tuple[float, float] = WARD_1_POINT,
    channel: str = "web",
) -> ServiceRequest:
    """Submit a request, acknowledge it `ack` hours later, hold it `hold` hours just before
    closing it `close` hours after it was made (all through the lifecycle verbs)."""
    sr = submit(
        code,
        point,
        channel=channel,
        requested_at=requested_at,
        description="Private words about my street",
        email="private.reporter@example.org",
        name="Rita Private",
    )
    if ack is not None:
        lifecycle.acknowledge(sr, actor_id=None, at=requested_at + timedelta(hours=ack))
    if close is not None:
        moment = requested_at + timedelta(hours=close)
        if hold:
            lifecycle.put_on_hold(sr, actor_id=None, reason="materials", note="Awaiting asphalt")
            sr.held_since = moment - timedelta(hours=hold)
        note = "" if reason == "fixed" else "Not ours to fix"
        lifecycle.close(sr, reason=reason, actor_id=None, note=note, at=moment)
    db.session.flush()
    return sr


@dataclass
class History:
    first: date
    today: date
    requests: list[ServiceRequest]


@pytest.fixture
def history(city) -> History:
    """Nine requests starting 20 days ago; the figures each test expects are in its comments.

    PWD potholes (72 h SLA): closed fixed after 10 h (in SLA), 100 h (late), 50 h with
    20 h on hold (raw 50 h, net 30 h, in SLA: the hold moved its due time); closed after 5 h
    as duplicate, referred and no action needed (kept apart); one open and overdue.
    PARKS graffiti: closed after 30 h, then reopened today (open, overdue); a streetlight
    transferred to graffiti today (open, overdue).
    """
    today = utcnow().astimezone(city_tz()).date()
    b = today - timedelta(days=20)
    d0, d1, d2, d3 = (at_noon(b + timedelta(days=i)) for i in range(4))
    made = [
        make("pothole", d0, ack=1, close=10),
        make("pothole", d0, ack=2, close=100),
        make("pothole", d1, ack=1, close=5, reason="duplicate"),
        make("pothole", d1, ack=1, close=5, reason="referred"),
        make("pothole", d1, ack=1, close=5, reason="no_action_needed"),
        make("pothole", d2, ack=3, close=50, hold=20, channel="phone"),
        make("graffiti", d2, ack=4, close=30, point=WARD_2_POINT),
        make("streetlight", d3),
        make("pothole", d3, ack=1),
    ]
    lifecycle.reopen(made[6], actor_id=None, note="Still there")
    transfer.transfer(made[7], service_code="graffiti", note="Parks owns it", actor_id=None)
    db.session.flush()
    return History(first=b, today=today, requests=made)
