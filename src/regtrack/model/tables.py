"""The SQL tables (SQLModel): what the store keeps. No queries here (all SQL is `store`'s)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from .vocabulary import OutboxState, utcnow


class Product(SQLModel, table=True):
    """A medicine as regtrack joins it across bodies; named by its INN where known."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    created_at: dt.datetime = Field(default_factory=utcnow)


class Alias(SQLModel, table=True):
    """One name of a product (brand per region, INN, code); `norm` makes matching forgiving."""

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    name: str
    norm: str = Field(unique=True, index=True)
    kind: str
    region: str | None = None
    origin: str = "config"


class Blob(SQLModel, table=True):
    """The bytes of a document, stored once per distinct SHA-256, zlib-compressed."""

    sha256: str = Field(primary_key=True, max_length=64)
    size: int
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Snapshot(SQLModel, table=True):
    """One document fetched or replayed, with what the server said about it."""

    # A poll reads each feed's latest snapshot: (source, url) then the newest id.
    __table_args__ = (Index("ix_snapshot_source_url", "source", "url", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str
    url: str
    fetched_at: dt.datetime = Field(default_factory=utcnow)
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    sha256: str = Field(foreign_key="blob.sha256", max_length=64)
    size: int
    replayed_from: str | None = None
    document_kind: str | None = None
    generated_at: dt.datetime | None = None
    #: None until parsed; then True, or False with the reason in parse_error.
    parse_ok: bool | None = None
    parse_error: str | None = None


class RecordState(SQLModel, table=True):
    """What regtrack last knew of one record at one source (the EMA row of one product)."""

    __table_args__ = (UniqueConstraint("source", "reference"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str  # served by the unique (source, reference) index
    reference: str
    product_id: int = Field(foreign_key="product.id", index=True)
    fields: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    #: `detect.fingerprint(fields)`: lets a poll skip reading unchanged records back.
    digest: str = ""
    present: bool = True
    first_seen_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)
    snapshot_id: int | None = Field(default=None, foreign_key="snapshot.id")


class EventBase(SQLModel):
    """The fields of an event that every output (CLI, digest, JSON) shows."""

    agency: str  # served by the unique (agency, reference, discriminator) index
    kind: str = Field(index=True)
    reference: str
    #: The medicine as marketed (Humira, Trudexa), when the document names it: a substance
    #: (the product) groups several brands, each with its own authorisation and status.
    brand: str | None = None
    discriminator: str = ""
    event_date: dt.date | None = Field(default=None, index=True)
    date_kind: str
    date_approximate: bool = False
    published_at: dt.date | None = None
    #: Not indexed: the feed's newest 200 are a top-N sort, and an index on it cost a tenth
    #: of writing a register.
    detected_at: dt.datetime = Field(default_factory=utcnow)
    source: str
    source_url: str
    #: The most specific public page of what the event is about (the EPAR page, the Union
    #: Register page that dated it, the NICE or SMC page, the Drugs@FDA application page);
    #: the feed it was read from stays in source_url.
    link: str | None = None
    evidence: str
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    backfill: bool = False


class Event(EventBase, table=True):
    """A dated fact; its natural key (agency, reference, discriminator) makes re-polling,
    restarts and reparses unable to store it twice, and lets a more precise report of the
    same event (an exact date, a more specific kind) refine it instead of adding another."""

    __table_args__ = (
        UniqueConstraint("agency", "reference", "discriminator"),
        # A product's events, and which bodies know it (status and lag's default) read from
        # the index alone.
        Index("ix_event_product_agency", "product_id", "agency"),
    )

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id")  # served by ix_event_product_agency
    snapshot_id: int | None = Field(default=None, foreign_key="snapshot.id")


class SourceHealth(SQLModel, table=True):
    """Per source: how its last attempts went and how old its document is."""

    source: str = Field(primary_key=True)
    healthy: bool = True
    last_attempt_at: dt.datetime | None = None
    last_success_at: dt.datetime | None = None
    last_change_at: dt.datetime | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    parse_health: str | None = None
    document_generated_at: dt.datetime | None = None
    records: int | None = None
    #: Feeds skipped on purpose, and why (a feed that needs a key nobody configured).
    notes: str | None = None


class DigestRun(SQLModel, table=True):
    """One digest window composed (immediate, daily or weekly); a missed window is caught up."""

    __table_args__ = (UniqueConstraint("frequency", "window_end"),)

    id: int | None = Field(default=None, primary_key=True)
    frequency: str
    window_start: dt.datetime
    window_end: dt.datetime
    messages: int = 0
    composed_at: dt.datetime = Field(default_factory=utcnow)


class OutboxMessage(SQLModel, table=True):
    """A composed email: stored before it is sent, marked sent only once the server took it.

    States: pending -> claimed (just before handing it over) -> sent; failed after the last
    attempt. A message left claimed by a crash is "uncertain": it may have been delivered.
    """

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(unique=True, index=True)
    purpose: str  # digest, operator, tracking
    recipient: str
    subject: str
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    state: str = Field(default=OutboxState.PENDING.value, index=True)
    created_at: dt.datetime = Field(default_factory=utcnow)
    claimed_at: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    attempts: int = 0
    next_attempt_at: dt.datetime = Field(default_factory=utcnow)
    last_error: str | None = None


class OperatorState(SQLModel, table=True):
    """Whether one operator condition (a source failing, stale, …) is on; alerts are sent on
    changes only, so nothing is repeated while it stays the same."""

    __table_args__ = (UniqueConstraint("source", "condition"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str
    condition: str
    active: bool = False
    detail: str | None = None
    since: dt.datetime = Field(default_factory=utcnow)


class TrackingNotice(SQLModel, table=True):
    """A "now tracking" summary sent to one person for one product: sent once."""

    __table_args__ = (UniqueConstraint("recipient", "product_id"),)

    id: int | None = Field(default=None, primary_key=True)
    recipient: str
    product_id: int = Field(foreign_key="product.id")
    sent_at: dt.datetime = Field(default_factory=utcnow)


class Notified(SQLModel, table=True):
    """An event already gone out at one frequency (or to the operator): a poll that commits
    late is still caught by the next window, and nothing goes out twice."""

    __table_args__ = (UniqueConstraint("frequency", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    frequency: str
    event_id: int = Field(foreign_key="event.id", index=True)


class DocumentCheck(SQLModel, table=True):
    """A watched document as last checked (by the daemon's watch round): what the web page
    shows, so that a GET never fetches anything."""

    where: str = Field(primary_key=True)
    checked_at: dt.datetime
    error: str | None = None
    #: Its claims as shown: sentence, agency, claim, verdict, since (ISO text).
    claims: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )


class JobState(SQLModel, table=True):
    """One scheduled job (a source's feed, a digest): when it last ran, where, and its lease,
    so that several servers sharing a database run each job on one of them only."""

    name: str = Field(primary_key=True)
    last_start: dt.datetime | None = None
    last_end: dt.datetime | None = None
    last_status: str | None = None
    owner: str | None = None
    lease_until: dt.datetime | None = None
