"""The workorders feature's domain verbs, under one name for the code that uses them.

Each verb lives in the module of its stage: queries (reading orders, a crew's list nearest
first, photos), dispatch (sending a crew, calling an order off) and fieldwork (starting,
photos, close-out). Verbs validate, write and flush; they never commit: the caller owns
the transaction.
"""

from app.workorders.dispatch import (
    MAX_REQUESTS_PER_ORDER,
    cancel,
    clean_text,
    create_work_order,
    lock_request,
    locked_requests,
)
from app.workorders.fieldwork import (
    MAX_LABOUR_HOURS,
    CloseOut,
    RequestOutcome,
    add_photo,
    clean_labour_hours,
    clean_materials,
    close_out,
    complete,
    photo_required,
    start,
    types_requiring_photo,
)
from app.workorders.queries import (
    CREW_LIST_LIMIT,
    OPEN_STATUSES,
    RECENT_COMPLETED_DAYS,
    WORK_PHOTO_KINDS,
    completion_photo_ids,
    crew_open_orders,
    crew_work_orders,
    get_work_order,
    list_work_orders,
    open_orders_for_requests,
    open_work_order_counts,
    recently_completed,
    report_photo_ids,
    work_photo_ids,
)

__all__ = [
    "CREW_LIST_LIMIT",
    "MAX_LABOUR_HOURS",
    "MAX_REQUESTS_PER_ORDER",
    "OPEN_STATUSES",
    "RECENT_COMPLETED_DAYS",
    "WORK_PHOTO_KINDS",
    "CloseOut",
    "RequestOutcome",
    "add_photo",
    "cancel",
    "clean_labour_hours",
    "clean_materials",
    "clean_text",
    "close_out",
    "complete",
    "completion_photo_ids",
    "create_work_order",
    "crew_open_orders",
    "crew_work_orders",
    "get_work_order",
    "list_work_orders",
    "lock_request",
    "locked_requests",
    "open_orders_for_requests",
    "open_work_order_counts",
    "photo_required",
    "recently_completed",
    "report_photo_ids",
    "start",
    "types_requiring_photo",
    "work_photo_ids",
]
