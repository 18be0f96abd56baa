"""The writes of one transaction: snapshots, record state, events, products, source health.

Bulk statements throughout (Core executemany, no per-row round trips): a whole register is
one document.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from ..config import ProductConfig
from ..detect import Known, refine
from ..model import (
    Blob,
    Event,
    EventDraft,
    NameKind,
    ParseResult,
    ProductName,
    RecordState,
    Snapshot,
)
from ..names import normalise
from ..plan import EVENT_COLUMNS, WritePlan, as_row
from .bulk import bulk_insert, indexes_rebuilt
from .jobs import JobWrites
from .outbox import OutboxWrites
from .products import CHUNK, Products
from .reader import Reader

_HAS_BLOB = select(Blob.sha256).where(Blob.sha256 == bindparam("sha"))
_ADD_BLOB = insert(Blob)
_ADD_SNAPSHOT = insert(Snapshot).returning(col(Snapshot.id))
_EVENT_KEYS = sa_select(col(Event.reference), col(Event.discriminator), col(Event.id)).where(
    col(Event.agency) == bindparam("agency"),
    col(Event.reference).in_(bindparam("refs", expanding=True)),
)
#: What `refine` compares of a stored event.
_REFINED = sa_select(
    *(col(getattr(Event, name)) for name in ("id", "kind", "event_date", "date_kind",
      "date_approximate", "details", "brand", "link", "evidence"))
).where(col(Event.id).in_(bindparam("ids", expanding=True)))  # fmt: skip
_NAMED_STATES = sa_select(
    col(RecordState.reference), col(RecordState.digest), col(RecordState.present),
    col(RecordState.product_id), col(RecordState.fields),
).where(
    col(RecordState.source) == bindparam("source"),
    col(RecordState.reference).in_(bindparam("refs", expanding=True)),
)  # fmt: skip


def _parsed(result: ParseResult | None, error: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {"parse_ok": error is None, "parse_error": error}
    if result is not None:
        values |= {"document_kind": result.document_kind, "generated_at": result.generated_at}
    return values


class Writer(Reader, OutboxWrites, JobWrites):
    """The writes of one transaction (see `Store.transaction`); it reads what it writes
    against inside the same transaction."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.products = Products(session)

    # --- snapshots ------------------------------------------------------------------------

    def add_snapshot(
        self,
        snapshot: Snapshot,
        content: bytes,
        *,
        result: ParseResult | None = None,
        error: str | None = None,
    ) -> Snapshot:
        """Store a document, with how it parsed when that is known (one row, not a row and
        then an update); its bytes once per distinct hash, compressed. Core statements built
        once: a poll stores a snapshot per page."""
        connection = self.session.connection()
        if connection.execute(_HAS_BLOB, {"sha": snapshot.sha256}).first() is None:
            compressed = zlib.compress(content, 6)
            connection.execute(
                _ADD_BLOB, {"sha256": snapshot.sha256, "size": len(content), "data": compressed}
            )
        values = snapshot.model_dump(exclude={"id"})
        if result is not None or error is not None:
            values |= _parsed(result, error)
        snapshot.id = connection.execute(_ADD_SNAPSHOT, values).scalar_one()
        return snapshot

    def mark_snapshot(
        self, snapshot_id: int, *, result: ParseResult | None = None, error: str | None = None
    ) -> None:
        """How a stored document parsed (a reparse reads it again)."""
        stmt = update(Snapshot).where(col(Snapshot.id) == snapshot_id)
        self.session.execute(stmt.values(**_parsed(result, error)))

    # --- state and events -------------------------------------------------------------------

    def known(
        self,
        source: str,
        observed: Mapping[str, str] | None = None,
        *,
        only_observed: bool = False,
    ) -> dict[str, Known]:
        """What is known of a source's records. Given the digests of what a document says
        (`observed`), records whose stored digest matches are returned without their fields,
        and only the others are read back in full. `only_observed`: the records the document
        names, and no others (a page, an API answer)."""
        if only_observed:
            # A page names a few records: one query reads them, fields and all.
            names = sorted(observed or {})
            known: dict[str, Known] = {}
            connection = self.session.connection()
            for start in range(0, len(names), CHUNK):
                rows = connection.execute(
                    _NAMED_STATES, {"source": source, "refs": names[start : start + CHUNK]}
                )
                for ref, digest, present, pid, fields in rows:
                    same = observed is not None and observed.get(ref) == digest and present
                    known[ref] = Known(None if same else fields, present, pid)
            return known
        query = select(
            RecordState.reference, RecordState.digest, RecordState.present, RecordState.product_id
        ).where(RecordState.source == source)
        index = {ref: (d, present, pid) for ref, d, present, pid in self.session.exec(query)}
        if observed is None:
            wanted = list(index)
        else:
            wanted = [
                r for r, (d, present, _) in index.items() if observed.get(r) != d or not present
            ]
        known = {ref: Known(None, present, pid) for ref, (_, present, pid) in index.items()}
        full = select(RecordState.reference, RecordState.fields)
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            found = self.session.exec(
                full.where(RecordState.source == source, col(RecordState.reference).in_(chunk))
            )
            for ref, fields in found:
                _, present, pid = index[ref]
                known[ref] = Known(fields, present, pid)
        return known

    def has_records(self, source: str) -> bool:
        """Whether anything of this source is known (else its first poll is history)."""
        query = select(RecordState.id).where(RecordState.source == source).limit(1)
        return self.session.exec(query).first() is not None

    def clear_state(self, source: str) -> None:
        self.session.execute(delete(RecordState).where(col(RecordState.source) == source))

    def write(self, plan: WritePlan) -> list[tuple[EventDraft, bool]]:
        """Execute one document's plan (see `regtrack.plan`): products resolved from names,
        record states inserted and updated, events inserted or, when stored already,
        refined. Returns the events new to the store."""
        where = plan.where
        self.products.prepare([n for names in plan.names for n in names])
        provisional = [self.products.resolve(names, origin=where.source) for names in plan.names]
        ids = self.products.flush()
        products = [ids.get(pid, pid) for pid in provisional]
        self._write_records(plan, products)
        connection = self.session.connection()
        # Which of these events are stored already, asked before anything is inserted: once
        # rows go in, PostgreSQL's statistics of the table are stale for the rest of the
        # transaction and it would plan each lookup as a scan of the whole table.
        existing = self._event_ids(where.agency, {d.reference for d, _ in plan.events})
        stored: list[bool] = []
        again: dict[int, tuple[Any, ...]] = {}  # id of a stored event -> its new report

        def fresh() -> Iterator[tuple[Any, ...]]:
            if not existing:  # a first poll: every event is new
                stored.extend([True] * len(plan.events))
                yield from plan.event_rows(products)
                return
            for (draft, _), row in zip(plan.events, plan.event_rows(products), strict=True):
                eid = existing.get((draft.reference, draft.key))
                stored.append(eid is None)
                if eid is None:
                    yield row
                else:
                    again[eid] = row

        with indexes_rebuilt(connection, Event, len(plan.events)):
            bulk_insert(connection, Event, EVENT_COLUMNS, fresh())
        self._refine(again)
        return [event for event, new in zip(plan.events, stored, strict=True) if new]

    def _write_records(self, plan: WritePlan, products: Sequence[int]) -> None:
        """Record states: new ones inserted with their product, known ones updated, vanished
        ones marked absent."""
        where = plan.where
        now, snapshot_id = where.detected_at, where.snapshot_id
        resolved = iter(products)
        inserts, updates = [], []
        for record in plan.records:
            row = {"fields": record.fields, "digest": record.digest, "updated_at": now,
                   "snapshot_id": snapshot_id}  # fmt: skip
            if record.product is not None:
                updates.append({"ref": record.reference, "present": True, **row})
            else:
                inserts.append(
                    {"source": where.source, "reference": record.reference, "present": True,
                     "product_id": next(resolved), "first_seen_at": now, **row}
                )  # fmt: skip
        connection = self.session.connection()
        if inserts:
            bulk_insert(connection, RecordState, tuple(inserts[0]), map(tuple, map(
                dict.values, inserts)))  # fmt: skip
        updates += [{"ref": ref, "present": False} for ref in plan.vanished]
        for present in (True, False):
            batch = [u for u in updates if u["present"] is present]
            if batch:
                values: dict[str, Any] = {k: bindparam(k) for k in batch[0] if k != "ref"}
                stmt = (
                    update(RecordState)
                    .where(col(RecordState.source) == where.source)
                    .where(col(RecordState.reference) == bindparam("ref"))
                    .values(**values)
                )
                connection.execute(stmt, batch)

    def _event_ids(self, agency: str, references: set[str]) -> dict[tuple[str, str], int]:
        """(reference, discriminator) -> id of the stored events of these references."""
        ordered = sorted(references)
        found: dict[tuple[str, str], int] = {}
        connection = self.session.connection()
        for start in range(0, len(ordered), CHUNK):
            params = {"agency": agency, "refs": ordered[start : start + CHUNK]}
            rows = connection.execute(_EVENT_KEYS, params)
            found |= {(r, disc): eid for r, disc, eid in rows if eid is not None}
        return found

    def _refine(self, again: Mapping[int, tuple[Any, ...]]) -> None:
        """A second report of stored events: what it adds (`detect.refine`) is written."""
        ids = sorted(again)
        connection = self.session.connection()
        for start in range(0, len(ids), CHUNK):
            for old in connection.execute(_REFINED, {"ids": ids[start : start + CHUNK]}):
                stored_row = old._asdict()
                change = refine(stored_row, as_row(again[stored_row["id"]]))
                if change:
                    stmt = update(Event).where(col(Event.id) == stored_row["id"]).values(**change)
                    connection.execute(stmt)

    # --- products ---------------------------------------------------------------------------

    def sync_products(self, products: Sequence[ProductConfig]) -> None:
        """Make the config's products and aliases known (idempotent, and cheap when known)."""
        for product in products:
            names = [ProductName(product.name, NameKind.CANONICAL)]
            names += [ProductName(a, NameKind.CODE) for a in product.aliases]
            norms = {normalise(n.name) for n in names} - {""}
            if self.products.known(norms) != norms:
                self.products.resolve(names, origin="config")
        self.products.flush()
