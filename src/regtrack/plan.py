"""The writes one document calls for, decided before any SQL runs. Pure.

As reader's `make_intents` before its storage runs them: `plan` turns detection (what changed)
and what was known into a `WritePlan`, the record states to insert or update, the records that
vanished, and each event as the row the database takes. Which brand an event is about, which
record's product it belongs to, its digest, its page: decided here. The store's writer then
only resolves names to product ids and executes the statements.

One shape per event from the rules to the database: a column of the `event` table is filled
from the `EventDraft` field of the same name, unless the document's context (`Where`) or
`DERIVED` gives it. A new event field is a field of `EventDraft`, a column of `Event`, and a
numbered migration; nothing here names it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import operator
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .detect import Detection, Known, fingerprint
from .model import Event, EventDraft, NameKind, ProductName
from .names import clean_name, clean_text


@dataclass(frozen=True, slots=True)
class Where:
    """The document every row of a plan comes from."""

    source: str
    agency: str
    snapshot_id: int
    url: str
    detected_at: dt.datetime


@dataclass(frozen=True, slots=True)
class RecordWrite:
    """A record's new state. `product` is its known product id, or None for a new record,
    whose product the writer resolves from `names`."""

    reference: str
    names: tuple[ProductName, ...]
    fields: dict[str, Any]
    digest: str
    product: int | None


@dataclass(slots=True)
class WritePlan:
    """What one document's transaction writes (see the module docstring)."""

    where: Where
    records: list[RecordWrite] = field(default_factory=list)
    vanished: list[str] = field(default_factory=list)
    #: Each event with whether it is history (backfill), its brand and its page.
    events: list[tuple[EventDraft, bool]] = field(default_factory=list)
    brands: list[str | None] = field(default_factory=list)
    links: list[str | None] = field(default_factory=list)
    #: Whose product each event is: an index into `names` (resolved by the writer), or a
    #: known product id as -1 - id (never a valid index).
    owners: list[int] = field(default_factory=list)
    names: list[tuple[ProductName, ...]] = field(default_factory=list)

    def event_rows(self, products: Sequence[int]) -> Iterator[tuple[Any, ...]]:
        """The events as rows in `EVENT_COLUMNS` order, given the product id of each entry
        of `names`: built as the database takes them (a register's first poll has 165,000)."""
        w = self.where
        context = (w.agency, w.source, w.url, w.detected_at, w.snapshot_id)
        for (draft, backfill), brand, link, owner in zip(
            self.events, self.brands, self.links, self.owners, strict=True
        ):
            product = products[owner] if owner >= 0 else -1 - owner
            yield (*context, backfill, brand, link, product, *_derived(draft), *_plain(draft))


def brand_of(names: Sequence[ProductName]) -> str | None:
    """The first brand name among a record's names."""
    return next((clean_name(n.name) for n in names if n.kind == NameKind.BRAND), None)


def plan(
    detection: Detection,
    known: Mapping[str, Known],
    where: Where,
    *,
    links: Mapping[str, str | None] | None = None,
    digests: Mapping[str, str] | None = None,
    parsed: Mapping[str, object] | None = None,
) -> WritePlan:
    """The writes of one document. `digests` are the fingerprints taken at parse time of the
    observations in `parsed` (by reference), reused for records detection did not merge."""
    out = WritePlan(where)
    owner_of: dict[str, int] = {}  # record -> its owner in `owners`' terms
    record_names: dict[str, tuple[ProductName, ...]] = {}
    for obs in detection.upserts:
        reused = digests.get(obs.reference) if digests and parsed and (
            parsed.get(obs.reference) is obs) else None  # fmt: skip
        before = known.get(obs.reference)
        pid = before.product_id if before is not None else None
        out.records.append(RecordWrite(
            obs.reference, obs.names, obs.fields, reused or fingerprint(obs.fields), pid
        ))  # fmt: skip
        if pid is None:
            owner_of[obs.reference] = len(out.names)
            out.names.append(obs.names)
        else:
            owner_of[obs.reference] = -1 - pid
        record_names[obs.reference] = obs.names
    for ref, k in known.items():
        if ref not in owner_of and k.product_id is not None:
            owner_of[ref] = -1 - k.product_id
    record_brand = {ref: brand_of(names) for ref, names in record_names.items()}
    own: dict[tuple[ProductName, ...], int] = {}  # a draft's own names -> their entry
    linked = links or {}
    for draft, backfill in detection.events:
        record = draft.record or draft.reference
        names = record_names.get(record)
        brand = record_brand.get(record)
        if not draft.names or (draft.names is names and owner_of[record] >= 0):
            # The record's own product (a new record's names are resolved once for all).
            owner = owner_of[record]
        else:
            # Names to resolve (a product of a multi-product record; a known record's names,
            # which may bring a new alias): once per distinct tuple of names.
            if draft.names not in own:
                own[draft.names] = len(out.names)
                out.names.append(draft.names)
            owner = own[draft.names]
            if draft.names is not names:
                brand = brand_of(draft.names) or brand
        out.events.append((draft, backfill))
        out.owners.append(owner)
        out.brands.append(brand)
        out.links.append(linked.get(record))
    out.vanished = list(detection.vanished)
    return out


# --- the one mapping from a draft to a row ----------------------------------------------------

#: Columns the document's context fills, in `WritePlan.event_rows`' order.
CONTEXT = ("agency", "source", "source_url", "detected_at", "snapshot_id",
           "backfill", "brand", "link", "product_id")  # fmt: skip

#: Columns computed from a draft rather than copied from the field of the same name, in
#: `_derived`'s order.
DERIVED = ("kind", "date_kind", "discriminator", "evidence")


def _derived(d: EventDraft) -> tuple[Any, ...]:
    return d.kind.value, d.date_kind.value, d.key, clean_text(d.evidence)


_TABLE = [c.name for c in Event.__table__.columns if c.name != "id"]  # type: ignore[attr-defined]
_DRAFT = {f.name for f in dataclasses.fields(EventDraft)}
_PLAIN_NAMES = tuple(c for c in _TABLE if c not in CONTEXT and c not in DERIVED)
_missing = [c for c in _PLAIN_NAMES if c not in _DRAFT]
if _missing:  # pragma: no cover - a column added to Event with nothing to fill it
    raise TypeError(f"event columns with no EventDraft field of that name: {_missing}")

#: The event table's columns in the order `event_rows` builds them.
EVENT_COLUMNS = CONTEXT + DERIVED + _PLAIN_NAMES
_PLAIN_GET = operator.attrgetter(*_PLAIN_NAMES)


def _plain(draft: EventDraft) -> tuple[Any, ...]:
    got = _PLAIN_GET(draft)
    return got if isinstance(got, tuple) else (got,)


def as_row(values: Sequence[Any]) -> dict[str, Any]:
    """A row of `event_rows` by column name (what `detect.refine` compares)."""
    return dict(zip(EVENT_COLUMNS, values, strict=True))
