"""The engine (SQLite in WAL, or PostgreSQL through psycopg) and the one place database
errors become StoreError."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import Engine, event
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlmodel import create_engine

from ..errors import StoreError
from .bulk import dumps


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


@contextmanager
def database_errors(where: Engine | str, doing: str = "") -> Iterator[None]:
    """Turn a database failure (SQLAlchemy's, or raw sqlite3's from the bulk path) into a
    StoreError naming the database and what was being done."""
    try:
        yield
    except (SQLAlchemyError, sqlite3.Error) as err:
        detail = err.orig if isinstance(err, DBAPIError) else err
        doing = f"in {doing} " if doing else ""
        raise StoreError(f"database error {doing}({describe(where)}): {detail}") from err


def describe(where: Engine | str) -> str:
    """The database as a person names it (a password never shown)."""
    from sqlalchemy.engine import make_url

    try:
        found = where.url if isinstance(where, Engine) else make_url(where)
    except Exception:  # a URL that does not parse says so in its own error
        return str(where)
    if found.drivername.startswith("sqlite"):
        return f"SQLite file {found.database}"
    return str(found.render_as_string(hide_password=True))


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
