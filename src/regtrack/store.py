"""All SQL: the engine (SQLite in WAL, or PostgreSQL), snapshots, state, events, products, health.

Every write of a poll happens inside one `Store.transaction()`, so a failure or a kill leaves
what was stored before. Database errors are wrapped as StoreError here and nowhere else.
"""

from __future__ import annotations

import datetime as dt
import functools
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Engine, bindparam, delete, event, func, insert, update
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlmodel import Session, SQLModel, col, create_engine, select

from .config import ProductConfig
from .detect import Detection, Known, refine
from .errors import ProductNotFoundError, StoreError
from .model import (
    Alias,
    Blob,
    Event,
    EventBase,
    EventDraft,
    NameKind,
    ParseResult,
    Product,
    ProductName,
    RecordState,
    Snapshot,
    SourceHealth,
    utcnow,
)
from .names import normalise

P = ParamSpec("P")
R = TypeVar("R")
EVENT_KEY = ("agency", "reference", "discriminator")


class EventRow(EventBase):
    """An event as the CLI and reports show it: with its product's name."""

    id: int
    product: str
    snapshot_id: int | None = None


def make_engine(url: str) -> Engine:
    """An engine for a SQLite file (WAL, busy timeout, foreign keys) or PostgreSQL (psycopg)."""
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    try:
        engine = create_engine(url)
    except (ArgumentError, ImportError, ValueError) as err:
        raise StoreError(f"bad database URL {url!r}: {err}") from err
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite opens transactions lazily, after reads; SQLAlchemy's documented recipe
        # makes every transaction start at its first statement, reads included.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    # WAL lets `regtrack timeline` read while the daemon writes; the busy timeout makes
    # a second writer wait instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    connection.isolation_level = None


def _wrapped(method: Callable[P, R]) -> Callable[P, R]:
    """Turn database failures into StoreError naming what failed."""

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except SQLAlchemyError as err:
            detail = err.orig if isinstance(err, DBAPIError) else err
            raise StoreError(f"database error in {method.__name__}: {detail}") from err

    return call


class Store:
    """The database: opened once by the CLI and handed to whoever needs it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    @_wrapped
    def open(cls, url: str) -> Store:
        engine = make_engine(url)
        SQLModel.metadata.create_all(engine)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Writer]:
        """One unit of work: committed whole at the end, rolled back whole on any error."""
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                yield Writer(session)
        except SQLAlchemyError as err:
            detail = err.orig if isinstance(err, DBAPIError) else err
            raise StoreError(f"database error: {detail}") from err

    # --- snapshots ------------------------------------------------------------------------

    @_wrapped
    def last_snapshot(self, source: str, url: str) -> Snapshot | None:
        query = (
            select(Snapshot)
            .where(Snapshot.source == source, Snapshot.url == url)
            .order_by(col(Snapshot.id).desc())
            .limit(1)
        )
        with Session(self.engine) as session:
            return session.exec(query).first()

    @_wrapped
    def feed_parsed_before(self, source: str, url: str) -> bool:
        """Whether a document of this feed has been parsed successfully before."""
        query = select(Snapshot.id).where(
            Snapshot.source == source, Snapshot.url == url, col(Snapshot.parse_ok).is_(True)
        )
        with Session(self.engine) as session:
            return session.exec(query.limit(1)).first() is not None

    @_wrapped
    def snapshots(self, source: str) -> list[Snapshot]:
        query = select(Snapshot).where(Snapshot.source == source).order_by(col(Snapshot.id))
        with Session(self.engine) as session:
            return list(session.exec(query))

    # --- reading ----------------------------------------------------------------------------

    @_wrapped
    def events(
        self,
        *,
        agency: str | None = None,
        product_id: int | None = None,
        kind: str | None = None,
        since: dt.date | None = None,
        backfill: bool | None = None,
        detected_by: dt.datetime | None = None,
    ) -> list[EventRow]:
        day = func.coalesce(col(Event.event_date), func.date(col(Event.detected_at)))
        query = (
            select(Event, Product.name)
            .join(Product)
            .order_by(day, col(Event.agency), col(Event.id))
        )
        conditions = [
            col(Event.agency) == agency.upper() if agency else None,
            col(Event.product_id) == product_id if product_id is not None else None,
            col(Event.kind) == kind if kind else None,
            day >= since if since else None,
            col(Event.backfill) == backfill if backfill is not None else None,
            col(Event.detected_at) <= detected_by if detected_by else None,
        ]
        query = query.where(*[c for c in conditions if c is not None])
        with Session(self.engine) as session:
            return [EventRow(**ev.model_dump(), product=name) for ev, name in session.exec(query)]

    @_wrapped
    def health(self) -> list[SourceHealth]:
        with Session(self.engine) as session:
            return list(session.exec(select(SourceHealth).order_by(col(SourceHealth.source))))

    @_wrapped
    def find_product(self, name: str) -> tuple[Product, list[Alias]]:
        """The product any alias names; a miss lists near candidates."""
        norm = normalise(name)
        with Session(self.engine) as session:
            alias = session.exec(select(Alias).where(Alias.norm == norm)).first()
            if alias is None:
                similar = select(Alias.name).where(col(Alias.norm).contains(norm)).limit(8)
                near = session.exec(similar).all() if norm else []
                hint = f"; did you mean: {', '.join(sorted(set(near)))}" if near else ""
                raise ProductNotFoundError(f"no product known by the name {name!r}{hint}")
            product = session.get(Product, alias.product_id)
            assert product is not None
            query = select(Alias).where(Alias.product_id == product.id).order_by(col(Alias.name))
            return product, list(session.exec(query))


class Writer:
    """The writes of one transaction (see `Store.transaction`)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._aliases: dict[str, int] | None = None

    # --- snapshots ------------------------------------------------------------------------

    def add_snapshot(self, snapshot: Snapshot, content: bytes) -> Snapshot:
        """Store a document; its bytes once per distinct hash, compressed."""
        if self.session.get(Blob, snapshot.sha256) is None:
            compressed = zlib.compress(content, 6)
            self.session.add(Blob(sha256=snapshot.sha256, size=len(content), data=compressed))
        self.session.add(snapshot)
        self.session.flush()
        return snapshot

    def content(self, sha256: str) -> bytes:
        blob = self.session.get(Blob, sha256)
        if blob is None:
            raise StoreError(f"no stored document with hash {sha256}")
        return zlib.decompress(blob.data)

    def mark_snapshot(
        self, snapshot_id: int, *, result: ParseResult | None = None, error: str | None = None
    ) -> None:
        values: dict[str, Any] = {"parse_ok": error is None, "parse_error": error}
        if result is not None:
            values |= {"document_kind": result.document_kind, "generated_at": result.generated_at}
        stmt = update(Snapshot).where(col(Snapshot.id) == snapshot_id).values(**values)
        self.session.execute(stmt)

    # --- state ------------------------------------------------------------------------------

    def known(self, source: str) -> dict[str, Known]:
        query = select(RecordState.reference, RecordState.fields, RecordState.present)
        rows = self.session.exec(query.where(RecordState.source == source))
        return {ref: Known(fields, present) for ref, fields, present in rows}

    def clear_state(self, source: str) -> None:
        self.session.execute(delete(RecordState).where(col(RecordState.source) == source))

    def apply(
        self,
        source: str,
        agency: str,
        snapshot: Snapshot,
        result: ParseResult,
        detection: Detection,
    ) -> list[tuple[EventDraft, bool]]:
        """Write one document's state and events; returns the events new to the store."""
        assert snapshot.id is not None
        now = snapshot.fetched_at
        query = select(RecordState.reference, RecordState.product_id)
        existing = dict(self.session.exec(query.where(RecordState.source == source)).all())
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for obs in detection.upserts:
            row = {"fields": obs.fields, "updated_at": now, "snapshot_id": snapshot.id}
            if obs.reference in existing:
                updates.append({"ref": obs.reference, "present": True, **row})
            else:
                pid = self.product_for(obs.names, origin=source)
                existing[obs.reference] = pid
                inserts.append(
                    {"source": source, "reference": obs.reference, "product_id": pid,
                     "first_seen_at": now, "present": True, **row}
                )  # fmt: skip
        updates += [{"ref": ref, "present": False} for ref in detection.vanished]
        if inserts:
            self.session.execute(insert(RecordState), inserts)
        for present in (True, False):
            batch = [u for u in updates if u["present"] is present]
            if batch:
                values: dict[str, Any] = {k: bindparam(k) for k in batch[0] if k != "ref"}
                stmt = (
                    update(RecordState)
                    .where(col(RecordState.source) == source)
                    .where(col(RecordState.reference) == bindparam("ref"))
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
                self.session.connection().execute(stmt, batch)
        rows = [
            {
                "agency": agency, "kind": draft.kind.value, "reference": draft.reference,
                "discriminator": draft.key, "event_date": draft.event_date,
                "date_kind": draft.date_kind.value, "date_approximate": draft.date_approximate,
                "published_at": draft.published_at, "detected_at": now, "source": source,
                "source_url": snapshot.url, "evidence": draft.evidence, "details": draft.details,
                "backfill": backfill, "snapshot_id": snapshot.id,
                "product_id": self.product_for(draft.names, origin=source)
                if draft.names else existing[draft.record or draft.reference],
            }
            for draft, backfill in detection.events
        ]  # fmt: skip
        stored = self._insert_new_events(rows)
        self._refine_existing(
            [r for r in rows if (r["reference"], r["discriminator"]) not in stored]
        )
        return [
            (draft, backfill)
            for draft, backfill in detection.events
            if (draft.reference, draft.key) in stored
        ]

    def _insert_new_events(self, rows: Sequence[dict[str, Any]]) -> set[tuple[str, str]]:
        """Insert events whose natural key is new; returns the keys inserted."""
        if not rows:
            return set()
        from sqlalchemy.dialects import postgresql, sqlite

        dialect = self.session.get_bind().dialect.name
        base = postgresql.insert(Event) if dialect == "postgresql" else sqlite.insert(Event)
        stmt = base.on_conflict_do_nothing(index_elements=list(EVENT_KEY)).returning(
            col(Event.reference), col(Event.discriminator)
        )
        return {(r, d) for r, d in self.session.execute(stmt, list(rows))}

    def _refine_existing(self, rows: Sequence[dict[str, Any]]) -> None:
        """Let a second report of a stored event make it more precise (see `detect.refine`)."""
        if not rows:
            return
        wanted = {(r["agency"], r["reference"], r["discriminator"]): r for r in rows}
        references = sorted({r["reference"] for r in rows})
        for chunk in range(0, len(references), 500):
            query = select(Event).where(col(Event.reference).in_(references[chunk : chunk + 500]))
            for stored in self.session.exec(query):
                new = wanted.get((stored.agency, stored.reference, stored.discriminator))
                change = refine(stored.model_dump(), new) if new else None
                if change:
                    self.session.execute(
                        update(Event).where(col(Event.id) == stored.id).values(**change)
                    )

    # --- products ---------------------------------------------------------------------------

    def product_for(self, names: Sequence[ProductName], *, origin: str) -> int:
        """The product these names belong to, created (named by its INN) when none matches;
        names not yet known become its aliases."""
        if self._aliases is None:
            self._aliases = dict(self.session.exec(select(Alias.norm, Alias.product_id)).all())
        aliases = self._aliases
        ranked = sorted(names, key=lambda n: _RANK.get(n.kind, 9))
        norms = [normalise(n.name) for n in ranked]
        pid = next((aliases[norm] for norm in norms if norm in aliases), None)
        if pid is None:
            pid = self._new_product(ranked[0].name)
        new = []
        for n, norm in zip(ranked, norms, strict=True):
            if norm and norm not in aliases:
                aliases[norm] = pid
                new.append(
                    {"product_id": pid, "name": n.name, "norm": norm, "kind": n.kind.value,
                     "region": n.region, "origin": origin}
                )  # fmt: skip
        if new:
            self.session.execute(insert(Alias), new)
        return pid

    def _new_product(self, name: str) -> int:
        taken = self.session.exec(select(Product.id).where(Product.name == name)).first()
        if taken is not None:
            return taken
        created = insert(Product).values(name=name).returning(col(Product.id))
        return int(self.session.execute(created).scalar_one())

    def sync_products(self, products: Sequence[ProductConfig]) -> None:
        """Make the config's products and aliases known (idempotent)."""
        for product in products:
            names = [ProductName(product.name, NameKind.CANONICAL)]
            names += [ProductName(a, NameKind.CODE) for a in product.aliases]
            norms = {normalise(n.name) for n in names} - {""}
            # Every command runs this: look up only these names, not the whole alias table.
            known = self.session.exec(select(Alias.norm).where(col(Alias.norm).in_(norms)))
            if set(known) != norms:
                self.product_for(names, origin="config")

    # --- health -----------------------------------------------------------------------------

    def record_health(
        self,
        source: str,
        *,
        ok: bool,
        error: str | None = None,
        changed: bool = False,
        result: ParseResult | None = None,
        records: int | None = None,
    ) -> SourceHealth:
        now = utcnow()
        health = self.session.get(SourceHealth, source) or SourceHealth(source=source)
        health.last_attempt_at = now
        health.healthy = ok
        if ok:
            health.last_success_at = now
            health.consecutive_failures = 0
            health.last_error = None
            health.parse_health = "ok"
            if changed:
                health.last_change_at = now
        else:
            health.consecutive_failures += 1
            health.last_error = error
        if result is not None:
            health.document_generated_at = result.generated_at
        if records is not None:
            health.records = records
        self.session.add(health)
        return health

    def record_parse_failure(self, source: str, error: str) -> SourceHealth:
        health = self.record_health(source, ok=False, error=error)
        health.parse_health = f"failed: {error}"
        return health


_RANK = {NameKind.CANONICAL: 0, NameKind.INN: 1, NameKind.SUBSTANCE: 2, NameKind.BRAND: 3,
         NameKind.CODE: 4}  # fmt: skip
