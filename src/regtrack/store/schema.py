"""The schema's version and its numbered migrations (as reader's `_storage/_schema.py`).

A store records its version in one row of `schema_version`. Opening a store reads that row:
at the current version nothing else is done (read commands never inspect the tables). A
fresh database gets every table as `model` declares it and the current version. An older
store runs each migration after its version, in order, in one transaction, and records the
new version with it.

A change to a table is a new function at the end of `MIGRATIONS`; its number is its place.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, inspect
from sqlmodel import SQLModel

from ..errors import StoreError


def _columns(conn: Connection, table: str) -> set[str]:
    return {c["name"] for c in inspect(conn).get_columns(table)}


def _add_column(conn: Connection, table: str, column: str, kind: str) -> None:
    """A column added to a table an earlier version created (no-op when it is there)."""
    if column not in _columns(conn, table):
        conn.exec_driver_sql(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {kind}')


def _1_tables(conn: Connection) -> None:
    """Every table a store of before the versions lacks (`create_all` adds missing tables
    only, and never alters one)."""
    SQLModel.metadata.create_all(conn)


def _2_event_brand_and_link(conn: Connection) -> None:
    """Each event's brand and page (`regtrack reparse` fills them from stored documents)."""
    _add_column(conn, "event", "brand", "VARCHAR")
    _add_column(conn, "event", "link", "VARCHAR")


def _3_event_product_agency_index(conn: Connection) -> None:
    """Events by product and body in one index (which products several bodies know, read
    from the index alone: a tenth of the time on 165,000 events); it serves what the index
    on product alone did."""
    conn.exec_driver_sql("DROP INDEX IF EXISTS ix_event_product_id")
    conn.exec_driver_sql(
        "CREATE INDEX IF NOT EXISTS ix_event_product_agency ON event (product_id, agency)"
    )


#: The migrations in order: the store's version is how many of them it has.
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (
    _1_tables,
    _2_event_brand_and_link,
    _3_event_product_agency_index,
)
VERSION = len(MIGRATIONS)

_CREATE = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"


def version(conn: Connection) -> int | None:
    """The store's schema version; None for a database without one (fresh, or made before
    versions were recorded)."""
    if "schema_version" not in inspect(conn).get_table_names():
        return None
    found = conn.exec_driver_sql("SELECT max(version) FROM schema_version").scalar()
    return None if found is None else int(found)


def current(conn: Connection) -> bool:
    """Whether the store is at this program's version, by one query (the cheap path of
    every open)."""
    try:
        found = conn.exec_driver_sql("SELECT max(version) FROM schema_version").scalar()
    except Exception:  # no such table: a fresh or an old store, upgraded by `upgrade`
        return False
    return found == VERSION


def upgrade(conn: Connection) -> int:
    """Bring the store to `VERSION` inside the caller's transaction; returns the version it
    was at (0 for a store made before versions, or a fresh one)."""
    found = version(conn)
    fresh = found is None and "event" not in inspect(conn).get_table_names()
    if found is not None and found > VERSION:
        raise StoreError(
            f"the store's schema is version {found}, newer than this regtrack's ({VERSION}): "
            "upgrade regtrack"
        )
    conn.exec_driver_sql(_CREATE)
    if fresh:
        SQLModel.metadata.create_all(conn)  # every table as declared now: nothing to migrate
    else:
        for migration in MIGRATIONS[found or 0 :]:
            migration(conn)
    conn.exec_driver_sql("DELETE FROM schema_version")
    conn.exec_driver_sql(f"INSERT INTO schema_version (version) VALUES ({VERSION})")
    return found or 0
