"""The dispatcher page's queue: filters read from the query string, one page, and the map.

The page asks requests.service for the same pages the queue API serves, so the list, the
map and the API agree. Its filter form is a plain GET form: it works without JavaScript.
"""

from __future__ import annotations

from datetime import date
from math import ceil
from typing import Any

from flask import url_for
from marshmallow import ValidationError
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import MultiDict

from app.core.errors import DomainError
from app.geo.routing import map_frame
from app.org.models import Department
from app.requests import service as requests_service
from app.requests.presenters import lat_long
from app.requests.queue_schemas import QueueArgs
from app.workorders import service
from app.workorders.models import PRIORITIES

#: what the page offers for the number of rows per page
PAGE_SIZES = (50, 100, requests_service.MAX_QUEUE_PAGE_SIZE)
#: the query-string keys the page's links carry from one view to the next
FILTER_KEYS = (
    "department",
    "q",
    "status",
    "service_code",
    "district",
    "overdue",
    "crew_id",
    "sort",
    "lat",
    "long",
    "include_imported",
    "page_size",
)
#: how to assign the ticked requests: all on one work order, or a work order each
ASSIGN_MODES = ("one", "each")


class InvalidFilters(DomainError):
    status_code = 422
    code = "unprocessable"


def _messages(messages: Any) -> list[str]:
    if isinstance(messages, dict):
        return [m for value in messages.values() for m in _messages(value)]
    if isinstance(messages, list):
        return [m for value in messages for m in _messages(value)]
    return [str(messages)]


def read_filters(args: MultiDict[str, str]) -> tuple[requests_service.QueueFilters, int, int]:
    """Read the filters, page number and page size from the query string.

    :raises InvalidFilters: a value the queue API would refuse too (422).
    """
    schema = QueueArgs()
    try:
        loaded = schema.load(MultiDictProxy(args, schema))
    except ValidationError as err:
        raise InvalidFilters(" ".join(_messages(err.messages)), field="filters") from None
    page = _positive(args.get("page", ""), 1, "page must be a page number: 1 or more.")
    size_text = "page_size must be one of " + ", ".join(map(str, PAGE_SIZES)) + "."
    page_size = _positive(args.get("page_size", ""), requests_service.QUEUE_PAGE_SIZE, size_text)
    if page_size > requests_service.MAX_QUEUE_PAGE_SIZE:
        raise InvalidFilters(size_text, field="filters")
    return requests_service.QueueFilters.from_args(loaded), page, page_size


def _positive(text: str, default: int, message: str) -> int:
    text = text.strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise InvalidFilters(message, field="filters")
    return int(text)


def read_schedule(text: str) -> date | None:
    """Read the planned day of a work order from a date input (YYYY-MM-DD); blank is none.

    :raises DomainError: not a date.
    """
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise DomainError(
            f"{text!r} is not a date: give the planned day as YYYY-MM-DD, e.g. 2026-03-14.",
            field="scheduled_for",
        ) from None


def kept_args(args: MultiDict[str, str]) -> MultiDict[str, str]:
    """Return the query-string values that keep the dispatcher's view (not the page)."""
    return MultiDict([(k, v) for k, v in args.items(multi=True) if k in FILTER_KEYS and v])


def queue_url(args: MultiDict[str, str], **changes: Any) -> str:
    """Return the page's URL with its current filters, and `changes` on top."""
    params: dict[str, Any] = {k: args.getlist(k) for k in args}
    params.update({k: v for k, v in changes.items() if v is not None})
    return _url("workorders.queue", params)


def _url(endpoint: str, params: dict[str, Any]) -> str:
    # url_for's typing knows only its own keywords; the rest become the query string
    return url_for(endpoint, **params)


def queue_context(department: Department, args: MultiDict[str, str]) -> dict[str, Any]:
    """Return what the queue template shows of a department: list, map, filters, paging.

    A filter error is put in the context instead of raised, so that the form comes back
    with the dispatcher's values beside the message.
    """
    kept = kept_args(args)
    context: dict[str, Any] = {
        "choices": requests_service.filter_choices(department),
        "values": kept,
        "filtering": any(k not in ("department", "page_size") for k in kept),
        # the form's less used fields stay folded unless one of them is in use
        "more_filters": any(k in ("status", "lat", "long", "include_imported") for k in kept)
        or kept.get("page_size", str(requests_service.QUEUE_PAGE_SIZE))
        != str(requests_service.QUEUE_PAGE_SIZE),
        "page": None,
        "filter_error": None,
        "page_no": 1,
        "pages": 1,
        "page_size": requests_service.QUEUE_PAGE_SIZE,
        "page_sizes": PAGE_SIZES,
        "on_order": {},
        "coords": {},
        "frame": map_frame(),
        "priorities": PRIORITIES,
        "queue_url": lambda **changes: queue_url(kept, **changes),
        "create_url": _url("workorders.create", {k: kept.getlist(k) for k in kept}),
    }
    try:
        filters, page_no, page_size = read_filters(args)
        page = requests_service.find_queue(department, filters, page=page_no, page_size=page_size)
    except DomainError as err:
        context["filter_error"] = err
        return context
    context.update(
        page=page,
        filters=filters,
        page_no=page_no,
        page_size=page_size,
        # a counted-so-far total reaches past this page: a next page is always offered
        pages=max(1, ceil(page.total / page_size)),
        on_order=service.open_orders_for_requests(sr.id for sr in page.items),
        coords={sr.id: lat_long(sr) for sr in page.items},
    )
    return context
