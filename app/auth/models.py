"""Staff users, their roles, and API tokens."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.roles import ROLES
from app.core.models import created_at_column, enum_check
from app.extensions import Model
from app.org.models import Crew, Department

#: starts a password hash no password matches: an invited account before its owner sets one,
#: or one whose password an admin reset (werkzeug's hashes start with the method name)
UNUSABLE_PASSWORD_PREFIX = "!"


class User(UserMixin, Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(enum_check("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: stored lower-cased by auth.service, so the unique constraint is case-insensitive
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    #: dispatchers and crews work for one department; managers and admins see all
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    #: set for role "crew": the crew whose work orders this person sees
    crew_id: Mapped[int | None] = mapped_column(ForeignKey("crews.id"))
    active: Mapped[bool] = mapped_column(default=True, server_default="true")
    #: part of every session cookie's user id: signing out bumps it, ending those sessions
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = created_at_column()
    #: set by every successful sign-in (the form or an API token from a password)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    department: Mapped[Department | None] = relationship(lazy="joined")
    crew: Mapped[Crew | None] = relationship(lazy="joined")

    def get_id(self) -> str:
        """Return what the session cookie keeps: the id and the session version."""
        return f"{self.id}.{self.session_version}"

    @property
    def password_set(self) -> bool:
        """Tell whether the owner has chosen a password (an invitee has not yet)."""
        return not self.password_hash.startswith(UNUSABLE_PASSWORD_PREFIX)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sessions of deactivated users
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class ApiToken(Model):
    """A bearer token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user = relationship("User", lazy="joined")
