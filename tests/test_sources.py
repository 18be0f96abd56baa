"""The source registry and the contract every source declares."""

from __future__ import annotations

import pytest

from regtrack import sources
from regtrack.config import Config
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
    # Each feed's kind of document has its parser.
    assert all(feed.kind in source.parsers() for feed in feeds)
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
