"""Bulk writes of a register's rows: streamed to PostgreSQL by COPY, to SQLite as row tuples
in SQLAlchemy's own stored forms; around a first load, SQLite's indexes built after the rows.
Everything runs inside the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import JSON, Connection, func, insert
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel

#: Rows per executemany: bounds the driver's copies of a whole register's rows.
BATCH = 5000


def dumps(value: Any) -> str:
    """JSON text as the store writes it (orjson: registers are large)."""
    return orjson.dumps(value).decode()


#: From this many rows, PostgreSQL is given them by COPY rather than as an executemany.
COPY_FROM = 200


def bulk_insert(
    connection: Connection,
    model: type[SQLModel],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> None:
    """Insert rows whose keys are all new, each a sequence of values in `columns`' order,
    streamed: one COPY on PostgreSQL (a register's 165,000 events; the server stores rows
    while the rest are still being built), one executemany on SQLite. A few rows go as a
    plain executemany. All inside the current transaction; `rows` may be a generator (memory
    stays a batch)."""
    stream = iter(rows)
    first = list(itertools.islice(stream, COPY_FROM))
    if not first:
        return
    dialect = connection.dialect.name
    if len(first) < COPY_FROM or dialect not in ("sqlite", "postgresql"):
        named = [dict(zip(columns, row, strict=True)) for row in first]
        connection.execute(insert(model), named)
        # (Only a dialect without a bulk path gets more rows here, a batch at a time.)
        while batch := list(itertools.islice(stream, BATCH)):
            connection.execute(insert(model), [dict(zip(columns, r, strict=True)) for r in batch])
    elif dialect == "sqlite":
        _sqlite_executemany(connection, model, columns, itertools.chain(first, stream))
    else:
        _postgresql_copy(connection, model, columns, itertools.chain(first, stream))


def _postgresql_copy(
    connection: Connection,
    model: type[SQLModel],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> None:
    from psycopg.types.json import Json

    table = model.__table__  # type: ignore[attr-defined]
    as_json = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, JSON)]
    quoted = ", ".join(f'"{c}"' for c in columns)
    raw: Any = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
        for row in rows:
            out = list(row)
            for i in as_json:
                out[i] = Json(out[i], dumps=dumps)
            copy.write_row(out)


def _sqlite_executemany(
    connection: Connection,
    model: type[SQLModel],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> None:
    """Rows handed straight to sqlite3, in the forms SQLAlchemy itself stores (ISO text for
    dates and times in UTC, JSON text): SQLAlchemy's per-row work was half of writing a
    register."""
    table = model.__table__  # type: ignore[attr-defined]
    convert = [(i, f) for i, name in enumerate(columns) if (f := _to_sqlite(table.c[name].type))]

    def values() -> Iterator[list[Any]]:
        for row in rows:
            out = list(row)
            for i, f in convert:
                if out[i] is not None:
                    out[i] = f(out[i])
            yield out

    quoted = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" for _ in columns)
    raw: Any = connection.connection.driver_connection
    raw.executemany(f'INSERT INTO "{table.name}" ({quoted}) VALUES ({marks})', values())


#: From this many new rows, and more than a table holds, SQLite's secondary indexes are built
#: after the rows go in, not row by row (a register's first poll: 0.5 s of its 165,000 events).
REBUILD_FROM = 50_000


@contextmanager
def indexes_rebuilt(connection: Connection, model: type[SQLModel], rows: int) -> Iterator[None]:
    """Around a bulk load into SQLite: the table's secondary indexes dropped, and created again
    (a sort, not 165,000 random inserts), all in the writer's transaction, so a reader (WAL)
    sees the old table and its indexes until the commit, and a rollback restores them. Not on
    PostgreSQL, where dropping an index would lock readers out for the whole ingest."""
    table = model.__table__  # type: ignore[attr-defined]
    if connection.dialect.name != "sqlite" or rows < REBUILD_FROM:
        yield
        return
    count = connection.execute(sa_select(func.count()).select_from(table)).scalar_one()
    if count >= rows:
        yield
        return
    indexes = list(table.indexes)
    for index in indexes:
        index.drop(connection)
    yield
    for index in indexes:
        index.create(connection)


def _to_sqlite(kind: Any) -> Any:
    """How a column's Python value becomes what SQLAlchemy would have stored (None: as it
    is; sqlite3 takes bools, ints and text)."""
    from sqlalchemy import Date, DateTime

    kind = getattr(kind, "impl", kind)
    if isinstance(kind, JSON):
        return dumps
    if isinstance(kind, DateTime):
        return _sqlite_time
    if isinstance(kind, Date):
        return dt.date.isoformat
    return None


@functools.lru_cache(maxsize=64)
def _sqlite_time(value: dt.datetime) -> str:
    # A document's rows share one detection time: formatted once.
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
