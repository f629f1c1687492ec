"""Rate limits: Flask-Limiter counting in Redis, one 429 answer, and the client's address.

Public endpoints are limited per client address with `limited(SETTING)`, where SETTING names
a config value such as "10/minute;60/hour" (read at each request, so a test or an operator
changes it without a restart). Limits belong to views: Flask-Limiter's application-wide,
default and blueprint limits are not used, and the before-request check that serves them is
removed (init_app). Limits per something else than the address (an Open311 key,
an account) call `hit()`. Every limit answers 429 with Retry-After and a message saying when
to try again: JSON for the APIs, a page for people.

`hit()` decides in this process and sums the counts in Redis in the background
(core.shared_counts): intake waits on no Redis call, and a limit may be passed by what the
other processes accept before they hear of each other (core.shared_counts says how much).

Redis down must not take the site down: Flask-Limiter then counts in this process's memory
(RATELIMIT_IN_MEMORY_FALLBACK_ENABLED) and swallows storage errors, and `hit()` counts in
this process alone.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from flask import Flask, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext, ngettext
from flask_limiter import Limiter, RateLimitExceeded
from flask_login import current_user
from limits import parse_many
from werkzeug.middleware.proxy_fix import ProxyFix

from app.core.errors import DomainError, wants_json
from app.core.shared_counts import SharedCounts, Window

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


def client_address() -> str:
    """Return the client's IP address (X-Forwarded-For is read only behind trusted proxies)."""
    return request.remote_addr or "unknown"


#: the error answer limited endpoints document (core.apidocs.error_answers)
TOO_MANY_ANSWER = (429, "Too many requests: wait as long as Retry-After says.")

limiter = Limiter(key_func=client_address, strategy="fixed-window")


class RateLimited(DomainError):
    """Too many requests; `retry_after` is in seconds."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = max(1, int(retry_after))
        self.headers = {"Retry-After": str(self.retry_after)}


def wait_words(seconds: int) -> str:
    """Say how long to wait, in the unit a person thinks in (in the page's language)."""
    if seconds < 90:
        return ngettext("%(num)d second", "%(num)d seconds", seconds)
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return ngettext("%(num)d minute", "%(num)d minutes", minutes)
    return ngettext("%(num)d hour", "%(num)d hours", math.ceil(minutes / 60))


def too_many_message(retry_after: int) -> str:
    return gettext(
        "Too many requests from your connection: please wait %(wait)s and try again.",
        wait=wait_words(retry_after),
    )


def limited(
    setting: str, *, methods: list[str] | None = None, shared: str | None = None
) -> Callable[[F], F]:
    """Limit a view per client address by the config value `setting`; staff are exempt.

    Views given the same `shared` name count together (the sign-in page and the token
    endpoint are one door). Signed-in staff (session or bearer token) are accountable and
    work at volume (an agent logs calls all day), so they are not counted.
    """

    def value() -> str:
        return str(current_app.config[setting])

    def exempt() -> bool:
        return bool(current_user.is_authenticated)

    if shared:
        return limiter.shared_limit(  # type: ignore[return-value]
            value, scope=shared, methods=methods, exempt_when=exempt
        )
    return limiter.limit(  # type: ignore[return-value]
        value, methods=methods, exempt_when=exempt
    )


def hit(
    limit: str | None, *identifiers: str, message: str | Callable[[], str] | None = None
) -> None:
    """Count one request against `limit` ("100/minute;1000/day") for these identifiers.

    No limit (None or blank) or RATELIMIT_ENABLED off counts nothing. If Redis cannot be
    reached the count is this process's alone: a Redis outage must not stop intake.

    :raises RateLimited: over the limit.
    """
    hit_all([(limit, identifiers, message)])


#: one count for hit_all: the limit ("10/minute;60/hour", blank: none), the identifiers
#: counted, and the message of the refusal (None: the usual "too many requests"; a function
#: is called only for a refusal, so that a translated text costs nothing otherwise)
Count = tuple[str | None, tuple[str, ...], str | Callable[[], str] | None]


@functools.lru_cache(maxsize=64)
def _windows(limit: str) -> tuple[Any, ...]:
    """Parse a limit setting once per process (the settings are few, the requests many)."""
    return tuple(parse_many(limit))


def hit_all(counts: Sequence[Count]) -> None:
    """Count one request against several limits at once, with no wait on Redis.

    The hot path (the JSON API's anonymous intake) counts per address and per contact. The
    counts are decided in this process and summed in Redis in the background
    (core.shared_counts), so a limit may be passed by what other processes accept before
    they hear of each other; a refused request is counted in none of the limits.

    :raises RateLimited: over one of the limits (the first in `counts` order).
    """
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    # under the app's key prefix, as Flask-Limiter counts the views' limits: apps that
    # share a Redis keep their counts apart
    prefix = tuple(filter(None, [current_app.config.get("RATELIMIT_KEY_PREFIX")]))
    windows: list[tuple[Window, str | Callable[[], str] | None]] = []
    for limit, identifiers, message in counts:
        if not (limit and limit.strip()):
            continue
        try:
            items = _windows(limit)
        except ValueError:
            log.error("ignoring the malformed rate limit %r", limit)
            continue
        for item in items:
            # the key the `limits` library gives this fixed window in Redis
            key = f"LIMITS:{item.key_for(*prefix, *identifiers)}"
            windows.append((Window(key, item.amount, item.get_expiry()), message))
    if not windows:
        return
    counter: SharedCounts = current_app.extensions["limit-counts"]
    over = counter.take([window for window, _ in windows])
    if over is not None:
        message = next(message for window, message in windows if window is over)
        retry = counter.retry_after(over)
        text = message() if callable(message) else message
        raise RateLimited(text or too_many_message(retry), retry_after=retry)


def sync_counts() -> None:
    """Send this process's counts to Redis now, instead of within RATELIMIT_SYNC_SECONDS."""
    current_app.extensions["limit-counts"].sync()


def forget_counts(app: Flask) -> None:
    """Drop the counts this process holds for `app` (before a test empties Redis)."""
    app.extensions["limit-counts"].forget()


def _retry_after(err: RateLimitExceeded) -> int:
    limits = limiter.current_limits
    window = next((lim for lim in limits if lim.breached), limiter.current_limit)
    if window is None:
        return 60
    return max(1, int(window.reset_at - time.time()))


def _too_many(err: RateLimitExceeded) -> ResponseReturnValue:
    retry = _retry_after(err)
    message = too_many_message(retry)
    headers = {"Retry-After": str(retry)}
    if wants_json():
        body = {"code": 429, "status": "too_many_requests", "message": message}
        return jsonify(body), 429, headers
    return render_template("error.html", status=429, message=message), 429, headers


def init_app(app: Flask) -> None:
    """Trust the configured proxies, bind the limiter to Redis, and answer 429s."""
    proxies = int(app.config.get("TRUSTED_PROXY_COUNT", 0))
    if proxies > 0:
        # the last `proxies` hops of X-Forwarded-For are ours; the one before is the client
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"])
    app.config.setdefault("RATELIMIT_KEY_PREFIX", f"{app.config['RQ_QUEUE_PREFIX']}-limits")
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    # a Redis that does not answer costs at most this long per request, not a hung worker
    app.config.setdefault(
        "RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    )
    limiter.init_app(app)
    uri = str(app.config["RATELIMIT_STORAGE_URI"])
    app.extensions["limit-counts"] = SharedCounts(
        uri if uri.startswith(("redis://", "rediss://", "unix://")) else None,
        interval=app.config["RATELIMIT_SYNC_SECONDS"],
        options=dict(app.config["RATELIMIT_STORAGE_OPTIONS"]),
    )
    if not (app.config.get("RATELIMIT_APPLICATION") or app.config.get("RATELIMIT_DEFAULT")):
        # Every limit here is a view's own (`limited`), counted by its decorator as the view
        # runs. The before-request check Flask-Limiter adds serves application-wide and
        # default limits, which are not set, and cost every request (5% of an intake's CPU).
        funcs = app.before_request_funcs.get(None, [])
        app.before_request_funcs[None] = [f for f in funcs if f != limiter._check_request_limit]
    app.register_error_handler(RateLimitExceeded, _too_many)
