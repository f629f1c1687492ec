"""The city gazetteer: turn an address id or a typed address into a point."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, exists, func, select, text

from app.extensions import db
from app.geo.models import Address

_NOT_WORD = re.compile(r"[^\w]+")


def normalize_address(text: str) -> str:
    """Return the matching form of an address: lower case, words separated by one space."""
    return _NOT_WORD.sub(" ", (text or "").lower()).strip()


@dataclass(frozen=True)
class Located:
    address_id: str
    address: str
    lat: float
    long: float


def has_gazetteer() -> bool:
    """Tell whether the city has loaded any addresses."""
    return bool(db.session.scalar(select(exists().where(Address.id.isnot(None)))))


def _located(stmt: Select[Any]) -> Located | None:
    row = db.session.execute(
        stmt.with_only_columns(
            Address.address_id, Address.address, func.ST_Y(Address.geom), func.ST_X(Address.geom)
        ).limit(1)
    ).one_or_none()
    return Located(*row) if row else None


def find_by_id(address_id: str) -> Located | None:
    """Return the gazetteer address with this id, or None."""
    return _located(select(Address).where(Address.address_id == address_id.strip()))


def find_by_text(address: str) -> Located | None:
    """Return the gazetteer address a typed address names, or None.

    Addresses come "from most specific to most general" ("12 Main St, Riverton, 02100"), so
    the whole text and its first comma-separated part are both tried, longest first.
    """
    candidates = {normalize_address(address), normalize_address(address.split(",")[0])}
    candidates.discard("")
    if not candidates:
        return None
    return _located(
        select(Address)
        .where(Address.normalized.in_(candidates))
        .order_by(func.length(Address.normalized).desc(), Address.id)
    )


def add_address(address_id: str, address: str, lat: float, long: float) -> Address:
    """Add or replace one gazetteer entry (flushed, not committed)."""
    row = db.session.scalar(select(Address).where(Address.address_id == address_id))
    if row is None:
        row = Address(address_id=address_id)
        db.session.add(row)
    row.address = address.strip()
    row.normalized = normalize_address(address)
    row.geom = func.ST_SetSRID(func.ST_MakePoint(long, lat), 4326)
    db.session.flush()
    return row


_UPSERT = text(
    """
    INSERT INTO addresses (address_id, address, normalized, geom)
    VALUES (:address_id, :address, :normalized, ST_SetSRID(ST_MakePoint(:long, :lat), 4326))
    ON CONFLICT (address_id) DO UPDATE
    SET address = EXCLUDED.address, normalized = EXCLUDED.normalized, geom = EXCLUDED.geom
    """
)


def load_addresses(entries: list[Located]) -> int:
    """Add or replace many gazetteer entries in one statement batch; return how many."""
    if not entries:
        return 0
    db.session.execute(
        _UPSERT,
        [
            {
                "address_id": e.address_id,
                "address": e.address,
                "normalized": normalize_address(e.address),
                "lat": e.lat,
                "long": e.long,
            }
            for e in entries
        ],
    )
    return len(entries)


@dataclass(frozen=True)
class Crossing:
    """Where two named streets meet."""

    street_a: str
    street_b: str
    lat: float
    long: float


_UPSERT_CROSSING = text(
    """
    INSERT INTO intersections (street_a, street_b, normalized_a, normalized_b, geom)
    VALUES (:street_a, :street_b, :normalized_a, :normalized_b,
            ST_SetSRID(ST_MakePoint(:long, :lat), 4326))
    ON CONFLICT (normalized_a, normalized_b) DO UPDATE
    SET street_a = EXCLUDED.street_a, street_b = EXCLUDED.street_b, geom = EXCLUDED.geom
    """
)


def load_intersections(entries: list[Crossing]) -> int:
    """Add or replace intersections (one per pair of streets, either order); return how many.

    The pair is stored in alphabetical order of its matching forms, so "Main St & Broad St"
    and "Broad St & Main St" are one row.
    """
    rows = []
    for e in entries:
        pair = sorted(
            [
                (normalize_address(e.street_a), e.street_a.strip()),
                (normalize_address(e.street_b), e.street_b.strip()),
            ]
        )
        rows.append(
            {
                "street_a": pair[0][1][:200],
                "street_b": pair[1][1][:200],
                "normalized_a": pair[0][0][:200],
                "normalized_b": pair[1][0][:200],
                "lat": e.lat,
                "long": e.long,
            }
        )
    if rows:
        db.session.execute(_UPSERT_CROSSING, rows)
    return len(rows)
