"""Who may view, create, start, complete and cancel a work order, through the real API.

The README promises 403 for the wrong role or another department's work; the order under test
belongs to Public Works and to Pothole crew A.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from app.extensions import db
from app.workorders import service
from app.workorders.models import WorkOrder
from tests.helpers import bearer
from tests.workorders.helpers import fresh, photo_upload, submit


@dataclass
class Scene:
    client: FlaskClient
    headers: dict[str, str]
    work_order_id: int
    crew_id: int
    free_request_id: int  # an open request on no order, for "create"


ACTIONS: dict[str, Callable[[Scene], TestResponse]] = {
    "view": lambda s: s.client.get(f"/api/v1/workorders/{s.work_order_id}", headers=s.headers),
    "create": lambda s: s.client.post(
        "/api/v1/workorders",
        json={"request_ids": [s.free_request_id], "crew_id": s.crew_id},
        headers=s.headers,
    ),
    "start": lambda s: s.client.post(
        f"/api/v1/workorders/{s.work_order_id}/start", headers=s.headers
    ),
    "complete": lambda s: s.client.post(
        f"/api/v1/workorders/{s.work_order_id}/complete",
        data={"photo": photo_upload(), "note": "Patched"},
        content_type="multipart/form-data",
        headers=s.headers,
    ),
    "cancel": lambda s: s.client.post(
        f"/api/v1/workorders/{s.work_order_id}/cancel",
        json={"reason": "Sent by mistake"},
        headers=s.headers,
    ),
}
EVERYTHING = frozenset(ACTIONS)

#: who (a user of the test city) may do what to Public Works' order for Pothole crew A
ALLOWED: dict[str, tuple[str, frozenset[str]]] = {
    "agent": ("agent", frozenset({"view"})),
    "dispatcher-own-department": ("dispatcher", EVERYTHING),
    "dispatcher-other-department": ("parks_dispatcher", frozenset()),
    "crew-of-the-order": ("crew", frozenset({"view", "start", "complete"})),
    "crew-of-another-crew": ("crew_b", frozenset()),
    "manager": ("manager", EVERYTHING),
    "admin": ("admin", EVERYTHING),
}

CASES = [
    pytest.param(user, action, action in allowed, id=f"{who}-{action}")
    for who, (user, allowed) in ALLOWED.items()
    for action in ACTIONS
]

SUCCESS = {"view": 200, "create": 201, "start": 200, "complete": 200, "cancel": 200}
#: the order's status after each action succeeds
STATUS_AFTER = {
    "view": "assigned",
    "create": "assigned",
    "start": "in_progress",
    "complete": "completed",
    "cancel": "cancelled",
}


def order_count() -> int:
    return db.session.scalar(select(func.count()).select_from(WorkOrder))


@pytest.mark.parametrize(("user", "action", "allowed"), CASES)
def test_who_may_do_what_with_a_work_order(client, city, tokens, user, action, allowed):
    sr, free = submit(), submit(address="2 Waiting St")
    wo = service.create_work_order([sr.id], city.crew_a.id, actor=city.users["dispatcher"])
    db.session.commit()
    scene = Scene(client, bearer(tokens[user]), wo.id, city.crew_a.id, free.id)

    resp = ACTIONS[action](scene)

    db.session.expire_all()
    if not allowed:
        assert resp.status_code == 403, resp.get_json()
        assert resp.get_json()["message"]
        assert db.session.get(WorkOrder, wo.id).status == "assigned"
        assert order_count() == 1 and fresh(free).status == "new"
        return
    assert resp.status_code == SUCCESS[action], resp.get_json()
    body = resp.get_json()
    if action == "create":
        assert body["request_ids"] == [free.id] and order_count() == 2
        assert fresh(free).status == "assigned"
    else:
        assert body["id"] == wo.id and body["status"] == STATUS_AFTER[action]
        assert db.session.get(WorkOrder, wo.id).status == STATUS_AFTER[action]
