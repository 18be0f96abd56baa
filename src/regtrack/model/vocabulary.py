"""The vocabulary every source shares: bodies, event kinds, states, observations and event
drafts, as plain enums and dataclasses (no SQL)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Agency(StrEnum):
    EMA = "EMA"
    MHRA = "MHRA"
    FDA = "FDA"
    NICE = "NICE"
    SMC = "SMC"


class EventKind(StrEnum):
    UNDER_EVALUATION = "under_evaluation"
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
    HTA_STAGE = "hta_stage"
    HTA_ANNOUNCED = "hta_announced"
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
        EventKind.HTA_STAGE,
    }
)

#: How each kind reads to a person (timeline, digests).
KIND_WORDS: dict[EventKind, str] = {
    EventKind.UNDER_EVALUATION: "under evaluation",
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
    EventKind.HTA_STAGE: "HTA stage",
    EventKind.HTA_ANNOUNCED: "HTA decision announced",
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
    "available_pending_reassessment": "available (ultra-orphan) pending reassessment",
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


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A composed message, as the outbox stores it until it is sent."""

    message_id: str
    purpose: str  # digest, tracking, operator, document
    recipient: str  # an address, or "channel:<Apprise URL>"
    subject: str
    content: bytes
