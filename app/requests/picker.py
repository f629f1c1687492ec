"""The resident's category picker: the most reported types first, grouped, searchable.

Which types are reported most is counted over the last PICKER_USAGE_DAYS and kept in this
process for PICKER_CACHE_SECONDS (app.extensions["city311_picker_usage"]): the form is the
busiest page and the order need not change by the minute. Each type carries its search
text (name and keywords, lower case, accents removed) for the page's script. The category
select (the whole picker without script, and the call-taker's) lists the same groups in the
same order: picker_groups is the one home of the ordering rule.
"""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from app.core.clock import utcnow
from app.extensions import db
from app.requests.models import ServiceRequest, ServiceType

#: the first group: the types residents report most
POPULAR_COUNT = 6
OTHER_GROUP = "Other problems"


@dataclass(frozen=True)
class Choice:
    """One service type as the picker shows it."""

    type: ServiceType
    reports: int
    #: name and keywords, folded for matching (see fold)
    search: str


@dataclass(frozen=True)
class PickerGroup:
    name: str
    choices: list[Choice]


def fold(text: str) -> str:
    """Lower-case text without accents: "Árbol Caído" → "arbol caido"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(bare.split())


def usage_counts() -> dict[int, int]:
    """Return requests per service type id over the last PICKER_USAGE_DAYS (cached)."""
    config = current_app.config
    cached: tuple[float, dict[int, int]] | None = current_app.extensions.get("city311_picker_usage")
    now = time.monotonic()
    if cached is not None and now - cached[0] < config["PICKER_CACHE_SECONDS"]:
        return cached[1]
    since = utcnow() - timedelta(days=config["PICKER_USAGE_DAYS"])
    rows = db.session.execute(
        select(ServiceRequest.service_type_id, func.count())
        .where(ServiceRequest.requested_at >= since)
        .group_by(ServiceRequest.service_type_id)
    ).all()
    counts = {int(type_id): int(n) for type_id, n in rows}
    current_app.extensions["city311_picker_usage"] = (now, counts)
    return counts


def picker_groups(types: list[ServiceType]) -> tuple[list[Choice], list[PickerGroup]]:
    """Return (the most reported types, the groups) for the picker.

    Within each group the most reported come first, then by name; groups are in name order,
    types with no group last under OTHER_GROUP. Types nobody reported lately are not in the
    first list.
    """
    counts = usage_counts()
    choices = [
        Choice(st, counts.get(st.id, 0), fold(f"{st.name} {st.keywords or ''} {st.group or ''}"))
        for st in types
    ]
    ranked = sorted(choices, key=lambda c: (-c.reports, c.type.name.casefold()))
    popular = [c for c in ranked if c.reports > 0][:POPULAR_COUNT]
    grouped: dict[str, list[Choice]] = {}
    for choice in ranked:
        grouped.setdefault(choice.type.group or OTHER_GROUP, []).append(choice)
    names = sorted((n for n in grouped if n != OTHER_GROUP), key=str.casefold)
    if OTHER_GROUP in grouped:
        names.append(OTHER_GROUP)
    return popular, [PickerGroup(name, grouped[name]) for name in names]
