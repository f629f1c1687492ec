"""Idempotency keys: a client that retries an action gets the first answer, not a conflict.

A crew's phone on a weak signal sends "complete" again when it does not hear back. With an
`Idempotency-Key` header the retry returns exactly what the first attempt answered, and
nothing happens twice. The key and the answer are stored in PostgreSQL in the same
transaction as the work itself, so they survive any restart; Redis is never trusted with them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Response, current_app, make_response, redirect, request
from flask_login import current_user
from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, delete, text
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.exceptions import RequestEntityTooLarge

from app.core import direct
from app.core.clock import utcnow
from app.core.errors import DomainError
from app.core.models import created_at_column
from app.extensions import Model, db

F = TypeVar("F", bound=Callable[..., Any])
HEADER = "Idempotency-Key"
#: the same key as a hidden form field, for forms posted by a browser without script
FORM_FIELD = "idempotency_key"
#: the bodies that can carry FORM_FIELD (a JSON body is not parsed as a form to look)
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
MAX_KEY = 200
#: an anonymous client's key is the only thing that tells its answer apart from everyone
#: else's: it must be long enough not to be guessed (a UUID has 36 characters)
MIN_ANONYMOUS_KEY = 16


#: the OpenAPI parameter of the header, for the endpoints that take it
IDEMPOTENCY_HEADER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "schema": {"type": "string", "maxLength": MAX_KEY},
    "description": "A key of the client's own, new for each action: the same key again "
    "gets the first answer (same status and body) and changes nothing.",
}


class IdempotencyKey(Model):
    """The first successful answer to a request made with an Idempotency-Key header.

    Signed-in clients' keys are theirs (scoped by user); anonymous residents' keys (user_id
    NULL) share one space, which their length keeps apart.
    """

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    #: keys are the client's own; scoping them by user keeps two clients from colliding
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(MAX_KEY))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(400))
    status_code: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()

    __table_args__ = (
        db.UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_id_key"),
        db.Index("ix_idempotency_keys_created_at", "created_at"),
        db.Index(
            "uq_idempotency_keys_anonymous_key",
            "key",
            unique=True,
            postgresql_where=text("user_id IS NULL"),
        ),
    )


class KeyReused(DomainError):
    status_code = 422
    code = "idempotency_key_reused"


# The row is claimed before the work: a second request with the same key waits on the unique
# index until the first commits (then reads its answer) or rolls back (then does the work).
_CLAIM = text(
    """
    INSERT INTO idempotency_keys (user_id, key, method, path, status_code, content_type, body)
    VALUES (:user_id, :key, :method, :path, 0, '', '')
    ON CONFLICT (user_id, key) DO NOTHING
    RETURNING id
    """
)
_CLAIM_ANONYMOUS = text(
    """
    INSERT INTO idempotency_keys (user_id, key, method, path, status_code, content_type, body)
    VALUES (NULL, :key, :method, :path, 0, '', '')
    ON CONFLICT (key) WHERE user_id IS NULL DO NOTHING
    RETURNING id
    """
)


def _user_id() -> int | None:
    return current_user.id if current_user.is_authenticated else None


def _client_key() -> str:
    """Return the key of this request: the header, else the form field; '' for none."""
    key = request.headers.get(HEADER, "").strip()
    if key or request.method != "POST" or request.mimetype not in _FORMS:
        return key
    try:
        return (request.form.get(FORM_FIELD) or "").strip()
    except RequestEntityTooLarge:
        return ""  # the view answers 413 for the body; there is no answer to keep


def idempotent(view: F) -> F:
    """Make a POST endpoint answer a repeated Idempotency-Key with its first answer.

    The decorated view must not commit: this decorator commits once the answer is stored with
    the work, so that either both are kept or neither. Only successful answers (2xx, and the
    303 of a form that worked) are kept: a request refused for bad input may be sent again,
    corrected, under the same key. Forms send the key as the hidden field `idempotency_key`.
    Anonymous clients may send keys too (at least MIN_ANONYMOUS_KEY characters).
    """

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        key = _client_key()
        if not key:
            response = make_response(view(*args, **kwargs))
            direct.commit()  # an intake alone (core.direct) has committed itself
            return response
        if len(key) > MAX_KEY:
            raise DomainError(f"The {HEADER} header is longer than {MAX_KEY} characters.")
        user_id = _user_id()
        if user_id is None and len(key) < MIN_ANONYMOUS_KEY:
            raise DomainError(
                f"The {HEADER} must have at least {MIN_ANONYMOUS_KEY} characters: send a UUID."
            )
        claimed = db.session.execute(
            _CLAIM if user_id is not None else _CLAIM_ANONYMOUS,
            {
                "user_id": user_id,
                "key": key,
                "method": request.method,
                "path": request.path[:400],
            },
        ).scalar()
        if claimed is None:
            db.session.rollback()
            return _replay(key)
        try:
            response = make_response(view(*args, **kwargs))
        except BaseException:
            # refused (a DomainError, a 4xx abort): release the key with the half-done work,
            # so that the request may be sent again, corrected, under the same key
            db.session.rollback()
            raise
        if 200 <= response.status_code < 300 or response.status_code == 303:
            body = (
                response.headers.get("Location", "")
                if response.status_code == 303
                else response.get_data(as_text=True)
            )
            db.session.execute(
                text(
                    "UPDATE idempotency_keys SET status_code = :status, content_type = :type, "
                    "body = :body WHERE id = :id"
                ),
                {
                    "status": response.status_code,
                    "type": response.content_type or "",
                    "body": body,
                    "id": claimed,
                },
            )
        else:
            db.session.execute(text("DELETE FROM idempotency_keys WHERE id = :id"), {"id": claimed})
        db.session.commit()
        return response

    return wrapped  # type: ignore[return-value]


def _replay(key: str) -> Response:
    user_id = _user_id()
    row = db.session.scalar(
        db.select(IdempotencyKey).where(
            IdempotencyKey.user_id.is_(None)
            if user_id is None
            else IdempotencyKey.user_id == user_id,
            IdempotencyKey.key == key,
        )
    )
    if row is None:  # the first attempt was refused and rolled back as we waited: a race lost
        raise DomainError("The first request with this key is still being handled; try again.")
    if (row.method, row.path) != (request.method, request.path[:400]):
        raise KeyReused(
            f"This {HEADER} was used for {row.method} {row.path}; send a new key for each action."
        )
    if row.status_code == 303:  # a form: the same confirmation page again
        response: Response = redirect(row.body, 303)  # type: ignore[assignment]
    else:
        response = Response(row.body, status=row.status_code, content_type=row.content_type)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def purge_old_keys() -> int:
    """Delete keys older than IDEMPOTENCY_KEY_DAYS: retries come within minutes, not weeks."""
    cutoff = utcnow() - timedelta(days=current_app.config["IDEMPOTENCY_KEY_DAYS"])
    result = db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
    db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
