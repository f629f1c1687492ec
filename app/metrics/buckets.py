"""Log-spaced duration buckets: how a histogram stores a duration and reads a percentile back.

Bucket 0 holds everything under a minute; bucket b >= 1 holds [60·R^(b-1), 60·R^b) seconds.
A bucket is read back as its geometric midpoint, so any duration of a minute or more is
read back within sqrt(R) - 1 of its true value (4.9 % for R = 1.1), and a percentile
interpolated between two such readings stays within the same relative error.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

#: growth factor from one bucket to the next
RATIO = 1.1
#: the largest relative error of a value read back from its bucket (values >= 1 minute)
MAX_RELATIVE_ERROR = math.sqrt(RATIO) - 1
FIRST = 60.0
#: durations beyond ~12 years all land in the last bucket
LAST_BUCKET = 200

#: the same mapping in SQL, for a duration in seconds named by `seconds`
SQL_BUCKET = (
    "LEAST({last}, CASE WHEN ({s}) < {first} THEN 0"
    " ELSE 1 + floor(ln(({s}) / {first}) / ln({ratio}))::int END)"
)


def sql_bucket(seconds: str) -> str:
    """Return the SQL expression giving the bucket of `seconds` (an SQL expression)."""
    return SQL_BUCKET.format(s=seconds, first=FIRST, ratio=RATIO, last=LAST_BUCKET)


def bucket_of(seconds: float) -> int:
    """Return the bucket a duration falls in."""
    if seconds < FIRST:
        return 0
    return min(LAST_BUCKET, 1 + math.floor(math.log(seconds / FIRST) / math.log(RATIO)))


def midpoint(bucket: int) -> float:
    """Return the seconds a bucket stands for: its geometric midpoint (30 s for bucket 0)."""
    if bucket <= 0:
        return FIRST / 2
    return FIRST * RATIO ** (bucket - 1) * math.sqrt(RATIO)


def percentile(counts: Iterable[tuple[int, int]], q: float) -> float | None:
    """Estimate the q-quantile in seconds from (bucket, count) pairs, as percentile_cont does.

    percentile_cont interpolates between the values at ranks floor(q·(n-1)) and
    ceil(q·(n-1)); each of those is read back from its bucket, then interpolated the same way.
    """
    ordered = sorted((b, n) for b, n in counts if n > 0)
    total = sum(n for _, n in ordered)
    if total == 0:
        return None
    pos = q * (total - 1)
    lo_rank, hi_rank = math.floor(pos), math.ceil(pos)
    lo = hi = None
    seen = 0
    for bucket, n in ordered:
        seen += n
        if lo is None and seen > lo_rank:
            lo = midpoint(bucket)
        if seen > hi_rank:
            hi = midpoint(bucket)
            break
    assert lo is not None and hi is not None
    return lo + (hi - lo) * (pos - lo_rank)


def percentiles(counts: Iterable[tuple[int, int]], qs: tuple[float, ...]) -> list[float | None]:
    """Estimate several quantiles from the same (bucket, count) pairs, sorting them once."""
    ordered = sorted((b, n) for b, n in counts if n > 0)
    total = sum(n for _, n in ordered)
    if total == 0:
        return [None] * len(qs)
    return [percentile(ordered, q) for q in qs]
