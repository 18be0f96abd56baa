"""The source registry and the contract every source declares."""

from __future__ import annotations

import pytest

from regtrack import sources
from regtrack.config import Config, EMAConfig, SourcesConfig
from regtrack.errors import UnknownSourceError
from regtrack.model import Agency
from regtrack.sources.base import Source


@pytest.mark.parametrize("name", sorted(sources.SOURCES))
def test_every_source_declares_the_contract(name: str) -> None:
    cls = sources.SOURCES[name]
    assert issubclass(cls, Source) and cls.name == name
    assert isinstance(cls.agency, Agency)
    assert cls.description and cls.document_kinds
    source = sources.get(name, Config())
    feeds = source.feeds()
    assert feeds and all(feed.url.startswith("https://") for feed in feeds)
    # Each feed's kind of document has its parser, and so has every kind a parser reports
    # (a stored snapshot is read again, by `reparse`, as the kind it was read as).
    assert all(feed.kind in source.parsers() for feed in feeds)
    assert set(cls.document_kinds) <= set(source.parsers())
    assert 0 <= source.max_vanished_fraction <= 1
    # Event rules: a rules module with history and changes, or the methods overridden.
    overridden = (
        type(source).history is not Source.history and type(source).changes is not Source.changes
    )
    assert overridden or (
        callable(getattr(cls.rules, "history", None))
        and callable(getattr(cls.rules, "changes", None))
    )
    assert getattr(Config().sources, name).enabled in (True, False)


def test_unknown_source_lists_the_known_ones() -> None:
    with pytest.raises(
        UnknownSourceError, match=r"unknown source 'emma' \(known: ema, fda, mhra, nice, smc\)"
    ):
        sources.get("emma", Config())


def test_the_kind_not_the_bytes_picks_the_parser() -> None:
    """A document fetched as one kind is read by that kind's parser, whatever its bytes
    look like; a kind the source has no parser for is a shape error, not a guess."""
    import datetime as dt
    from pathlib import Path

    from regtrack.errors import ShapeError
    from regtrack.fetch import Document

    source = sources.get("ema", Config(sources=SourcesConfig(ema=EMAConfig(min_rows=5))))
    report = (Path(__file__).parent / "data" / "ema" / "report_2024-09-01.json").read_bytes()
    now = dt.datetime.now(dt.UTC)
    with pytest.raises(ShapeError, match="EPAR page"):
        source.parse(Document("ema", "https://x/epar", report, now, kind="ema-epar-page"))
    with pytest.raises(ShapeError, match="not a document the ema source reads"):
        source.parse(Document("ema", "https://x/r", report, now, kind="no-such-kind"))
    assert source.parse(Document("ema", "https://x/r", report, now)).document_kind == (
        "ema-medicines-report-json"  # no kind given (a replayed file): from its bytes
    )
