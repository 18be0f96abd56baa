"""All SQL: the reads here and in `reader`, the writes in `writer`.

Reads run on plain sessions (`reading()`, and the methods here), which never take SQLite's
write lock; mutations only on the writer of a `transaction()`.

Every write of a poll happens inside one `Store.transaction()`, so a failure or a kill leaves
what was stored before. Database errors become StoreError in `engine.database_errors`, and
nowhere else. A read command imports neither the writer nor the bulk path.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ParamSpec, TypedDict, TypeVar, Unpack

from sqlalchemy import Engine, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from ..errors import ProductNotFoundError
from ..model import Alias, Event, Product, Snapshot, SourceHealth
from ..names import normalise
from . import schema
from .engine import database_errors, make_engine
from .events import (
    ALL,
    PUBLIC_FIELDS,
    EventFilter,
    EventRow,
    Order,
    count_events,
    public,
    select_events,
    select_public,
)
from .reader import Reader

if TYPE_CHECKING:
    from .writer import Writer

__all__ = [
    "ALL",
    "PUBLIC_FIELDS",
    "EventFilter",
    "EventRow",
    "Order",
    "Reader",
    "Store",
    "make_engine",
]

P = ParamSpec("P")
R = TypeVar("R")


def _wrapped(method: Callable[P, R]) -> Callable[P, R]:
    """A store method whose database failures are a StoreError naming it and the database."""

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        first = args[0] if args else None
        where = first.engine if isinstance(first, Store) else str(args[1] if args[1:] else "")
        with database_errors(where, method.__name__):
            return method(*args, **kwargs)

    return call


class Page(TypedDict, total=False):
    """Which part of a filter's events: after a key (see `events.select_events`), how many,
    from which offset."""

    after: tuple[dt.date, int] | None
    limit: int | None
    offset: int


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
        with database_errors(self.engine), Session(self.engine, expire_on_commit=False) as s:
            yield Reader(s)

    @contextmanager
    def transaction(self) -> Iterator[Writer]:
        """One unit of work: committed whole at the end, rolled back whole on any error."""
        from .writer import Writer

        # A raw sqlite3 failure (the bulk path's executemany on a full disk) is wrapped too.
        with (
            database_errors(self.engine),
            Session(self.engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            session.connection(execution_options={"regtrack_write": True})
            yield Writer(session)

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
    def events(
        self, where: EventFilter = ALL, /, order: Order = Order.BY_DATE, **page: Unpack[Page]
    ) -> list[EventRow]:
        """A filter's events as a list (`iter_events` streams them)."""
        return list(self.iter_events(where, order, **page))

    def iter_events(
        self,
        where: EventFilter = ALL,
        /,
        order: Order = Order.BY_DATE,
        *,
        after: tuple[dt.date, int] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> Iterator[EventRow]:
        """Events streamed from the database a batch at a time: memory stays flat however
        many there are. Filters, order and limit are SQL; each has an index that serves it."""
        query = select_events(where, order, after=after, limit=limit, offset=offset)
        with database_errors(self.engine, "events"), self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=2000).execute(query)
            for row in result:
                yield EventRow(*row)

    def iter_public(
        self, where: EventFilter = ALL, /, order: Order = Order.BY_DATE
    ) -> Iterator[dict[str, Any]]:
        """Events as programs read them (`PUBLIC_FIELDS`, JSON-ready), streamed like
        `iter_events` without building a row object each: what exports write."""
        with database_errors(self.engine, "events"), self.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=2000).execute(
                select_public(where, order)
            )
            for rows in result.tuples().partitions():
                yield from map(public, rows)

    def expected_dates(self, product_id: int | None = None) -> list[EventRow]:
        """Expected-date events (of one product, or all) with the other events of their
        products: what `upcoming.upcoming` needs to tell which are still waiting."""
        rows = self.events(EventFilter(kind="expected_date", product_id=product_id))
        ids = sorted({r.product_id for r in rows})
        others = EventFilter(product_ids=ids, exclude_kind="expected_date")
        return rows + (self.events(others) if ids else [])

    @_wrapped
    def count_events(self, where: EventFilter = ALL, /) -> int:
        """How many events a filter selects, counted in SQL."""
        with self.engine.connect() as conn:
            return int(conn.execute(count_events(where)).scalar_one())

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
