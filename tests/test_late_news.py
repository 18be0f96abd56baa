"""A change of status is news however late the body publishes it; what only adds to the past,
published late, is history. On EMA reports in their real JSON form (issue 22)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from regtrack.alerts import Alerts
from regtrack.config import (
    Config,
    EMAConfig,
    MailConfig,
    RecipientConfig,
    SourcesConfig,
    SubscriptionConfig,
)
from regtrack.emails import Renderer
from regtrack.ingest import reparse
from regtrack.poll import poll
from regtrack.reports import current
from regtrack.sources.ema import EMAReport
from regtrack.store import Store

DATA = Path(__file__).parent / "data" / "ema"
LATE = DATA / "report_2026-01-29_late.json"


def config(tmp_path: Path) -> Config:
    """EMA with its default 90-day news window, and one daily EMA digest written to files."""
    return Config(
        sources=SourcesConfig(ema=EMAConfig(min_rows=5, max_vanished_fraction=0.2)),
        mail=MailConfig(directory=str(tmp_path / "mail"), timezone="UTC"),
        recipients=[
            RecipientConfig(
                email="ra@example.org",
                subscriptions=[SubscriptionConfig(frequency="daily", agencies=["EMA"])],
            )
        ],
    )


def replay(store: Store, cfg: Config, path: Path) -> Any:
    (outcome,) = poll(store, EMAReport.from_config(cfg), None, from_file=path)
    return outcome


def flags(store: Store) -> dict[tuple[str, str], tuple[bool, Any]]:
    return {(e.reference, e.kind): (e.backfill, e.details.get("late")) for e in store.events()}


def test_a_status_change_published_late_is_news_a_late_variation_is_history(
    store: Store, tmp_path: Path
) -> None:
    cfg = config(tmp_path)
    first = replay(store, cfg, DATA / "report_2024-11-21.json")
    assert first.news == []  # a first poll is history
    second = replay(store, cfg, LATE)
    expected = json.loads((DATA / "report_2026-01-29_late.expected.json").read_text())
    news = [
        (d.reference, d.kind.value, str(d.event_date), d.details.get("late")) for d in second.news
    ]
    assert news == [
        (e["reference"], e["kind"], e["event_date"], e["late"]) for e in expected["news"]
    ]
    stored = {(e.reference, e.kind): e for e in store.events()}
    for case in expected["late"]:
        event = stored[(case["reference"], case["kind"])]
        assert str(event.event_date) == case["event_date"]
        assert event.backfill and event.details.get("late") is True
    withdrawal = stored[("EMEA/H/C/009007", "withdrawal")]
    assert not withdrawal.backfill and withdrawal.published_at == dt.date(2026, 1, 29)

    # The status line gives both dates: when it happened, and when EMA published it.
    statuses = current([e for e in store.events() if e.reference == "EMEA/H/C/009007"])
    assert str(statuses["EMA"]) == (
        "Etaplex authorisation ended (withdrawn) since 2024-01-15, published 2026-01-29 "
        "(EMEA/H/C/009007)"
    )

    # reparse rebuilds the same flags from the stored documents.
    before = flags(store)
    reparse(store, EMAReport.from_config(cfg))
    assert flags(store) == before


def test_the_digest_shows_the_late_status_change_with_both_dates(
    store: Store, tmp_path: Path
) -> None:
    cfg = config(tmp_path)
    replay(store, cfg, DATA / "report_2024-11-21.json")
    replay(store, cfg, LATE)
    _, (text,) = Alerts(cfg, store, Renderer()).preview(
        "ra@example.org", "daily", dt.datetime.now(dt.UTC)
    )
    changes = text.split("== Status changes ==")[1]
    assert "EMEA/H/C/009007" in changes and "published late" in changes
    assert (
        "EMA's register of 29 January 2026 shows Etaplex withdrawn on 15 January 2024 "
        "(published late)" in changes
    )
    assert "II/0007" not in text.split("History published late")[0]  # the variation: history
