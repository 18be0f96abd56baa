"""All SQL: the engine (SQLite in WAL, or PostgreSQL) and the reads; `writer` holds the writes.

Reads run on plain sessions (`reading()`, and the methods here), which never take SQLite's
write lock; mutations only on the writer of a `transaction()`.

Every write of a poll happens inside one `Store.transaction()`, so a failure or a kill leaves
what was stored before. Database errors are wrapped as StoreError here and nowhere else.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ParamSpec, TypedDict, TypeVar, Unpack

import orjson
from sqlalchemy import Engine, and_, event, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlmodel import Session, col, create_engine, select

from ..errors import ProductNotFoundError, StoreError
from ..model import Alias, Event, Product, Snapshot, SourceHealth
from ..names import normalise
from . import schema
from .bulk import dumps
from .reader import Reader
from .writer import Writer

__all__ = ["EventFilter", "EventQuery", "EventRow", "Reader", "Store", "Writer", "make_engine"]

P = ParamSpec("P")
R = TypeVar("R")


class EventFilter(TypedDict, total=False):
    """Which events `Store.events` and `Store.iter_events` return."""

    agency: str | None
    product_id: int | None
    product_ids: Sequence[int] | None
    kind: str | None
    exclude_kind: str | None
    brand: str | None
    since: dt.date | None
    until: dt.date | None
    backfill: bool | None
    detected_by: dt.datetime | None
    detected_after: dt.datetime | None


class EventQuery(EventFilter, total=False):
    """A filter with its order and page."""

    newest_first: bool
    latest_first: bool
    after: tuple[dt.date, int] | None
    limit: int | None
    offset: int


@dataclass(slots=True)
class EventRow:
    """An event as the CLI and reports show it: with its product's name. A plain slotted
    class, built from a row tuple: `events` makes 170,000 of them."""

    agency: str
    kind: str
    reference: str
    brand: str | None
    discriminator: str
    event_date: dt.date | None
    date_kind: str
    date_approximate: bool
    published_at: dt.date | None
    detected_at: dt.datetime
    source: str
    source_url: str
    link: str | None
    evidence: str
    details: dict[str, Any]
    backfill: bool
    id: int
    product_id: int
    snapshot_id: int | None
    product: str


#: The event columns an EventRow is built from, in its fields' order (its last, the name).
ROW_COLUMNS = tuple(f.name for f in dataclasses.fields(EventRow))[:-1]


def make_engine(url: str) -> Engine:
    """An engine for a SQLite file (WAL, busy timeout, foreign keys) or PostgreSQL (psycopg)."""
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    try:
        # orjson: a register's state is tens of megabytes of JSON to read back on every poll.
        engine = create_engine(url, json_serializer=dumps, json_deserializer=orjson.loads)
    except (ArgumentError, ImportError, ValueError) as err:
        raise StoreError(f"bad database URL {url!r}: {err}") from err
    if engine.dialect.name == "sqlite":
        # How long a writer waits for the write lock: 30 s, or the URL's own `?timeout=`
        # (pysqlite's parameter, in seconds).
        wait = float(str(engine.url.query.get("timeout", 30)))
        event.listen(
            engine, "connect", functools.partial(_sqlite_pragmas, busy_ms=int(wait * 1000))
        )
        # pysqlite opens transactions lazily, after reads; SQLAlchemy's documented recipe
        # makes every transaction start at its first statement, reads included. A write
        # transaction takes the write lock at once (BEGIN IMMEDIATE) and so waits its turn
        # under the busy timeout: upgrading a read to a write later fails at once instead.
        event.listen(engine, "begin", _begin)
    return engine


def _midnight(day: dt.date, later: int = 0) -> dt.datetime:
    """The start of a day (`later` days on) in UTC, as detection times are stored; past the
    last day a date can hold (`until=9999-12-31`), the last moment there is."""
    try:
        return dt.datetime.combine(day + dt.timedelta(days=later), dt.time(), dt.UTC)
    except OverflowError:
        return dt.datetime.max.replace(tzinfo=dt.UTC)


def _near_names(session: Session, norm: str) -> list[str]:
    """Names close to a misspelt one (`keytrda` -> Keytruda): those containing it, then the
    closest by difflib's ratio."""
    import difflib

    containing = session.exec(select(Alias.name).where(col(Alias.norm).contains(norm)).limit(8))
    found = list(dict.fromkeys(containing))
    names = dict(session.exec(select(Alias.norm, Alias.name)).all())
    for close in difflib.get_close_matches(norm, list(names), n=5, cutoff=0.75):
        if names[close] not in found:
            found.append(names[close])
    return found[:8]


def _begin(conn: Any) -> None:
    immediate = conn.get_execution_options().get("regtrack_write")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _sqlite_pragmas(connection: Any, _record: Any, *, busy_ms: int = 30_000) -> None:
    cursor = connection.cursor()
    # WAL lets `regtrack timeline` read while the daemon writes; the busy timeout makes
    # a second writer wait instead of failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    connection.isolation_level = None


def _conditions(
    c: Any,
    day: Any,
    *,
    agency: str | None,
    product_id: int | None,
    product_ids: Sequence[int] | None,
    kind: str | None,
    exclude_kind: str | None,
    since: dt.date | None,
    until: dt.date | None,
    backfill: bool | None,
    brand: str | None,
    detected_by: dt.datetime | None,
    detected_after: dt.datetime | None,
    after: tuple[dt.date, int] | None = None,
) -> list[Any]:
    """The SQL conditions of one event filter (one spelling for listing and counting)."""
    undated = c.event_date.is_(None)
    conditions = [
        c.agency == agency.upper() if agency else None,
        c.product_id == product_id if product_id is not None else None,
        c.product_id.in_(product_ids) if product_ids is not None else None,
        c.kind == kind if kind else None,
        c.kind != exclude_kind if exclude_kind else None,
        # The day an event stands at is its date, else the day it was detected: written
        # as two conditions so the indexes on each serve it.
        or_(
            c.event_date >= since,
            and_(c.event_date.is_(None), c.detected_at >= _midnight(since)),
        )
        if since
        else None,
        c.backfill == backfill if backfill is not None else None,
        func.lower(c.brand) == brand.lower() if brand else None,
        or_(c.event_date <= until, and_(undated, c.detected_at < _midnight(until, 1)))
        if until
        else None,
        c.detected_at <= detected_by if detected_by else None,
        c.detected_at > detected_after if detected_after else None,
        or_(day < after[0], and_(day == after[0], c.id < after[1])) if after else None,
    ]
    return [cond for cond in conditions if cond is not None]


def _wrapped(method: Callable[P, R]) -> Callable[P, R]:
    """Turn database failures into StoreError naming what failed."""

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except (SQLAlchemyError, sqlite3.Error) as err:
            where = _where(args[0] if args else None, args[1] if len(args) > 1 else None)
            raise StoreError(
                f"database error in {method.__name__} ({where}): {_detail(err)}"
            ) from err

    return call


def _detail(err: Exception) -> object:
    return err.orig if isinstance(err, DBAPIError) else err


def _where(store: Any, url: Any = None) -> str:
    """The database a failure is in, as a person names it (a password never shown)."""
    from sqlalchemy.engine import make_url

    engine = getattr(store, "engine", None)
    try:
        found = engine.url if engine is not None else make_url(str(url))
    except Exception:  # a URL that does not parse says so in its own error
        return str(url)
    if found.drivername.startswith("sqlite"):
        return f"SQLite file {found.database}"
    return str(found.render_as_string(hide_password=True))


class Store:
    """The database: opened once by the CLI and handed to whoever needs it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    @_wrapped
    def open(cls, url: str) -> Store:
        engine = make_engine(url)
        with engine.connect() as conn:
            ready = schema.current(conn)
        if not ready:
            with engine.begin() as conn:
                if engine.dialect.name == "postgresql":
                    # Two processes creating a fresh database's schema at once: one at a
                    # time (else the second fails on a duplicate type), until this
                    # transaction ends.
                    conn.exec_driver_sql("SELECT pg_advisory_xact_lock(72620211)")
                if schema.version(conn) != schema.VERSION:
                    schema.upgrade(conn)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def reading(self) -> Iterator[Reader]:
        """A plain read session: sees what was committed, takes no write lock."""
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                yield Reader(session)
        except (SQLAlchemyError, sqlite3.Error) as err:
            raise StoreError(f"database error ({_where(self)}): {_detail(err)}") from err

    @contextmanager
    def transaction(self) -> Iterator[Writer]:
        """One unit of work: committed whole at the end, rolled back whole on any error."""
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                session.connection(execution_options={"regtrack_write": True})
                yield Writer(session)
        except (SQLAlchemyError, sqlite3.Error) as err:
            # A raw sqlite3 failure (the bulk path's executemany on a full disk) too.
            raise StoreError(f"database error ({_where(self)}): {_detail(err)}") from err

    # --- snapshots ------------------------------------------------------------------------

    @_wrapped
    def last_snapshots(
        self, source: str, url: str | None = None
    ) -> tuple[dict[str, Snapshot], set[str]]:
        """Per feed URL of a source (or just `url`): its latest snapshot, and which URLs have
        had a document parse successfully. Read once per poll."""
        where = [col(Snapshot.source) == source]
        if url is not None:
            where.append(col(Snapshot.url) == url)
        latest = select(func.max(Snapshot.id)).where(*where).group_by(col(Snapshot.url))
        parsed = (
            select(Snapshot.url)
            .where(*where, col(Snapshot.parse_ok).is_(True))
            .group_by(col(Snapshot.url))
        )
        with Session(self.engine) as session:
            rows = session.exec(select(Snapshot).where(col(Snapshot.id).in_(latest)))
            return {s.url: s for s in rows}, set(session.exec(parsed))

    @_wrapped
    def snapshots(self, source: str) -> list[Snapshot]:
        query = select(Snapshot).where(Snapshot.source == source).order_by(col(Snapshot.id))
        with Session(self.engine) as session:
            return list(session.exec(query))

    # --- reading ----------------------------------------------------------------------------

    @_wrapped
    def events(self, **query: Unpack[EventQuery]) -> list[EventRow]:
        """Events by date (or by detection, newest first), filtered in SQL."""
        return list(self.iter_events(**query))

    def expected_dates(self, product_id: int | None = None) -> list[EventRow]:
        """Expected-date events (of one product, or all) with the other events of their
        products: what `reports.upcoming` needs to tell which are still waiting."""
        rows = self.events(kind="expected_date", product_id=product_id)
        ids = sorted({r.product_id for r in rows})
        return rows + (self.events(product_ids=ids, exclude_kind="expected_date") if ids else [])

    @_wrapped
    def count_events(self, **query: Unpack[EventFilter]) -> int:
        """How many events a filter selects, counted in SQL."""
        c = Event.__table__.c  # type: ignore[attr-defined]
        day = func.coalesce(c.event_date, func.date(c.detected_at))
        filters: dict[str, Any] = {k: None for k in EventFilter.__annotations__} | dict(query)
        conditions = _conditions(c, day, **filters)
        counted = sa_select(func.count()).select_from(Event.__table__).where(*conditions)  # type: ignore[attr-defined]
        with self.engine.connect() as conn:
            return int(conn.execute(counted).scalar_one())

    def iter_events(
        self,
        *,
        agency: str | None = None,
        product_id: int | None = None,
        kind: str | None = None,
        exclude_kind: str | None = None,
        since: dt.date | None = None,
        backfill: bool | None = None,
        detected_by: dt.datetime | None = None,
        detected_after: dt.datetime | None = None,
        newest_first: bool = False,
        limit: int | None = None,
        offset: int = 0,
        product_ids: Sequence[int] | None = None,
        brand: str | None = None,
        until: dt.date | None = None,
        latest_first: bool = False,
        after: tuple[dt.date, int] | None = None,
    ) -> Iterator[EventRow]:
        """Events streamed from the database a batch at a time: memory stays flat however
        many there are. Filters, order and limit are SQL; each has an index that serves it.
        `latest_first`: by the day each event stands at, latest first, then id; `after`
        (that day and id of the last row of a page) is the next page by key, not by OFFSET,
        so a deep page costs what the first does."""
        event = Event.__table__  # type: ignore[attr-defined]
        c = event.c
        day = func.coalesce(c.event_date, func.date(c.detected_at))
        # Newest first is by id: ids grow with detection, and the primary key serves it.
        order: tuple[Any, ...] = (c.id.desc(),) if newest_first else (day, c.agency, c.id)
        if latest_first:
            order = (day.desc(), c.id.desc())
        query = (
            sa_select(*(c[n] for n in ROW_COLUMNS), Product.__table__.c.name)  # type: ignore[attr-defined]
            .join(Product.__table__, Product.__table__.c.id == c.product_id)  # type: ignore[attr-defined]
            .order_by(*order)
        )
        conditions = _conditions(
            c, day, agency=agency, product_id=product_id, product_ids=product_ids, kind=kind,
            exclude_kind=exclude_kind, since=since, until=until, backfill=backfill, brand=brand,
            detected_by=detected_by, detected_after=detected_after, after=after,
        )  # fmt: skip
        query = query.where(*conditions)
        if limit is not None:
            query = query.limit(limit)
        if offset:
            query = query.offset(offset)
        try:
            with self.engine.connect() as conn:
                result = conn.execution_options(stream_results=True, yield_per=2000).execute(query)
                for row in result:
                    yield EventRow(*row)  # type: ignore[call-arg]
        except SQLAlchemyError as err:
            detail = err.orig if isinstance(err, DBAPIError) else err
            raise StoreError(f"database error in events: {detail}") from err

    @_wrapped
    def search_products(self, norm: str, *, limit: int = 200) -> list[str]:
        """Names of products one of whose names starts with `norm` (a normalised name), found
        by the index on aliases: a search costs the same at any store size."""
        c, p = Alias.__table__.c, Product.__table__.c  # type: ignore[attr-defined]
        query = (
            sa_select(p.name)
            .join(Alias.__table__, c.product_id == p.id)  # type: ignore[attr-defined]
            .where(c.norm >= norm, c.norm < norm + "\U0010ffff")
            .group_by(p.name)
            .order_by(p.name)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [row[0] for row in conn.execute(query)]

    @_wrapped
    def alias_names(self, product_id: int | None = None) -> dict[str, str]:
        """Normalised alias -> its product's name (of one product, or of all), with each part
        of an alias that holds several names ("Vaxzevria (previously COVID-19 Vaccine
        AstraZeneca)", "tozinameran; riltozinameran"): how a text names it."""
        from ..names import name_parts, normalise

        query = select(Alias.name, Alias.norm, Product.name).join(
            Product, col(Alias.product_id) == Product.id
        )
        if product_id is not None:
            query = query.where(col(Alias.product_id) == product_id)
        with Session(self.engine) as session:
            rows = session.exec(query).all()
        out = {norm: product for _, norm, product in rows}
        for name, _, product in rows:
            for part in name_parts(name):
                out.setdefault(normalise(part), product)
        return out

    @_wrapped
    def products_at_several_bodies(self, least: int = 2) -> list[int]:
        """Products with events from at least `least` bodies (status and lag's default)."""
        c = Event.__table__.c  # type: ignore[attr-defined]
        query = (
            sa_select(c.product_id)
            .group_by(c.product_id)
            .having(func.count(func.distinct(c.agency)) >= least)
        )
        with self.engine.connect() as conn:
            return [row[0] for row in conn.execute(query)]

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
                near = _near_names(session, norm) if norm else []
                hint = f"; did you mean: {', '.join(near)}" if near else ""
                raise ProductNotFoundError(f"no product known by the name {name!r}{hint}")
            product = session.get(Product, alias.product_id)
            assert product is not None
            query = select(Alias).where(Alias.product_id == product.id).order_by(col(Alias.name))
            return product, list(session.exec(query))
