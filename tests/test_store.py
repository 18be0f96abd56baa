"""The store on SQLite and PostgreSQL: snapshots, natural keys, products, errors."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from regtrack.config import Config, ProductConfig
from regtrack.detect import Detection
from regtrack.errors import ProductNotFoundError, StoreError
from regtrack.model import (
    Alias,
    Blob,
    DateKind,
    EventDraft,
    EventKind,
    NameKind,
    Observation,
    ProductName,
    Snapshot,
)  # fmt: skip
from regtrack.plan import Where, plan
from regtrack.store import EventFilter, Store

NEXPOVIO = (ProductName("Nexpovio", NameKind.BRAND, "EU"), ProductName("selinexor", NameKind.INN))


def snapshot(content: bytes = b"[]") -> Snapshot:
    import hashlib

    return Snapshot(source="ema", url="https://example.test/r.json",
                    sha256=hashlib.sha256(content).hexdigest(), size=len(content))  # fmt: skip


def draft(kind: EventKind = EventKind.AUTHORISATION, **kw: object) -> EventDraft:
    values: dict[str, object] = dict(
        kind=kind, reference="EMEA/H/C/005127", names=NEXPOVIO, event_date=dt.date(2021, 3, 26),
        date_kind=DateKind.DECISION, evidence="Marketing authorisation date: 26/03/2021",
    )  # fmt: skip
    return EventDraft(**(values | kw))  # type: ignore[arg-type]


def write(store: Store, drafts: list[EventDraft], content: bytes = b"[]") -> list[object]:
    obs = Observation("EMEA/H/C/005127", NEXPOVIO, {"status": "Authorised"})
    detection = Detection(events=[(d, False) for d in drafts], upserts=[obs])
    with store.transaction() as tx:
        snap = tx.add_snapshot(snapshot(content), content)
        known = tx.known("ema")
        assert snap.id is not None
        where = Where("ema", "EMA", snap.id, snap.url, snap.fetched_at)
        return list(tx.write(plan(detection, known, where)))


def test_document_bytes_are_stored_once_per_hash_and_compressed(store: Store) -> None:
    content = b'[{"name_of_medicine": "Nexpovio"}]' * 200
    with store.transaction() as tx:
        tx.add_snapshot(snapshot(content), content)
        tx.add_snapshot(snapshot(content), content)
    with Session(store.engine) as session:
        blobs = session.exec(select(Blob)).all()
        assert len(blobs) == 1 and blobs[0].size == len(content)
        assert len(blobs[0].data) < len(content) / 10
    assert len(store.snapshots("ema")) == 2
    with store.transaction() as tx:
        assert tx.content(blobs[0].sha256) == content


def test_natural_key_makes_duplicates_impossible(store: Store) -> None:
    assert len(write(store, [draft()])) == 1
    assert write(store, [draft()], b"[1]") == []  # the same event from a later document
    opinion = draft(EventKind.OPINION, discriminator="2021-01-28")
    assert len(write(store, [draft(), opinion], b"[2]")) == 1
    assert sorted(e.kind for e in store.events()) == ["authorisation", "opinion"]


def test_product_names_match_across_case_marks_and_punctuation(store: Store) -> None:
    with store.transaction() as tx:
        tx.sync_products([ProductConfig(name="selinexor", aliases=["Xpovio", "KPT-330"])])
    write(store, [draft()])
    for name in ("selinexor", "SELINEXOR", "Nexpovio®", "xpovio™", "kpt 330", "KPT330"):
        product, _ = store.find_product(name)
        assert product.name == "selinexor"
    (event,) = store.events()
    assert event.product == "selinexor"
    with Session(store.engine) as session:
        assert session.exec(select(func.count()).select_from(Alias)).one() == 4


def test_unknown_product_suggests_near_names(store: Store) -> None:
    write(store, [draft()])
    with pytest.raises(ProductNotFoundError, match="did you mean: Nexpovio"):
        store.find_product("nexpo")
    with pytest.raises(ProductNotFoundError, match="no product known by the name 'zzz'"):
        store.find_product("zzz")


def test_event_filters(store: Store) -> None:
    write(store, [draft(), draft(EventKind.OPINION, event_date=dt.date(2021, 1, 28))])
    assert [e.kind for e in store.events()] == ["opinion", "authorisation"]  # by date
    assert [e.kind for e in store.events(EventFilter(kind="opinion"))] == ["opinion"]
    assert [e.kind for e in store.events(EventFilter(since=dt.date(2021, 2, 1)))] == [
        "authorisation"
    ]
    assert store.events(EventFilter(agency="fda")) == []
    assert len(store.events(EventFilter(agency="ema"))) == 2
    assert [e.kind for e in store.events(EventFilter(until=dt.date(2021, 2, 1)))] == ["opinion"]
    # An undated event stands at the day it was detected, for since and until alike.
    write(store, [replace(draft(EventKind.WITHDRAWAL, event_date=None), discriminator="w")])
    today = dt.datetime.now(dt.UTC).date()
    assert "withdrawal" in [e.kind for e in store.events(EventFilter(since=today))]
    assert "withdrawal" not in [
        e.kind for e in store.events(EventFilter(until=today - dt.timedelta(days=1)))
    ]
    assert "withdrawal" in [e.kind for e in store.events(EventFilter(until=today))]


def test_the_export_stream_gives_each_events_public_fields(store: Store) -> None:
    """What `events --format jsonl` streams (dates and details as the database gives them,
    converted once) is each event's public form, on SQLite and PostgreSQL alike: dates ISO,
    the detection time with its UTC offset, details an object, flags booleans."""
    from regtrack.listing import FIELDS, event_dict

    write(store, [draft(published_at=dt.date(2021, 3, 29), details={"conditional": True}),
                  draft(EventKind.WITHDRAWAL, event_date=None, discriminator="w")])  # fmt: skip
    rows = store.events()
    exported = list(store.iter_public())
    assert (
        exported == [event_dict(r) for r in rows]
        and [list(e) for e in exported] == [list(FIELDS)] * 2
    )
    first = exported[0]
    assert (first["event_date"], first["published_at"]) == ("2021-03-26", "2021-03-29")
    assert first["details"] == {"conditional": True} and first["backfill"] is False
    assert first["detected_at"].endswith("+00:00")
    assert dt.datetime.fromisoformat(first["detected_at"]) == rows[0].detected_at


def test_bad_database_url_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="bad database URL"):
        Store.open("nosuchdb://x")


def test_unwritable_sqlite_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="unable to open database file"):
        Store.open(f"sqlite:///{tmp_path / 'missing-dir' / 'regtrack.db'}")


def test_sqlite_readers_see_committed_data_while_a_writer_is_busy(sqlite_store: Store) -> None:
    write(sqlite_store, [draft()])
    with Session(sqlite_store.engine) as session:
        assert session.exec(select(func.count()).select_from(Blob)).one() == 1
        mode = session.connection().exec_driver_sql("PRAGMA journal_mode").scalar()
    assert mode == "wal"
    started, release = threading.Event(), threading.Event()

    def long_write() -> None:
        with sqlite_store.transaction() as tx:
            tx.add_snapshot(snapshot(b"[9]"), b"[9]")
            started.set()
            release.wait(5)

    writer = threading.Thread(target=long_write)
    writer.start()
    started.wait(5)
    try:
        assert [e.kind for e in sqlite_store.events()] == ["authorisation"]  # not blocked
    finally:
        release.set()
        writer.join()


def test_a_more_precise_report_refines_the_stored_event(store: Store) -> None:
    vague = draft(EventKind.VARIATION, discriminator="SUPPL-12", event_date=None,
                  date_kind=DateKind.DETECTED, details={"class": "EFFICACY"})  # fmt: skip
    assert len(write(store, [vague])) == 1
    (first,) = store.events()
    precise = draft(
        EventKind.INDICATION_EXTENSION,
        discriminator="SUPPL-12",
        details={"action_types": [8]},
        evidence="action type 8: new indication",
    )
    assert write(store, [precise], b"[1]") == []  # not a new event...
    (event,) = store.events()  # ...but the stored one, made more precise
    assert (event.id, event.detected_at) == (first.id, first.detected_at)
    assert event.kind == "indication_extension" and event.event_date == dt.date(2021, 3, 26)
    assert event.details == {"class": "EFFICACY", "action_types": [8]}
    assert event.evidence.endswith("action type 8: new indication")


def _plan(store: Store, query: object) -> str:
    from sqlalchemy.dialects import sqlite

    compiled = query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})  # type: ignore[attr-defined]
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
    return " | ".join(str(r[-1]) for r in rows)


def test_the_main_queries_are_served_by_indexes(sqlite_store: Store) -> None:
    """EXPLAIN QUERY PLAN of the queries a poll and the read commands run most."""
    import datetime as dt

    from sqlalchemy import func, select

    from regtrack.model import Event, RecordState, Snapshot

    e = Event.__table__.c  # type: ignore[attr-defined]
    by_product = select(e.id).where(e.product_id == 1)
    assert "INDEX ix_event_product_agency" in _plan(sqlite_store, by_product)
    # Which products several bodies know (status and lag): from the index alone.
    several = (
        select(e.product_id).group_by(e.product_id).having(func.count(func.distinct(e.agency)) >= 2)
    )
    assert "COVERING INDEX ix_event_product_agency" in _plan(sqlite_store, several)
    # The feed's newest 200 are a top-N sort: an index on detected_at cost a tenth of
    # writing a register, so there is none.
    newest = select(e.id).order_by(e.detected_at.desc()).limit(200)
    assert "USE TEMP B-TREE FOR ORDER BY" in _plan(sqlite_store, newest)
    since = select(e.id).where(e.event_date >= dt.date(2024, 1, 1))
    assert "INDEX ix_event_event_date" in _plan(sqlite_store, since)
    natural = select(e.id).where(e.agency == "EMA", e.reference.in_(["EMEA/H/C/005127"]))
    assert "INDEX sqlite_autoindex_event_1" in _plan(sqlite_store, natural)
    r = RecordState.__table__.c  # type: ignore[attr-defined]
    known = select(r.digest).where(r.source == "ema", r.reference.in_(["x"]))
    assert "INDEX sqlite_autoindex_recordstate_1" in _plan(sqlite_store, known)
    s = Snapshot.__table__.c  # type: ignore[attr-defined]
    latest = select(func.max(s.id)).where(s.source == "nice").group_by(s.url)
    assert "INDEX ix_snapshot_source_url" in _plan(sqlite_store, latest)
    # No index duplicates another's leading columns.
    with sqlite_store.engine.connect() as conn:
        indexes = (
            conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN "
                "('event', 'recordstate', 'snapshot')"
            )
            .scalars()
            .all()
        )
    assert "ix_event_agency" not in indexes and "ix_recordstate_source" not in indexes
    assert "ix_event_detected_at" not in indexes
    assert "ix_snapshot_source" not in indexes


def test_a_bulk_load_rebuilds_the_event_indexes_in_its_transaction(
    sqlite_store: Store, small_config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A register's first poll into a smaller table builds SQLite's secondary indexes after
    the rows (a sort, not a random insert per row): the same indexes, the same events; a
    failure in the middle rolls back to the old indexes."""
    from regtrack.model import Event
    from regtrack.poll import poll
    from regtrack.sources.ema import EMAReport
    from regtrack.store import bulk

    def indexes() -> set[str]:
        with sqlite_store.engine.connect() as conn:
            return set(conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'event'"
            ).scalars())  # fmt: skip

    before = indexes()
    assert {"ix_event_kind", "ix_event_event_date", "ix_event_product_agency"} <= before
    monkeypatch.setattr(bulk, "REBUILD_FROM", 1)
    report = Path(__file__).parent / "data" / "ema" / "report_2024-09-01.json"
    source = EMAReport.from_config(small_config)

    # A database failure in the middle of the load: a trigger aborts one row's insert.
    with sqlite_store.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TRIGGER fail BEFORE INSERT ON event WHEN NEW.reference = "
            "(SELECT MAX(reference) FROM recordstate) BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    with pytest.raises(StoreError, match="disk full"):
        poll(sqlite_store, source, None, from_file=report)
    # The old indexes are back, and nothing of the failed load is stored.
    assert indexes() == before and sqlite_store.events() == []
    with sqlite_store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER fail")
    (outcome,) = poll(sqlite_store, source, None, from_file=report)
    assert outcome.status == "changed" and len(sqlite_store.events()) == len(outcome.events) > 0
    assert indexes() == before
    assert "INDEX ix_event_kind" in _plan(sqlite_store, select(Event.id).where(Event.kind == "x"))
