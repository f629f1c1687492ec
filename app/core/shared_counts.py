"""Fixed-window counts decided in this process and summed in Redis in the background.

Intake's abuse limits (per address, per contact, per Open311 key) must not put a Redis round
trip on the request thread: at 1,000 requests/s that call was a tenth of a POST's CPU. So a
request is counted here, in memory, against what this process last heard from Redis plus
what it has counted since; a background thread sends the new counts every
RATELIMIT_SYNC_SECONDS in one script call and hears back every window's total, which
includes the other processes' and hosts' counts. A window at least half full that this
process counted in lately is also read back at every sync, so that the others' counts reach
it before its own next one.

What this costs: within one process a limit is exact; across processes it can be passed by
what the others accept before they hear of each other. A process that has not counted in a
window yet hears of it after its first request there, one that has, within about one sync
interval (0.05 s by default) once the window is half full: so by up to one request per
other process, more in a burst within one interval.

If Redis cannot be reached, each process goes on counting on its own (the limits then hold
per process), and the counts of that time are not sent. Counts not yet sent when a process
stops (one interval's) are lost. The window keys are those of the `limits`
library's fixed windows, so the counts Flask-Limiter made before stay valid.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis

log = logging.getLogger(__name__)

#: each window's INCRBY (with its expiry set when the window starts), or for an increment of
#: 0 only a read, and what is left of the window.
#: KEYS: the windows; ARGV: each window's increment and length in seconds, in turn.
#: Returns each window's total and milliseconds left (negative: no such window), in turn.
_SYNC = """
local out = {}
for i, key in ipairs(KEYS) do
    local n = tonumber(ARGV[2 * i - 1])
    local total, left
    if n == 0 then
        total = tonumber(redis.call("get", key) or "0")
        left = redis.call("pttl", key)
    else
        total = redis.call("incrby", key, n)
        left = redis.call("pttl", key)
        if left < 0 then
            left = ARGV[2 * i] * 1000
            redis.call("pexpire", key, left)
        end
    end
    out[2 * i - 1] = total
    out[2 * i] = left
end
return out
"""

#: past this many windows known, only those at their limit are kept (a day's cap per contact
#: would otherwise hold every contact of the day); the others are relearned at their next count
MAX_KNOWN = 20_000
#: a window at least half full and counted here within this many seconds is read back at
#: every sync, so that this process hears of the others' counts before its own next one
WATCH_SECONDS = 60.0
#: the most windows read back in one sync
MAX_WATCHED = 1_000


@dataclass(frozen=True)
class Window:
    """One limit's window for one identity: its Redis key, its allowance and its length."""

    key: str
    amount: int
    seconds: int


@dataclass
class _Known:
    total: int  # the window's count across every process, as of the last sync
    ends_at: float  # time.time() when the window ends
    amount: int
    seen: float  # time.monotonic() of this process's last count in the window


class SharedCounts:
    """The counts of one app's limits in this process, synced to one Redis (None: kept here)."""

    def __init__(self, redis_url: str | None, *, interval: float, options: dict) -> None:
        self._url = redis_url
        self._options = options
        self._interval = max(0.001, interval)
        self._start()

    def _start(self) -> None:
        # also after a fork: the parent's thread, locks and counts are not the child's
        self._pid = os.getpid()
        self._lock = threading.Lock()  # guards the maps below
        self._syncing = threading.Lock()  # one sync at a time
        self._wake = threading.Event()
        self._known: dict[str, _Known] = {}
        self._pending: dict[str, int] = {}  # counted here, not sent yet
        self._sending: dict[str, int] = {}  # sent, not answered yet
        self._windows: dict[str, Window] = {}  # the windows of the pending counts
        self._watched: dict[str, None] = {}  # half full, counted here lately: read back
        self._client: redis.Redis | None = None
        self._script: Any = None
        self._thread: threading.Thread | None = None

    def take(self, windows: Sequence[Window]) -> Window | None:
        """Count one request in every window, or in none.

        Return the first window the request would go past (nothing is counted then), or None.
        """
        if self._pid != os.getpid():
            self._start()
        now, moment = time.time(), time.monotonic()
        with self._lock:
            for window in windows:
                if self._estimate(window.key, now) >= window.amount:
                    return window
            wake = not self._pending
            for window in windows:
                self._pending[window.key] = self._pending.get(window.key, 0) + 1
                self._windows[window.key] = window
                known = self._known.get(window.key)
                if known is not None:
                    known.seen = moment
        if not self._url:
            self.sync()  # no Redis: the counts are this process's only, kept as they are made
        elif wake:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="limit-sync", daemon=True)
                self._thread.start()
            self._wake.set()
        return None

    def _total(self, key: str, now: float) -> int:
        known = self._known.get(key)
        return known.total if known is not None and known.ends_at > now else 0

    def _left(self, key: str, now: float) -> float:
        """Seconds left of the window as last heard (0: none known, or it has ended)."""
        known = self._known.get(key)
        return known.ends_at - now if known is not None and known.ends_at > now else 0.0

    def _estimate(self, key: str, now: float) -> int:
        return self._total(key, now) + self._sending.get(key, 0) + self._pending.get(key, 0)

    def retry_after(self, window: Window) -> int:
        """Seconds until `window` starts again (its length, if no sync has told its end yet)."""
        with self._lock:
            left = self._left(window.key, time.time()) or window.seconds
        return max(1, math.ceil(left))

    def _run(self) -> None:
        while True:
            # while windows are watched, sync every interval even with nothing to send
            if self._wake.wait(self._interval if self._watched else None):
                time.sleep(self._interval)  # let a batch gather
            self._wake.clear()
            try:
                self.sync()
            except Exception:  # this thread must outlive any one failure
                log.exception("rate-limit counts: sync failed")

    def sync(self) -> None:
        """Send the counts made here, and learn the totals of those and of the watched windows.

        Tests call it directly; the background thread calls it every RATELIMIT_SYNC_SECONDS
        while there is something to send or watch.
        """
        with self._syncing:
            with self._lock:
                now, moment = time.time(), time.monotonic()
                self._sending, self._pending = self._pending, {}
                sending = self._sending
                windows = {key: self._windows.pop(key) for key in sending}
                watched = self._to_read(sending, now, moment)
            if not sending and not watched:
                return
            answer: list[int] | None = None
            if self._url:
                try:
                    answer = self._send(sending, windows, watched)
                except redis.RedisError as err:
                    log.warning(
                        "rate-limit counts kept in this process: Redis unreachable: %s", err
                    )
            now, moment = time.time(), time.monotonic()
            with self._lock:
                for i, (key, n) in enumerate(sending.items()):
                    if answer is not None:
                        total, left = int(answer[2 * i]), int(answer[2 * i + 1]) / 1000
                    else:  # this process's own count, in a window it starts if none is known
                        total = n + self._total(key, now)
                        left = self._left(key, now) or windows[key].seconds
                    self._note(key, _Known(total, now + left, windows[key].amount, moment))
                for j, key in enumerate(watched, start=len(sending)):
                    known = self._known.get(key)
                    if answer is None or known is None:
                        continue
                    left = int(answer[2 * j + 1]) / 1000
                    if left <= 0:  # the window has ended (or Redis lost it)
                        self._known.pop(key, None)
                        self._watched.pop(key, None)
                        continue
                    known.total, known.ends_at = int(answer[2 * j]), now + left
                    self._note(key, known)
                self._sending = {}
                if len(self._known) > MAX_KNOWN:
                    self._prune(now)

    def _to_read(self, sending: dict[str, int], now: float, moment: float) -> list[str]:
        """Return the watched windows to read back, forgetting those no longer worth it."""
        keep: list[str] = []
        for key in list(self._watched):
            known = self._known.get(key)
            if known is None or known.ends_at <= now or moment - known.seen > WATCH_SECONDS:
                del self._watched[key]
            elif key not in sending and len(keep) < MAX_WATCHED:
                keep.append(key)
        return keep

    def _note(self, key: str, known: _Known) -> None:
        # watch a window from half full until full: past its allowance it stays refused
        # until it ends whatever the others count, and below half this process has room
        self._known[key] = known
        if known.amount <= 2 * known.total < 2 * known.amount:
            self._watched[key] = None
        else:
            self._watched.pop(key, None)

    def _prune(self, now: float) -> None:
        # keep the windows at their limit: forgetting the others only costs a sync's lag
        self._known = {
            key: known
            for key, known in self._known.items()
            if known.ends_at > now and known.total >= known.amount
        }
        self._watched = {key: None for key in self._watched if key in self._known}
        if len(self._known) > MAX_KNOWN:
            self._known, self._watched = {}, {}

    def _send(
        self, counts: dict[str, int], windows: dict[str, Window], watched: list[str]
    ) -> list[int]:
        if self._client is None:
            self._client = redis.Redis.from_url(str(self._url), **self._options)
            # redis-py's Script sends EVALSHA, and loads the script when Redis lacks it
            self._script = self._client.register_script(_SYNC)
        args: list[int] = []
        for key, n in counts.items():
            args += [n, windows[key].seconds]
        args += [0, 0] * len(watched)
        return list(self._script(keys=[*counts, *watched], args=args))

    def forget(self) -> None:
        """Drop every count held here, after any sync under way (tests start on a clean Redis)."""
        with self._syncing, self._lock:
            self._known.clear()
            self._pending.clear()
            self._sending.clear()
            self._windows.clear()
            self._watched.clear()
