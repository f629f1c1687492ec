"""The words people read for a request's statuses, closure reasons and history events.

Public pages, staff pages and the reporter's emails say the same thing the same way: they
take their words from here. Codes without words (a newer status) are shown as they are.
"""

from __future__ import annotations

#: the words residents read for each status
STATUS_WORDS = {
    "new": "Received",
    "acknowledged": "Acknowledged by the department",
    "assigned": "A crew has been assigned",
    "in_progress": "Work in progress",
    "on_hold": "On hold",
    "closed": "Closed",
}
#: each closure reason, as a label (the staff select, the tracking page)
CLOSURE_WORDS = {
    "fixed": "Fixed",
    "no_action_needed": "No action needed",
    "duplicate": "Duplicate of another report",
    "referred": "Referred to another agency",
    "could_not_locate": "Could not locate the problem",
}
#: each closure reason as the reporter's email tells it: (subject phrase, first line)
CLOSURE_EMAIL_WORDS: dict[str, tuple[str, str]] = {
    "fixed": ("is fixed", "The problem you reported has been fixed."),
    "no_action_needed": (
        "was closed: no action was needed",
        "We looked into your report and found that no work was needed.",
    ),
    "duplicate": (
        "was closed as a duplicate",
        "Someone had already reported this problem; the work is tracked on that report.",
    ),
    "referred": (
        "was referred to another agency",
        "This problem is handled by another agency, and we have passed your report on to it.",
    ),
    "could_not_locate": (
        "was closed: the problem could not be found",
        "The crew could not find the problem at the location given.",
    ),
}
#: each kind of history event, as the timeline heads it
EVENT_WORDS = {
    "created": "Report received",
    "routed": "Sent to the department",
    "acknowledged": "Acknowledged",
    "assigned": "Crew assigned",
    "status_changed": "Status changed",
    "note": "Update",
    "reopened": "Reopened",
    "merged": "Merged with another report",
    "closed": "Closed",
    "transferred": "Transferred",
    "held": "Put on hold",
    "resumed": "Resumed",
}
#: why a request waits on hold, as staff and residents read it
HOLD_WORDS = {
    "waiting_on_resident": "Waiting on the resident",
    "other_agency": "Waiting on another agency",
    "materials": "Waiting for materials",
    "weather": "Waiting for the weather",
    "other": "Other",
}


def status_word(status: str) -> str:
    """Return the words for a status, or the status itself when it has none."""
    return STATUS_WORDS.get(status, status)


def closure_word(reason: str) -> str:
    """Return the label of a closure reason, or the reason spelled out when it has none."""
    return CLOSURE_WORDS.get(reason, reason.replace("_", " "))


def words_context() -> dict[str, dict[str, str]]:
    """Return the word tables every request page renders with."""
    return {
        "status_words": STATUS_WORDS,
        "closure_words": CLOSURE_WORDS,
        "event_words": EVENT_WORDS,
        "hold_words": HOLD_WORDS,
    }
