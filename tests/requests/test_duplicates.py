"""Likely duplicates: same type, within the radius, reported within the window, still open."""

from __future__ import annotations

from datetime import timedelta

from app.core.clock import utcnow
from app.requests import duplicates, lifecycle
from tests.factories import WARD_1_POINT, submit

# about 22 m and 220 m north of WARD_1_POINT
NEAR = (WARD_1_POINT[0] + 0.0002, WARD_1_POINT[1])
FAR = (WARD_1_POINT[0] + 0.002, WARD_1_POINT[1])


def test_candidates_are_near_same_type_open_and_recent(city):
    first = submit()
    near = submit(point=NEAR)
    submit(point=FAR)  # too far
    submit("streetlight")  # another type at the same spot
    closed = submit(point=NEAR)
    lifecycle.close(closed, reason="fixed", actor_id=None)
    old = submit(point=NEAR, requested_at=utcnow() - timedelta(days=90))

    assert [r.id for r in duplicates.find_candidates(first)] == [near.id]
    assert [r.id for r in duplicates.find_candidates(near)] == [first.id]
    assert duplicates.find_candidates(old) == []
    wide = duplicates.find_candidates(first, radius_m=500)
    assert {r.id for r in wide} == {near.id, wide[-1].id} and len(wide) == 2

    counts = duplicates.candidate_counts([first.id, near.id, old.id])
    assert counts == {first.id: 1, near.id: 1}
