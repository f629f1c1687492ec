"""How many requests are open, per department × type × district × channel, without
reading them: metrics_open_counts plus the deltas the triggers appended since the last fold.

The triggers (migration 5d1c0e7a9b42) append +n/-n to metrics_open_deltas in the same
transaction as every change to service_requests, so the two tables summed in one
statement agree exactly with the open requests that statement sees. `fold` moves the
deltas into the counts (the rollup refresh calls it each minute) so the deltas stay few.
"""

from __future__ import annotations

from sqlalchemy import text

from app.extensions import db

DIMS = "department_id, service_type_id, district_id, channel"

#: the open count per full dimension combination, as a subquery to filter and group
OPEN_COUNTS = (
    f"(SELECT {DIMS}, n FROM metrics_open_counts"
    f" UNION ALL SELECT {DIMS}, n FROM metrics_open_deltas) AS open_counts"
)


def fold() -> int:
    """Add the deltas into the counts and delete them; return how many were folded.

    A delta committed while this runs is not seen by its DELETE, so it stays for the next
    fold; run under the rollup's advisory lock, so two folds never overlap.
    """
    moved = db.session.execute(
        text(
            f"""
WITH moved AS (DELETE FROM metrics_open_deltas RETURNING {DIMS}, n),
summed AS (SELECT {DIMS}, sum(n) AS n, count(*) AS deltas FROM moved GROUP BY {DIMS}),
upserted AS (
    INSERT INTO metrics_open_counts ({DIMS}, n)
    SELECT {DIMS}, n FROM summed WHERE n <> 0
    ON CONFLICT ({DIMS}) DO UPDATE SET n = metrics_open_counts.n + EXCLUDED.n
)
SELECT COALESCE(sum(deltas), 0) FROM summed
"""
        )
    ).scalar()
    db.session.execute(text("DELETE FROM metrics_open_counts WHERE n = 0"))
    return int(moved or 0)


def recount() -> None:
    """Count the open requests afresh (after a rebuild, or to repair a count).

    The lock holds back every trigger until this transaction ends: a change committed
    before it is counted here and its delta deleted; one committed after appends its
    delta to the fresh count.
    """
    db.session.execute(text("LOCK TABLE metrics_open_deltas IN EXCLUSIVE MODE"))
    db.session.execute(text("DELETE FROM metrics_open_deltas"))
    db.session.execute(text("DELETE FROM metrics_open_counts"))
    db.session.execute(
        text(
            f"INSERT INTO metrics_open_counts ({DIMS}, n) SELECT {DIMS}, count(*)"
            f" FROM service_requests WHERE status <> 'closed' GROUP BY {DIMS}"
        )
    )
