"""The requests feature's domain verbs, under one name for the packages that use them.

Each verb lives in the module of its stage: the catalogue, intake, reading, and the
lifecycle of status changes. Verbs validate, write, flush, record events and send signals;
they never commit: the caller (a view, a job, a command) owns the transaction.
"""

from app.requests.catalogue import (
    ATTRIBUTE_DATATYPES,
    CatalogueEntry,
    catalogue_entry,
    compute_due_at,
    create_service_type,
    list_service_types,
    validate_attributes,
)
from app.requests.intake import (
    EmergencyService,
    NewRequest,
    SubmittedRequest,
    check_location,
    submit_request,
)
from app.requests.lifecycle import (
    TRANSITIONS,
    acknowledge,
    add_note,
    close,
    mark_assigned,
    mark_in_progress,
    put_on_hold,
    reopen,
    resume,
    return_to_queue,
)
from app.requests.notes import check_note_length, note_required
from app.requests.queries import (
    MIN_PHONE_DIGITS,
    PHONE_DIGITS_COMPARED,
    SEARCH_COUNT_CAP,
    SEARCH_PAGE_SIZE,
    SearchPage,
    get_request,
    phone_digits,
    public_events,
    public_photo_ids,
    public_photos,
    request_photos,
    search_requests,
)
from app.requests.queue import (
    MAX_QUEUE_PAGE_SIZE,
    QUEUE_PAGE_SIZE,
    InvalidFilter,
    QueueFilters,
    QueuePage,
    department_queue,
    filter_choices,
    find_queue,
)
from app.requests.tracking import request_exists, tracked_request

__all__ = [
    "ATTRIBUTE_DATATYPES",
    "MAX_QUEUE_PAGE_SIZE",
    "MIN_PHONE_DIGITS",
    "PHONE_DIGITS_COMPARED",
    "QUEUE_PAGE_SIZE",
    "SEARCH_COUNT_CAP",
    "SEARCH_PAGE_SIZE",
    "SearchPage",
    "TRANSITIONS",
    "CatalogueEntry",
    "InvalidFilter",
    "NewRequest",
    "QueueFilters",
    "QueuePage",
    "SubmittedRequest",
    "acknowledge",
    "add_note",
    "catalogue_entry",
    "check_location",
    "check_note_length",
    "close",
    "compute_due_at",
    "create_service_type",
    "department_queue",
    "filter_choices",
    "find_queue",
    "get_request",
    "list_service_types",
    "EmergencyService",
    "mark_assigned",
    "mark_in_progress",
    "note_required",
    "phone_digits",
    "public_events",
    "public_photo_ids",
    "public_photos",
    "request_photos",
    "put_on_hold",
    "resume",
    "reopen",
    "return_to_queue",
    "search_requests",
    "submit_request",
    "request_exists",
    "tracked_request",
    "validate_attributes",
]
