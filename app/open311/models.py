"""API keys of the client applications that may POST requests through Open311."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import created_at_column
from app.extensions import Model


class ApiKey(Model):
    """One client application's key; only its SHA-256 is stored, the key is shown once."""

    __tablename__ = "open311_api_keys"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    #: the application ("FixMyStreet Riverton", "Neighbourhood app")
    client_name: Mapped[str] = mapped_column(String(200))
    #: who to call when the application misbehaves
    contact: Mapped[str] = mapped_column(String(254), default="", server_default="")
    #: the first characters of the key, so admins can tell keys apart without seeing them
    key_prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: requests this client may POST, as "100/minute" or "1000/day;100/minute"; none: unlimited
    rate_limit: Mapped[str | None] = mapped_column(String(100))

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def __repr__(self) -> str:
        return f"<ApiKey {self.key_prefix} {self.client_name}>"
