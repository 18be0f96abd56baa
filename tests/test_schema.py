"""The store's schema: a version row, numbered migrations, nothing inspected when current."""

from __future__ import annotations

from pathlib import Path

import pytest

from regtrack.config import Config
from regtrack.errors import StoreError
from regtrack.poll import poll
from regtrack.sources.ema import EMAReport
from regtrack.store import Store
from regtrack.store.schema import VERSION

REPORT = Path(__file__).parent / "data" / "ema" / "report_2024-09-01.json"


def _version(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT version FROM schema_version").scalar_one())


def _url(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def test_a_fresh_store_is_at_the_current_version_and_reopening_changes_nothing(
    store: Store,
) -> None:
    assert _version(store) == VERSION
    again = Store.open(_url(store))
    assert _version(again) == VERSION
    with again.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM schema_version").scalar_one() == 1
    again.close()


def test_a_store_made_before_versions_is_migrated_with_its_events_kept(
    store: Store, small_config: Config
) -> None:
    """A store an earlier regtrack made: no version row, no brand or link columns, events
    indexed by product alone."""
    (outcome,) = poll(store, EMAReport.from_config(small_config), None, from_file=REPORT)
    events = len(store.events())
    assert outcome.status == "changed" and events > 0
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE schema_version")
        conn.exec_driver_sql('ALTER TABLE "event" DROP COLUMN "brand"')
        conn.exec_driver_sql('ALTER TABLE "event" DROP COLUMN "link"')
        conn.exec_driver_sql("DROP INDEX ix_event_product_agency")
        conn.exec_driver_sql("CREATE INDEX ix_event_product_id ON event (product_id)")
    store.engine.dispose()

    upgraded = Store.open(_url(store))
    assert _version(upgraded) == VERSION
    from sqlalchemy import inspect

    with upgraded.engine.connect() as conn:
        names = {i["name"] for i in inspect(conn).get_indexes("event")}
    assert "ix_event_product_agency" in names and "ix_event_product_id" not in names
    rows = upgraded.events()
    assert len(rows) == events and all(r.brand is None and r.link is None for r in rows)
    upgraded.close()


def test_a_store_of_a_newer_regtrack_is_refused_in_one_line(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE schema_version SET version = {VERSION + 1}")
    store.engine.dispose()
    with pytest.raises(StoreError, match="newer than this regtrack"):
        Store.open(_url(store))
