"""Boston's gazetteer, read from the places its 2011 requests were reported at.

The export has no master address list, but each located request names its place as
"39 Lorraine St  Roslindale  MA  02131" or "INTERSECTION of Groveland St & River St
Mattapan  MA", with the point the city geocoded it to. Every distinct place becomes an
address or an intersection at the point first reported for it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable

from app.geo.gazetteer import Crossing, Located

_PARTS = re.compile(r"\s{2,}")
_INTERSECTION = re.compile(r"^INTERSECTION of (.+?) & (.+)$", re.IGNORECASE)


def places(
    rows: Iterable[dict[str, str]], is_placeholder: Callable[[dict[str, str]], bool]
) -> tuple[list[Located], list[Crossing]]:
    """Return the distinct addresses and intersections of located rows."""
    addresses: dict[str, Located] = {}
    crossings: dict[frozenset[str], Crossing] = {}
    for row in rows:
        parts = _PARTS.split((row.get("location") or "").strip())
        if not parts[0] or is_placeholder(row):
            continue
        lat, long = float(row["latitude"]), float(row["longitude"])
        crossing = _INTERSECTION.match(parts[0])
        if crossing:
            a, b = crossing.group(1).strip(), crossing.group(2).strip()
            if a and b and a.lower() != b.lower():
                crossings.setdefault(frozenset((a.lower(), b.lower())), Crossing(a, b, lat, long))
            continue
        label = f"{parts[0]}, {parts[1]}" if len(parts) > 1 and parts[1] != "MA" else parts[0]
        if label not in addresses:
            # the export has no address ids: a stable one is made from the label
            digest = hashlib.sha1(label.lower().encode()).hexdigest()[:16]
            addresses[label] = Located(f"BOS-{digest}", label, lat, long)
    return list(addresses.values()), list(crossings.values())
