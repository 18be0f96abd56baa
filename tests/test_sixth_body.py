"""Adding a body touches its package, the registry, the agency enum and its config section,
and nothing else: a fake sixth body polled through the real pipeline, scheduled by the real
daemon, and shown by the real timeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from regtrack import schedule, sources
from regtrack.config import Config
from regtrack.poll import poll
from regtrack.store import EventFilter, Store
from regtrack.timeline import render_timeline

from .fake_source import FakeSource


def test_a_sixth_body_runs_through_everything(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sources.SOURCES, "fake", FakeSource)  # the registry's one line
    source = sources.get("fake", Config())
    first = tmp_path / "first.json"
    first.write_text(json.dumps([
        {"reference": "F-1", "name": "Fakeprin", "status": "authorised", "date": "2024-01-02"},
        {"reference": "F-2", "name": "Mockazole", "status": "authorised", "date": "2024-02-03"},
    ]))  # fmt: skip
    (outcome,) = poll(store, source, None, from_file=first)
    assert outcome.status == "changed" and outcome.news == []  # a first poll is history
    later = tmp_path / "later.json"
    later.write_text(json.dumps([
        {"reference": "F-1", "name": "Fakeprin", "status": "withdrawn", "date": "2024-06-01"},
        {"reference": "F-2", "name": "Mockazole", "status": "authorised", "date": "2024-02-03"},
    ]))  # fmt: skip
    (outcome,) = poll(store, source, None, from_file=later)
    assert [(d.kind.value, d.reference) for d in outcome.news] == [("withdrawal", "F-1")]
    product, aliases = store.find_product("fakeprin")
    text = render_timeline(
        product, aliases, store.events(EventFilter(product_id=product.id)), "table"
    )
    assert "Fakeprin authorisation ended (withdrawn) since 2024-06-01 (F-1)" in text
    # The daemon learns its schedule from the source: every 6 hours, by its config section.
    (job,) = schedule.source_jobs(store, source, fetcher=None)  # type: ignore[arg-type]
    assert job.id == "fake" and job.period is not None and job.period.total_seconds() == 6 * 3600
    assert source.hosts() == frozenset({"register.example.org"})
