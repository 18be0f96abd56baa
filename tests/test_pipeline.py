"""The whole pipeline on a real store (SQLite and PostgreSQL): replay, detect, store, reparse."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from regtrack.config import Config
from regtrack.errors import StoreError
from regtrack.ingest import reparse
from regtrack.poll import poll
from regtrack.sources.ema import EMAReport
from regtrack.store import EventFilter, Store
from regtrack.store.writer import Writer

DATA = Path(__file__).parent / "data" / "ema"


def replay(store: Store, config: Config, path: Path) -> Any:
    (outcome,) = poll(store, EMAReport.from_config(config), None, from_file=path)
    return outcome


def event_keys(store: Store) -> set[tuple[str, str, str]]:
    return {(e.reference, e.kind, e.discriminator) for e in store.events()}


@pytest.mark.parametrize("form", ["json", "xlsx"])
def test_later_report_yields_exactly_the_changes_made(
    store: Store, small_config: Config, ema_reports: dict[str, Path], form: str
) -> None:
    first = replay(store, small_config, ema_reports[f"2024-09-01.{form}"])
    assert first.status == "changed" and first.news == []
    assert {b for _, b in first.events} == {True}
    assert replay(store, small_config, ema_reports[f"2024-09-01.{form}"]).status == "unchanged"

    second = replay(store, small_config, ema_reports[f"2024-11-21.{form}"])
    expected = json.loads((DATA / "report_2024-11-21.expected.json").read_text())["events"]
    got = {(d.reference, d.kind.value): d for d in second.news}
    assert sorted(got) == sorted((e["reference"], e["kind"]) for e in expected)
    for e in expected:
        draft = got[(e["reference"], e["kind"])]
        assert (draft.event_date.isoformat() if draft.event_date else None) == e["event_date"]
        assert draft.date_kind.value == e["date_kind"]
        assert draft.date_approximate is e["date_approximate"]
        assert e["details"].items() <= draft.details.items()

    stored = {(e.reference, e.kind): e for e in store.events(EventFilter(backfill=False))}
    assert sorted(stored) == sorted(got)
    conversion = stored[("EMEA/H/C/005127", "conversion_to_full")]
    assert conversion.product == "selinexor"
    assert conversion.source_url.startswith("https://www.ema.europa.eu/")
    assert conversion.snapshot_id is not None and conversion.detected_at is not None
    assert replay(store, small_config, ema_reports[f"2024-11-21.{form}"]).status == "unchanged"
    assert len(store.events(EventFilter(backfill=False))) == len(expected)


def test_real_report_then_timeline_facts(store: Store, ema_sample: Path) -> None:
    outcome = replay(store, Config(), ema_sample)
    assert outcome.records == 2096 and outcome.news == []
    product, aliases = store.find_product("NEXPOVIO®")
    assert product.name == "selinexor"
    assert {a.name for a in aliases} >= {"Nexpovio", "selinexor"}
    events = {
        (e.kind, e.event_date.isoformat()) for e in store.events(EventFilter(product_id=product.id))
    }
    assert events == {("opinion", "2021-01-28"), ("authorisation", "2021-03-26")}
    count = len(store.events())
    assert replay(store, Config(), ema_sample).status == "unchanged"
    assert len(store.events()) == count
    (health,) = store.health()
    assert health.healthy and health.records == 2096 and health.document_generated_at is not None


def test_malformed_document_is_kept_marks_source_unhealthy_changes_nothing(
    store: Store, small_config: Config, ema_reports: dict[str, Path], tmp_path: Path
) -> None:
    replay(store, small_config, ema_reports["2024-09-01.json"])
    before = event_keys(store)
    page = tmp_path / "error.json"
    page.write_bytes(b'{"error": "Service temporarily unavailable"}')
    outcome = replay(store, small_config, page)
    assert outcome.status == "failed" and "JSON is neither a list of records" in outcome.message
    assert str(page) in outcome.message  # names where the bad document came from
    assert event_keys(store) == before
    (health,) = store.health()
    assert not health.healthy and health.consecutive_failures == 1
    assert health.parse_health and health.parse_health.startswith("failed:")
    assert [s.parse_ok for s in store.snapshots("ema")] == [True, False]

    # A report missing most rows is a shape problem, never a flood of removals.
    partial = tmp_path / "partial.json"
    rows = json.loads((DATA / "report_2024-09-01.json").read_text())
    partial.write_text(json.dumps(rows[:2] * 3))  # enough rows, but 6 of 8 products gone
    assert replay(store, small_config, partial).status == "failed"
    assert event_keys(store) == before

    # The source recovers with the next good document.
    assert replay(store, small_config, ema_reports["2024-11-21.json"]).status == "changed"
    (health,) = store.health()
    assert health.healthy and health.consecutive_failures == 0


def test_reparse_is_idempotent_and_rebuilds_the_same_state(
    store: Store, small_config: Config, ema_reports: dict[str, Path]
) -> None:
    replay(store, small_config, ema_reports["2024-09-01.json"])
    replay(store, small_config, ema_reports["2024-11-21.json"])
    events = [(e.id, e.detected_at, e.backfill) for e in store.events()]
    with store.transaction() as tx:
        state = tx.known("ema")
    source = EMAReport.from_config(small_config)
    assert [o.status for o in reparse(store, source)] == ["changed", "changed"]
    assert sum(len(o.events) for o in reparse(store, source)) == 0
    assert [(e.id, e.detected_at, e.backfill) for e in store.events()] == events
    with store.transaction() as tx:
        assert tx.known("ema") == state


def test_reparse_recovers_events_that_were_lost(
    store: Store, small_config: Config, ema_reports: dict[str, Path]
) -> None:
    replay(store, small_config, ema_reports["2024-09-01.json"])
    replay(store, small_config, ema_reports["2024-11-21.json"])
    keys = event_keys(store)
    from sqlmodel import Session, delete

    from regtrack.model import Event

    with Session(store.engine) as session:
        session.execute(delete(Event).where(Event.kind == "refusal"))
        session.commit()
    assert len(event_keys(store)) == len(keys) - 1
    (added,) = [o for o in reparse(store, EMAReport.from_config(small_config)) if o.events]
    assert [d.kind.value for d, _ in added.events] == ["refusal"]
    assert event_keys(store) == keys


def test_failure_in_the_middle_of_a_write_loses_nothing(
    store: Store,
    small_config: Config,
    ema_reports: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    replay(store, small_config, ema_reports["2024-09-01.json"])
    before_events = event_keys(store)
    with store.transaction() as tx:
        before_state = tx.known("ema")

    original = Writer.write

    def apply_then_fail(self: Writer, *args: Any, **kwargs: Any) -> Any:
        original(self, *args, **kwargs)  # state and events written inside the transaction...
        raise StoreError("disk full (simulated)")  # ...then the database gives up

    monkeypatch.setattr(Writer, "write", apply_then_fail)
    with pytest.raises(StoreError, match="disk full"):
        replay(store, small_config, ema_reports["2024-11-21.json"])
    monkeypatch.undo()

    assert event_keys(store) == before_events
    with store.transaction() as tx:
        assert tx.known("ema") == before_state
    # One transaction per document: its snapshot went with its state and events, so the
    # source is as it was before the document, and polling it again processes it in full.
    assert len(store.snapshots("ema")) == 1
    outcome = replay(store, small_config, ema_reports["2024-11-21.json"])
    expected = json.loads((DATA / "report_2024-11-21.expected.json").read_text())["events"]
    assert outcome.status == "changed" and len(outcome.news) == len(expected)
