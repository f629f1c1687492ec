"""Follow a request by email (confirmed by a link), and stop a request's emails by a link.

Both links carry a signed token of (request, address), so neither needs a login. Following
sends one confirmation per address and request, ever: the tracking page's form cannot be
used to flood someone's mailbox. An unsubscribed address gets nothing more about that
request (reporter or follower alike) until it follows the request again.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from app.core.errors import DomainError, NotFound
from app.extensions import db
from app.notifications.models import Unsubscribe
from app.requests import service as requests_service
from app.requests import subscribers
from app.requests.presenters import public_url_for
from app.requests.words import pick_language

FOLLOW_EVENT = "follow_confirm"
#: a confirmation link older than this is refused (ask again from the tracking page)
CONFIRM_MAX_AGE = 7 * 24 * 3600


@dataclass(frozen=True)
class Who:
    request_id: int
    email: str
    #: the language the follower's messages are written in
    language: str = "en"


def _follow_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="city311-follow")


def _unsubscribe_signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="city311-unsubscribe")


def _url(endpoint: str, token: str) -> str:
    return public_url_for(endpoint, token=token)


def confirm_url(who: Who) -> str:
    """Return the link that confirms following."""
    token = _follow_signer().dumps([who.request_id, who.email, who.language])
    return _url("follow.confirm", token)


def unsubscribe_url(who: Who) -> str:
    """Return the link that stops a request's emails to an address."""
    return _url("follow.unsubscribe", _unsubscribe_signer().dumps([who.request_id, who.email]))


def _read(loads: Any, token: str) -> Who:
    try:
        # a confirmation link carries the follower's language too
        request_id, email, *language = loads(token)
    except (BadSignature, ValueError, TypeError):
        raise NotFound(
            "This link is not valid or has expired: use the link in the email as it was."
        ) from None
    return Who(int(request_id), str(email), pick_language(*language))


def read_confirm(token: str) -> Who:
    """Return who asked to follow what. :raises NotFound: a bad or expired token."""
    return _read(lambda t: _follow_signer().loads(t, max_age=CONFIRM_MAX_AGE), token)


def read_unsubscribe(token: str) -> Who:
    """Return who asks to stop what. :raises NotFound: a bad token."""
    return _read(_unsubscribe_signer().loads, token)


def checked_address(email: str) -> str:
    """Return the email address a follower gave, stripped.

    :raises DomainError: not an email address.
    """
    email = (email or "").strip()
    address = parseaddr(email)[1]
    if not address or address != email or "@" not in address or len(address) > 254:
        raise DomainError("Enter an email address, such as name@example.org.", field="email")
    return address


def ask_to_follow(request_id: int, email: str, language: str = "en") -> bool:
    """Owe a confirmation link to an address that wants to follow a request.

    Return False when one was already sent to it for this request.

    :raises DomainError: not an email address.
    """
    from app.notifications.service import queue_notice

    address = checked_address(email)
    requests_service.get_request(request_id)  # NotFound (404) for a number that is not ours
    payload = {"request_id": request_id, "lang": pick_language(language)}
    return queue_notice(FOLLOW_EVENT, request_id, address, payload) is not None


def confirm(who: Who) -> bool:
    """Subscribe the address; undo an earlier unsubscribe. Return whether it was new."""
    db.session.execute(
        delete(Unsubscribe).where(
            Unsubscribe.request_id == who.request_id, Unsubscribe.email == who.email.lower()
        )
    )
    return subscribers.follow(who.request_id, who.email, who.language)


def unsubscribe(who: Who) -> None:
    """Stop every message about the request to the address."""
    db.session.execute(
        insert(Unsubscribe)
        .values(request_id=who.request_id, email=who.email.lower())
        .on_conflict_do_nothing()
    )
    subscribers.unfollow(who.request_id, who.email)


#: session.info key: the unsubscribes of a drain's batch, read at once (see remember)
_KNOWN = "city311_unsubscribes_known"


def remember_unsubscribes(request_ids: Collection[int]) -> None:
    """Read these requests' unsubscribes in one statement; is_unsubscribed answers from them.

    A drain reads its batch's at once instead of one round trip per message; `forget`
    drops them when the drain ends.
    """
    found = {
        (request_id, email)
        for request_id, email in db.session.execute(
            select(Unsubscribe.request_id, Unsubscribe.email).where(
                Unsubscribe.request_id.in_(request_ids)
            )
        )
    }
    db.session().info[_KNOWN] = (set(request_ids), found)


def forget_unsubscribes() -> None:
    db.session().info.pop(_KNOWN, None)


def is_unsubscribed(request_id: int, email: str) -> bool:
    """Tell whether the address stopped this request's messages."""
    known = db.session().info.get(_KNOWN)
    if known is not None and request_id in known[0]:
        return (request_id, email.strip().lower()) in known[1]
    found = db.session.scalar(
        select(Unsubscribe.request_id).where(
            Unsubscribe.request_id == request_id, Unsubscribe.email == email.strip().lower()
        )
    )
    return found is not None
