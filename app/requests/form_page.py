"""The report form as every anonymous resident gets it, rendered once per language.

The report form is the page residents load most, and on a storm's day all at once. Rendering
it (the catalogue, the picker, the words of its scripts in the page's language) costs several
times the CPU of storing the report that follows, so a process keeps the page it rendered
for each language for RESIDENT_FORM_CACHE_SECONDS. Only two things on it differ from one
visitor to the next, the CSRF token and the report's idempotency key: the kept page holds a
mark in their place, and each answer writes the visitor's own into it.

So a change to the catalogue (a type added or hidden) or to the districts reaches the form
at most that late in each process. Pages that are not the same for everyone are rendered
afresh: signed-in staff's (their menu), one carrying a flashed message, and one asked for
with query arguments other than `lang` (the language links keep them). 0 seconds turns the
cache off.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable

from flask import current_app, request, session
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

#: marks no catalogue text can contain: a random word of this process
_MARK = secrets.token_hex(16)
CSRF_MARK = f"csrf-{_MARK}"
KEY_MARK = f"key-{_MARK}"


def shared_page_wanted() -> bool:
    """Tell whether this GET of the form may be answered with the page every visitor gets."""
    return (
        float(current_app.config["RESIDENT_FORM_CACHE_SECONDS"]) > 0
        and not current_user.is_authenticated
        and "_flashes" not in session
        and all(name == "lang" for name in request.args)
    )


def _pages() -> dict[str, tuple[float, str]]:
    # one per app (and so per process): never shared between two apps' databases
    return current_app.extensions.setdefault("city311_resident_form", {})


_render_lock = threading.Lock()


def shared_page(language: str, render: Callable[[str, str], str]) -> str:
    """Return the form in `language` with this visitor's CSRF token and idempotency key.

    `render(csrf_mark, key_mark)` renders the page with the marks in place of the two; it is
    called when this process has no page for the language younger than the setting.
    """
    ttl = float(current_app.config["RESIDENT_FORM_CACHE_SECONDS"])
    pages, now = _pages(), time.monotonic()
    hit = pages.get(language)
    if hit is None or now - hit[0] >= ttl:
        # one thread renders while the others wait for its page: a storm's first second
        # must not render the page once per thread
        with _render_lock:
            hit = pages.get(language)
            if hit is None or now - hit[0] >= ttl:
                hit = (time.monotonic(), render(CSRF_MARK, KEY_MARK))
                pages[language] = hit
    return hit[1].replace(CSRF_MARK, generate_csrf()).replace(KEY_MARK, str(uuid.uuid4()))


def clear() -> None:
    """Forget this process's pages."""
    _pages().clear()
