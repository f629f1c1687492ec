"""The email policy the notices are built with: RFC-correct headers at a fraction of the CPU.

The standard library's default policy (EmailPolicy) parses every header into a tree when it
is set and folds that tree again when the message is written: most of the CPU time of a
receipt. Most of a notice's headers need neither: a short printable-ASCII value with nothing
that could be taken for an encoded word is written exactly as the default policy would
write it. `NoticePolicy` stores those as they are and writes them out as one line, a bare
address (the To of every notice) among them; anything else (non-ASCII names and subjects,
long values, addresses with a display name) takes the default path, whose parsed headers and
folded lines are kept per process, since the same From and Content-Type values come back in
every message. Reading a header (msg["To"].addresses)
still returns the parsed header object, as with the default policy.
"""

from __future__ import annotations

import re
from email.header import Header
from email.headerregistry import BaseHeader, HeaderRegistry, UnstructuredHeader
from email.policy import EmailPolicy
from functools import lru_cache
from typing import Any

#: headers whose value is a list of addresses: a display name may need quoting, so these are
#: always parsed (their parse is cached)
_ADDRESS_HEADERS = frozenset(
    {"from", "to", "cc", "bcc", "reply-to", "sender"}
    | {"resent-from", "resent-to", "resent-cc", "resent-bcc", "resent-sender"}
)
#: structured headers of <URL> lists (RFC 2369): a long URL has nowhere to be folded, and an
#: encoded word (what the default policy makes of a long line) is not allowed in them, so
#: they are written on one line up to the hard limit of RFC 5322
_URL_HEADERS = frozenset({"list-unsubscribe", "list-unsubscribe-post", "list-help", "list-post"})
_HARD_LIMIT = 998
#: printable ASCII words between single spaces, nothing leading or trailing
_PLAIN = re.compile(r"[\x21-\x7e](?: ?[\x21-\x7e])*\Z")
#: one address with no display name, in dot-atom form (RFC 5322 3.4.1): the default policy
#: writes it back unchanged, so it need not be parsed (each recipient's would be, once)
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_BARE_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\Z")
_REGISTRY = HeaderRegistry()
#: folded lines kept per process: the values that repeat from message to message
_FOLDED_MAX = 4096
_folded: dict[tuple[str, str, str, bool, int | None, str], str] = {}


@lru_cache(maxsize=4096)
def _parsed(name: str, value: str) -> BaseHeader:
    # header objects are immutable: one parse serves every message with the same value
    return _REGISTRY(name, value)


@lru_cache(maxsize=256)
def _max_count(name: str) -> int | None:
    # HeaderRegistry builds a new class on every lookup: once per header name is enough
    return _REGISTRY[name].max_count


def _plain(name: str, value: str, limit: int) -> bool:
    if name.lower() in _URL_HEADERS:
        limit = _HARD_LIMIT
    return (
        len(name) + 2 + len(value) <= limit
        and (name.lower() not in _ADDRESS_HEADERS or _BARE_ADDRESS.match(value) is not None)
        and _PLAIN.match(value) is not None
        # a reader would decode "=?...?=" as an encoded word
        and "=?" not in value
    )


class NoticePolicy(EmailPolicy):
    """EmailPolicy that stores short plain headers unparsed and caches what it parses."""

    def header_max_count(self, name: str) -> int | None:
        return _max_count(name.lower())

    def header_store_parse(self, name: str, value: Any) -> tuple[str, Any]:
        if (
            isinstance(value, str)
            and not hasattr(value, "name")
            and _plain(name, value, self.max_line_length or 78)
        ):
            return (name, value)
        if (
            isinstance(value, str)
            and not hasattr(value, "name")
            and "\n" not in value
            and "\r" not in value
        ):
            return (name, _parsed(name, value))
        return super().header_store_parse(name, value)  # raises on a line break

    def header_fetch_parse(self, name: str, value: Any) -> Any:
        if hasattr(value, "name"):
            return value
        return _parsed(name, "".join(value.splitlines()))

    def fold(self, name: str, value: Any) -> str:
        if isinstance(value, UnstructuredHeader) and not str(value).isascii():
            return self._encoded_words(name, str(value))
        if hasattr(value, "name"):
            return self._cached_fold(name, value)
        if name.lower() in _URL_HEADERS and _plain(name, value, _HARD_LIMIT):
            return f"{name}: {value}{self.linesep}"
        return super().fold(name, value)

    def fold_binary(self, name: str, value: Any) -> bytes:
        if hasattr(value, "name") or name.lower() in _URL_HEADERS:
            # a header object folds the same either way; fold_binary only encodes it
            return self.fold(name, value).encode(
                "utf8" if self.utf8 else "ascii", "surrogateescape"
            )
        return super().fold_binary(name, value)

    def _encoded_words(self, name: str, value: str) -> str:
        # The default policy loses the space between two words when it folds exactly there
        # ("Señal de tráfico" + fold + "dañada" reads back "tráficodañada": RFC 2047 drops
        # the whitespace between encoded words). email.header encodes the spaces inside
        # the encoded words, so the subject reads back as written whatever its length.
        encoded = Header(
            value, "utf-8", maxlinelen=self.max_line_length or 78, header_name=name
        ).encode(linesep=self.linesep)
        return f"{name}: {encoded}{self.linesep}"

    def _cached_fold(self, name: str, value: Any) -> str:
        key = (name, str(value), self.linesep, self.utf8, self.max_line_length, self.cte_type)
        folded = _folded.get(key)
        if folded is None:
            folded = value.fold(policy=self)
            if len(_folded) >= _FOLDED_MAX:
                _folded.clear()
            _folded[key] = folded
        return folded


#: the policy of every notice built here (linesep "\n"; smtplib writes CRLF)
notice_policy = NoticePolicy()
