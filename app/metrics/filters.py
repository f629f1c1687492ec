"""The dashboard's filters: a city-local date range and optional department, type, district
and channel, read from query arguments and checked, so a bad one is a clear 400."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import text

from app.core.clock import city_tz, utcnow
from app.core.errors import DomainError
from app.extensions import db
from app.requests.models import CHANNELS

GROUP_BYS = ("department", "service_type", "district", "channel")
PERIODS = ("day", "week", "month")
DEFAULT_DAYS = 30
#: a range longer than this is refused: no city has more history than that
MAX_DAYS = 366 * 30


@dataclass(frozen=True)
class Filters:
    """A range of city-local days [first, last], and the ids the requests must match."""

    first: date
    last: date
    department_id: int | None = None
    service_type_id: int | None = None
    district_id: int | None = None
    channel: str | None = None
    #: the codes as given, to echo back in links and exports
    codes: tuple[tuple[str, str], ...] = ()

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Filters:
        """The period of the same length just before this one, with the same filters."""
        return replace(
            self, first=self.first - timedelta(days=self.days), last=self.first - timedelta(1)
        )

    def sql(self, alias: str = "") -> tuple[str, dict[str, object]]:
        """Return the AND-ed conditions on the dimension columns, and their parameters."""
        prefix = f"{alias}." if alias else ""
        parts: list[str] = []
        params: dict[str, object] = {}
        for column in ("department_id", "service_type_id", "district_id", "channel"):
            value = getattr(self, column)
            if value is not None:
                parts.append(f"{prefix}{column} = :f_{column}")
                params[f"f_{column}"] = value
        return "".join(f" AND {p}" for p in parts), params


def today() -> date:
    return utcnow().astimezone(city_tz()).date()


def _date(args: Mapping[str, str], name: str) -> date | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise DomainError(
            f"{name} must be a date like 2026-01-31, not {raw!r}.", field=name
        ) from None


def _lookup(table: str, code: str, field: str, extra: str = "") -> int:
    found = db.session.execute(
        text(f"SELECT id FROM {table} WHERE code = :code{extra}"),
        {"code": code, "kind": current_app.config["ROUTING_DISTRICT_KIND"]},
    ).scalar()
    if found is None:
        raise DomainError(f"There is no {field.replace('_', ' ')} {code!r}.", field=field)
    return int(found)


def parse(args: Mapping[str, str], *, default_days: int = DEFAULT_DAYS) -> Filters:
    """Read from/to (inclusive city-local dates) and the filters; raise DomainError if bad."""
    last = _date(args, "to") or today()
    first = _date(args, "from") or last - timedelta(days=default_days - 1)
    if first > last:
        raise DomainError(f"from ({first}) must not be after to ({last}).", field="from")
    if (last - first).days > MAX_DAYS:
        raise DomainError(f"The range may span at most {MAX_DAYS} days.", field="from")
    codes: list[tuple[str, str]] = []
    ids: dict[str, object] = {}
    lookups = {
        "department": ("departments", ""),
        "service_type": ("service_types", ""),
        "district": ("districts", " AND kind = :kind"),
    }
    for field, (table, extra) in lookups.items():
        code = (args.get(field) or "").strip()
        if code:
            ids[f"{field}_id"] = _lookup(table, code, field, extra)
            codes.append((field, code))
    channel = (args.get("channel") or "").strip() or None
    if channel is not None:
        if channel not in CHANNELS:
            raise DomainError(
                f"channel must be one of {', '.join(CHANNELS)}, not {channel!r}.", field="channel"
            )
        codes.append(("channel", channel))
    return Filters(first=first, last=last, channel=channel, codes=tuple(codes), **ids)  # type: ignore[arg-type]


def choice(args: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    """Return the argument if it is one of `choices`, the default if absent; else 400."""
    value = (args.get(name) or "").strip() or default
    if value not in choices:
        raise DomainError(f"{name} must be one of {', '.join(choices)}, not {value!r}.", field=name)
    return value


def page_size(args: Mapping[str, str], default: int = 1000) -> int:
    """Return the page size asked for; 400 when over METRICS_MAX_PAGE_SIZE or not a number."""
    limit = int(current_app.config["METRICS_MAX_PAGE_SIZE"])
    raw = (args.get("page_size") or "").strip()
    if not raw:
        return min(default, limit)
    if not raw.isdigit() or int(raw) < 1:
        raise DomainError("page_size must be a whole number of 1 or more.", field="page_size")
    if int(raw) > limit:
        raise DomainError(f"page_size may be at most {limit}, not {raw}.", field="page_size")
    return int(raw)
