"""The holiday calendar: days the city's offices are closed, skipped by business-day SLAs."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model


class Holiday(Model):
    __tablename__ = "holidays"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: a calendar day in the city's timezone
    day: Mapped[date] = mapped_column(Date, unique=True)
    name: Mapped[str] = mapped_column(String(200))

    def __repr__(self) -> str:
        return f"<Holiday {self.day} {self.name}>"
