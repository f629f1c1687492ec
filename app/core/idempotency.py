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

from flask import Response, current_app, make_response, request
from flask_login import current_user
from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, delete, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.errors import DomainError
from app.core.models import created_at_column
from app.extensions import Model, db

F = TypeVar("F", bound=Callable[..., Any])
HEADER = "Idempotency-Key"
MAX_KEY = 200


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
    """The first successful answer to a request made with an Idempotency-Key header."""

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    #: keys are the client's own; scoping them by user keeps two clients from colliding
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
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


def idempotent(view: F) -> F:
    """Make a POST endpoint answer a repeated Idempotency-Key with its first answer.

    The decorated view must not commit: this decorator commits once the answer is stored with
    the work, so that either both are kept or neither. Only successful (2xx) answers are kept:
    a request refused for bad input may be sent again, corrected, under the same key.
    """

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER, "").strip()
        if not key:
            response = make_response(view(*args, **kwargs))
            db.session.commit()
            return response
        if len(key) > MAX_KEY:
            raise DomainError(f"The {HEADER} header is longer than {MAX_KEY} characters.")
        claimed = db.session.execute(
            _CLAIM,
            {
                "user_id": current_user.id,
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
        if 200 <= response.status_code < 300:
            db.session.execute(
                text(
                    "UPDATE idempotency_keys SET status_code = :status, content_type = :type, "
                    "body = :body WHERE id = :id"
                ),
                {
                    "status": response.status_code,
                    "type": response.content_type or "",
                    "body": response.get_data(as_text=True),
                    "id": claimed,
                },
            )
        else:
            db.session.execute(text("DELETE FROM idempotency_keys WHERE id = :id"), {"id": claimed})
        db.session.commit()
        return response

    return wrapped  # type: ignore[return-value]


def _replay(key: str) -> Response:
    row = db.session.scalar(
        db.select(IdempotencyKey).where(
            IdempotencyKey.user_id == current_user.id, IdempotencyKey.key == key
        )
    )
    if row is None:  # the first attempt was refused and rolled back as we waited: a race lost
        raise DomainError("The first request with this key is still being handled; try again.")
    if (row.method, row.path) != (request.method, request.path[:400]):
        raise KeyReused(
            f"This {HEADER} was used for {row.method} {row.path}; send a new key for each action."
        )
    response = Response(row.body, status=row.status_code, content_type=row.content_type)
    response.headers["Idempotent-Replayed"] = "true"
    return response


def purge_old_keys() -> int:
    """Delete keys older than IDEMPOTENCY_KEY_DAYS: retries come within minutes, not weeks."""
    cutoff = utcnow() - timedelta(days=current_app.config["IDEMPOTENCY_KEY_DAYS"])
    result = db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff))
    db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
