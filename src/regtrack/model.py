"""The vocabulary and tables every source shares: enums, observations, event drafts, SQL tables.

Pure data: no I/O and no queries here (all SQL lives in `store`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel


class Agency(StrEnum):
    EMA = "EMA"
    MHRA = "MHRA"
    FDA = "FDA"
    NICE = "NICE"
    SMC = "SMC"


class EventKind(StrEnum):
    OPINION = "opinion"
    AUTHORISATION = "authorisation"
    TENTATIVE_APPROVAL = "tentative_approval"
    INDICATION_EXTENSION = "indication_extension"
    VARIATION = "variation"
    CONVERSION_TO_FULL = "conversion_to_full"
    REFUSAL = "refusal"
    APPLICATION_WITHDRAWN = "application_withdrawn"
    SUSPENSION = "suspension"
    WITHDRAWAL = "withdrawal"
    HTA_DECISION = "hta_decision"
    HTA_UPDATE = "hta_update"
    HTA_STATUS = "hta_status"
    EXPECTED_DATE = "expected_date"
    RECORD_REMOVED = "record_removed"


#: Kinds that change the answer to "what is this authorisation's (or appraisal's) status now?".
#: Seen for the first time on a record already known, such an event is news whatever its date:
#: a body that publishes a withdrawal months late has still changed what the ledger says now.
STATUS_CHANGES = frozenset(
    {
        EventKind.OPINION,
        EventKind.AUTHORISATION,
        EventKind.TENTATIVE_APPROVAL,
        EventKind.CONVERSION_TO_FULL,
        EventKind.REFUSAL,
        EventKind.APPLICATION_WITHDRAWN,
        EventKind.SUSPENSION,
        EventKind.WITHDRAWAL,
        EventKind.HTA_DECISION,
        EventKind.HTA_STATUS,
    }
)

#: How each kind reads to a person (timeline, digests).
KIND_WORDS: dict[EventKind, str] = {
    EventKind.OPINION: "opinion",
    EventKind.AUTHORISATION: "authorisation",
    EventKind.TENTATIVE_APPROVAL: "tentative approval",
    EventKind.INDICATION_EXTENSION: "extension of indication",
    EventKind.VARIATION: "variation",
    EventKind.CONVERSION_TO_FULL: "conversion to full authorisation",
    EventKind.REFUSAL: "refusal",
    EventKind.APPLICATION_WITHDRAWN: "application withdrawn",
    EventKind.SUSPENSION: "suspension",
    EventKind.WITHDRAWAL: "end of authorisation",
    EventKind.HTA_DECISION: "HTA decision",
    EventKind.HTA_UPDATE: "HTA guidance updated",
    EventKind.HTA_STATUS: "HTA status change",
    EventKind.EXPECTED_DATE: "expected decision date",
    EventKind.RECORD_REMOVED: "record removed from register (for review)",
}


#: Field a source sets on a record known only from partial documents (an API answer), so
#: that its absence from the complete register is not read as a removal.
PARTIAL = "partial_only"


#: HTA outcomes in plain words.
OUTCOME_WORDS = {
    "recommended": "recommended",
    "recommended_restricted": "recommended with restrictions",
    "not_recommended": "not recommended",
    "research_only": "only in research",
    "cancer_drugs_fund": "Cancer Drugs Fund",
    "terminated": "terminated (no recommendation)",
    "accepted": "accepted",
    "interim": "accepted on an interim basis",
}


class OutboxState(StrEnum):
    """Where a composed message is: pending -> claimed (just before handing it over) -> sent;
    failed after its last attempt. Left claimed by a crash, it is uncertain."""

    PENDING = "pending"
    CLAIMED = "claimed"
    FAILED = "failed"
    SENT = "sent"


class JobOutcome(StrEnum):
    """How a scheduled job's last run ended."""

    OK = "ok"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


class DateKind(StrEnum):
    DECISION = "decision"
    OPINION = "opinion"
    PUBLICATION = "publication"
    DETECTED = "detected"


class NameKind(StrEnum):
    INN = "inn"
    BRAND = "brand"
    SUBSTANCE = "substance"
    CODE = "code"
    CANONICAL = "canonical"


# --- what parsers and detection pass around (plain data, never stored as is) -------------


@dataclass(frozen=True, slots=True)
class ProductName:
    """One name a record gives its product, e.g. ('Nexpovio', brand, 'EU')."""

    name: str
    kind: NameKind
    region: str | None = None


@dataclass(frozen=True, slots=True)
class Observation:
    """The normalised record one source extracted for one product at one agency."""

    reference: str
    names: tuple[ProductName, ...]
    #: JSON-ready values only (dates as ISO text), so they compare equal after storage.
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EventDraft:
    """An event as detection produces it, before the store gives it a product and an id."""

    kind: EventKind
    reference: str
    names: tuple[ProductName, ...]
    event_date: dt.date | None
    date_kind: DateKind
    evidence: str
    details: dict[str, Any] = field(default_factory=dict)
    date_approximate: bool = False
    published_at: dt.date | None = None
    #: With agency and reference, the natural key: what makes this event one of its own for
    #: the reference (a submission "SUPPL-12", a procedure "II/0009", "opinion 2021-01-28").
    #: Empty means the kind's own name: one such event per reference.
    discriminator: str = ""
    #: The state record the event belongs to, when it differs from `reference`.
    record: str | None = None
    #: The source knows this is the past first seen (a register page read for the first time),
    #: not news, even outside a first poll.
    history: bool = False

    @property
    def key(self) -> str:
        return self.discriminator or self.kind.value


@dataclass(frozen=True, slots=True)
class Link:
    """A URL a document names that the poll may fetch next; the one policy deciding which
    links are followed is `follow.followed`."""

    url: str
    #: The kind of document it leads to: that decides its parser.
    kind: str
    #: The record it is the page of; None for more of this document (its next page, the
    #: files a publication lists), which is read with the document's own feed settings.
    reference: str | None = None
    #: Followed whenever the document is read (an API's next page, a publication's files,
    #: an EPAR page's Union Register page), not only while it has news.
    always: bool = False


@dataclass(frozen=True, slots=True)
class ParseResult:
    """What a parser returns: the observations and facts about the document itself."""

    observations: list[Observation]
    document_kind: str
    generated_at: dt.datetime | None = None
    #: True when the document lists the whole register, so a missing record means "vanished".
    complete: bool = True
    #: The URLs the document names that regtrack may read next (pages, records' pages).
    links: list[Link] = field(default_factory=list)


# --- tables -------------------------------------------------------------------------------


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


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

    __table_args__ = (UniqueConstraint("agency", "reference", "discriminator"),)

    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="product.id", index=True)
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


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A composed message, as the outbox stores it until it is sent."""

    message_id: str
    purpose: str  # digest, tracking, operator, document
    recipient: str  # an address, or "channel:<Apprise URL>"
    subject: str
    content: bytes


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
