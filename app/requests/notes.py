"""The rules of what staff write on a request: when a note is required, and how long it may be."""

from __future__ import annotations

from app.core.errors import DomainError
from app.requests.models import MAX_TEXT


def note_required(reason: str) -> bool:
    """Tell whether closing for this reason needs a note: every reason but fixed does."""
    # "closed" must never hide "not fixed" from the reporter without a word of why
    return reason != "fixed"


def check_note_length(note: str) -> None:
    """Refuse a note longer than MAX_TEXT, counted without surrounding blanks.

    :raises DomainError: the note is too long (400).
    """
    length = len(note.strip())
    if length > MAX_TEXT:
        raise DomainError(
            f"The note is {length} characters long; the limit is {MAX_TEXT}.", field="note"
        )
