"""The service catalogue, service requests and their append-only event history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    func,
    literal,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from app.core.clock import utcnow
from app.core.models import created_at_column, enum_check
from app.extensions import Model
from app.requests.routing_models import RoutingRule as RoutingRule  # noqa: F401 (re-export)
from app.sla.calendar import SLA_UNITS

#: the longest description, note or closure text a person may write
MAX_TEXT = 4000

STATUSES = ("new", "acknowledged", "assigned", "in_progress", "on_hold", "closed")
OPEN_STATUSES = STATUSES[:-1]
CLOSURE_REASONS = ("fixed", "no_action_needed", "duplicate", "referred", "could_not_locate")
#: how a request reached the city. Imports map a city's own words onto these (app/imports);
#: "import" is history whose export did not say, "staff" what an employee logged while out.
CHANNELS = (
    "web",
    "phone",
    "api",
    "mobile",
    "open311",
    "import",
    "email",
    "social",
    "staff",
    "walk_in",
    "other",
)
#: the channels a call-taker records a request from, as the call form offers them
AGENT_CHANNELS = {
    "phone": "Phone call",
    "walk_in": "Walk-in",
    "email": "Email",
    "social": "Social media",
}
EVENT_KINDS = (
    "created",
    "routed",
    "acknowledged",
    "assigned",
    "status_changed",
    "note",
    "reopened",
    "merged",
    "closed",
    "transferred",
    "held",
    "resumed",
)
#: why a request waits; the SLA clock stops while it does
HOLD_REASONS = ("waiting_on_resident", "other_agency", "materials", "weather", "other")
#: how a subscriber came to follow a request
SUBSCRIPTION_SOURCES = ("duplicate", "follow")
#: how the reporter asked to hear about the request: by email, text message, both or not
NOTIFY_CHOICES = ("email", "sms", "both", "none")


class ServiceType(Model):
    __tablename__ = "service_types"
    __table_args__ = (
        CheckConstraint(enum_check("sla_unit", SLA_UNITS), name="sla_unit"),
        CheckConstraint("sla_value > 0", name="sla_value_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: a grouping shown to residents ("Streets", "Sanitation", …)
    group: Mapped[str] = mapped_column(String(100), default="", server_default="")
    keywords: Mapped[str] = mapped_column(String(400), default="", server_default="")
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    #: SLA target: `sla_value` calendar hours, or `sla_value` business days (Mon–Fri)
    sla_value: Mapped[int] = mapped_column(Integer)
    sla_unit: Mapped[str] = mapped_column(String(20), default="hours", server_default="hours")
    #: questions asked for this type: [{code, label, datatype, required, order, values}]
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, default=list, server_default=text("'[]'::jsonb")
    )
    #: crews must attach a photo to close work on this type
    completion_photo_required: Mapped[bool] = mapped_column(default=True, server_default="true")
    #: "Other / not sure": requests land in the 311 triage queue for an agent to recategorise
    triage: Mapped[bool] = mapped_column(default=False, server_default="false")
    active: Mapped[bool] = mapped_column(default=True, server_default="true")
    #: offered to residents and Open311 clients; internal types are for staff and imports
    public: Mapped[bool] = mapped_column(default=True, server_default="true")
    #: its locations are generalised (snapped to a grid) in everything published
    sensitive: Mapped[bool] = mapped_column(default=False, server_default="false")
    #: when set, residents are told this ("call 911") instead of being offered a form
    emergency_notice: Mapped[str] = mapped_column(Text, default="", server_default="")

    department = relationship("Department", lazy="joined")

    def __repr__(self) -> str:
        return f"<ServiceType {self.code}>"


class ServiceRequest(Model):
    __tablename__ = "service_requests"
    __table_args__ = (
        CheckConstraint(enum_check("status", STATUSES), name="status"),
        CheckConstraint(enum_check("channel", CHANNELS), name="channel"),
        CheckConstraint(
            f"closure_reason IS NULL OR {enum_check('closure_reason', CLOSURE_REASONS)}",
            name="closure_reason",
        ),
        CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name="closed_has_time"),
        CheckConstraint("(status = 'on_hold') = (held_since IS NOT NULL)", name="hold_has_time"),
        CheckConstraint(
            f"hold_reason IS NULL OR {enum_check('hold_reason', HOLD_REASONS)}", name="hold_reason"
        ),
        CheckConstraint("held_seconds >= 0", name="held_seconds_positive"),
        # history may have no usable location ("location unknown"); a live request always has
        CheckConstraint(
            "location IS NOT NULL OR import_source IS NOT NULL", name="location_unless_imported"
        ),
        CheckConstraint(
            "external_id IS NULL OR import_source IS NOT NULL", name="external_id_has_source"
        ),
        # the city's own case number: importing the same export twice adds nothing
        UniqueConstraint("import_source", "external_id", name="uq_service_requests_external_id"),
        CheckConstraint(enum_check("notify", NOTIFY_CHOICES), name="notify"),
        # the dispatcher queue: open requests of a department, most overdue first
        Index(
            "ix_service_requests_open_queue",
            "department_id",
            "due_at",
            # the queue counts its imported requests apart: from the index alone
            postgresql_include=["import_source"],
            postgresql_where=text("status <> 'closed'"),
        ),
        Index("ix_service_requests_requested_at", "requested_at"),
        Index("ix_service_requests_updated_at", "updated_at"),
        # the metrics rollups recompute a day's closures from it
        Index("ix_service_requests_closed_at", "closed_at"),
        # the metrics backlog: every open request's age, due time and dimensions from the
        # index alone, and the map's most overdue first
        Index(
            "ix_service_requests_open_metrics",
            "due_at",
            postgresql_include=[
                "department_id",
                "service_type_id",
                "district_id",
                "channel",
                "requested_at",
            ],
            postgresql_where=text("status <> 'closed'"),
        ),
        # a service type's closures in a range: the metrics' exact percentiles of a type
        # read them without walking every closure of the range (or every request of the type)
        Index("ix_service_requests_service_type_id_closed_at", "service_type_id", "closed_at"),
        # the metrics backlog's young requests by age, counted from the index alone (the
        # old ones come from metrics_open_counts, which triggers keep in step)
        Index(
            "ix_service_requests_open_requested",
            "requested_at",
            postgresql_include=[
                "due_at",
                "department_id",
                "service_type_id",
                "district_id",
                "channel",
            ],
            postgresql_where=text("status <> 'closed'"),
        ),
        # Open311's open requests of a type, newest first; the likely duplicates of a request
        # (open, same type, reported within the window: app/requests/duplicates.py)
        Index(
            "ix_service_requests_open_type_requested",
            "service_type_id",
            "requested_at",
            postgresql_where=text("status <> 'closed'"),
        ),
    )

    #: the public request number (Open311 service_request_id)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    service_type_id: Mapped[int] = mapped_column(ForeignKey("service_types.id"))
    #: copied from the service type at routing time, so re-homing a type keeps history true
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    #: NULL only for imported history whose export had no usable point (see the check)
    location = mapped_column(Geometry("POINT", srid=4326, spatial_index=True), nullable=True)
    address: Mapped[str] = mapped_column(String(400), default="", server_default="")
    #: the city gazetteer's id of the address, when the location came from it
    address_id: Mapped[str] = mapped_column(String(100), default="", server_default="")
    status: Mapped[str] = mapped_column(String(20), default="new", server_default="new")
    channel: Mapped[str] = mapped_column(String(20))
    #: private: never in public pages, the Open311 feed or open data
    reporter_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    reporter_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    reporter_phone: Mapped[str] = mapped_column(String(40), default="", server_default="")
    #: the channels the reporter chose for news (NOTIFY_CHOICES); texts go to reporter_phone
    notify: Mapped[str] = mapped_column(String(10), default="email", server_default="email")
    #: the language of the reporter's messages (app/requests/words.py LANGUAGES)
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    #: private identifiers an Open311 client app sends for its user
    reporter_device_id: Mapped[str] = mapped_column(String(200), default="", server_default="")
    reporter_account_id: Mapped[str] = mapped_column(String(200), default="", server_default="")
    #: public: a photo URL the client supplied (Open311 media_url) instead of an upload
    media_url: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: staff only: the message the request came from (a social media post, an email
    #: archive link), so staff can answer the resident where they wrote
    source_url: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: answers to the service type's questions, keyed by attribute code
    attributes: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )
    requested_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closure_reason: Mapped[str | None] = mapped_column(String(30))
    #: public text shown with the closure ("Crew filled the pothole")
    closure_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()")
    )
    #: the agent who keyed a phone request
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: set when this request was merged into another as a duplicate
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("service_requests.id"), index=True)
    #: the crew a routing rule proposes; dispatch starts from it
    crew_id: Mapped[int | None] = mapped_column(ForeignKey("crews.id"))
    #: while on hold: since when and why (the SLA clock is stopped)
    held_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hold_reason: Mapped[str | None] = mapped_column(String(30))
    #: the time spent on hold, summed over every hold; due_at already moved by it
    held_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: imported history: the system it came from ("boston", "nyc", …) and its case number there
    import_source: Mapped[str | None] = mapped_column(String(20))
    external_id: Mapped[str | None] = mapped_column(String(100))
    #: when the retention purge last removed the reporter's personal data (see app/privacy)
    personal_data_purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    service_type = relationship("ServiceType", lazy="joined")
    department = relationship("Department", lazy="joined")
    district = relationship("District", lazy="joined")
    events = relationship(
        "RequestEvent", order_by="RequestEvent.id", lazy="selectin", viewonly=True
    )

    @hybrid_property
    def is_open(self) -> bool:
        return self.status != "closed"

    @is_open.inplace.expression
    @classmethod
    def _is_open_expression(cls) -> ColumnElement[bool]:
        return cls.status != "closed"

    @hybrid_property
    def is_overdue(self) -> bool:
        """Open and past its due time: the one meaning of "overdue" everywhere."""
        return self.status != "closed" and self.due_at < utcnow()

    @is_overdue.inplace.expression
    @classmethod
    def _is_overdue_expression(cls) -> ColumnElement[bool]:
        return and_(cls.status != "closed", cls.due_at < func.now())

    @hybrid_property
    def is_imported(self) -> bool:
        """History brought in from another system, not a request made here."""
        return self.import_source is not None

    @is_imported.inplace.expression
    @classmethod
    def _is_imported_expression(cls) -> ColumnElement[bool]:
        return cls.import_source.is_not(None)

    def __repr__(self) -> str:
        return f"<ServiceRequest {self.id} {self.status}>"


#: staff search finds a phone number by its last digits; the index keeps this many
PHONE_KEY_DIGITS = 7


def _inline(value: Any) -> Any:
    # written into the SQL rather than sent as a parameter, so that the planner sees the very
    # expression the index was built on, in every plan (a generic plan too)
    return literal(value, literal_execute=True)


def phone_key(phone: Any) -> Any:
    """The last PHONE_KEY_DIGITS digits of a phone number (a column or a value), as indexed."""
    digits = func.regexp_replace(phone, _inline(r"\D"), _inline(""), _inline("g"))
    return func.right(digits, _inline(PHONE_KEY_DIGITS))


# Staff search (app/requests/queries.py): a phone number by its last digits, an email whatever
# its case, words anywhere in the description or the address (pg_trgm, which the address
# search migration installed). Without them each search reads the whole table.
Index("ix_service_requests_phone_key", phone_key(ServiceRequest.reporter_phone))
Index("ix_service_requests_email_lower", func.lower(ServiceRequest.reporter_email))
Index(
    "ix_service_requests_description_trgm",
    ServiceRequest.description,
    postgresql_using="gin",
    postgresql_ops={"description": "gin_trgm_ops"},
)
Index(
    "ix_service_requests_address_trgm",
    ServiceRequest.address,
    postgresql_using="gin",
    postgresql_ops={"address": "gin_trgm_ops"},
)
# Open311 GET requests of one service code, newest first, without reading the type's history
Index(
    "ix_service_requests_service_type_id_requested_at",
    ServiceRequest.service_type_id,
    ServiceRequest.requested_at,
)


class RequestEvent(Model):
    """Append-only history of a request: the source of truth for KPIs and audit."""

    __tablename__ = "request_events"
    __table_args__ = (
        CheckConstraint(enum_check("kind", EVENT_KINDS), name="kind"),
        Index("ix_request_events_request_id_id", "request_id", "id"),
        Index("ix_request_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: public events and notes are shown to residents; internal ones only to staff
    public: Mapped[bool] = mapped_column(default=True, server_default="true")
    data: Mapped[dict[str, Any]] = mapped_column(
        JSONB, default=dict, server_default=text("'{}'::jsonb")
    )

    actor = relationship("User", lazy="joined")

    def __repr__(self) -> str:
        return f"<RequestEvent {self.request_id} {self.kind}>"


class RequestSubscriber(Model):
    """Someone besides the reporter who is told when a request closes (a duplicate's reporter)."""

    __tablename__ = "request_subscribers"
    __table_args__ = (
        UniqueConstraint("request_id", "email", name="uq_request_subscribers_request_id_email"),
        CheckConstraint(enum_check("source", SUBSCRIPTION_SOURCES), name="source"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id", ondelete="CASCADE"))
    #: private, like the reporter's own contact
    email: Mapped[str] = mapped_column(String(254))
    source: Mapped[str] = mapped_column(String(20))
    #: the language of this person's messages
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    #: the request whose reporter this is, for a merged duplicate
    from_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_requests.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = created_at_column()
