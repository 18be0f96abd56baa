"""The pipeline: fetch (or replay) -> snapshot -> parse -> detect -> store, and its outcome.

Expected source failures (fetch errors, shape errors) become source health; anything else is
a bug and propagates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .detect import detect
from .errors import FetchError, ShapeError
from .fetch import Document, Fetcher, read_file
from .model import EventDraft, Snapshot
from .sources.base import Source
from .store import Store, Writer

Status = Literal["changed", "unchanged", "not_modified", "failed"]


@dataclass
class PollOutcome:
    """What one feed's poll did, for the CLI to print and the daemon to log."""

    source: str
    url: str
    status: Status
    message: str = ""
    events: list[tuple[EventDraft, bool]] = field(default_factory=list)
    records: int | None = None
    generated_at: dt.datetime | None = None

    @property
    def news(self) -> list[EventDraft]:
        return [draft for draft, backfill in self.events if not backfill]


def poll(
    store: Store, source: Source, fetcher: Fetcher | None, *, from_file: Path | None = None
) -> list[PollOutcome]:
    """Poll every feed of a source (or replay one file as its document)."""
    if from_file is not None:
        return [process(store, source, read_file(source.name, from_file, source.feeds()[0]))]
    if fetcher is None:
        raise ValueError("poll needs a fetcher unless it replays a file")
    outcomes = []
    for url in source.feeds():
        last = store.last_snapshot(source.name, url)
        usable = last is not None and last.parse_ok
        try:
            document = fetcher.get(
                source.name,
                url,
                etag=last.etag if last and usable else None,
                last_modified=last.last_modified if last and usable else None,
            )
        except FetchError as err:
            with store.transaction() as tx:
                tx.record_health(source.name, ok=False, error=str(err))
            outcomes.append(PollOutcome(source.name, url, "failed", str(err)))
            continue
        if document is None:
            with store.transaction() as tx:
                tx.record_health(source.name, ok=True)
            outcomes.append(PollOutcome(source.name, url, "not_modified", "304 Not Modified"))
            continue
        outcomes.append(process(store, source, document))
    return outcomes


def process(store: Store, source: Source, document: Document) -> PollOutcome:
    """Run one document through the pipeline; unchanged bytes cost a hash and one query."""
    last = store.last_snapshot(source.name, document.url)
    if last is not None and last.sha256 == document.sha256 and last.parse_ok:
        with store.transaction() as tx:
            tx.record_health(source.name, ok=True)
        return PollOutcome(source.name, document.url, "unchanged", "document unchanged")
    # The snapshot is committed before parsing, so even a malformed document is kept.
    with store.transaction() as tx:
        snapshot = tx.add_snapshot(_snapshot_of(document), document.content)
    with store.transaction() as tx:
        return _parse_and_apply(tx, source, document, snapshot, first_poll=None)


def reparse(store: Store, source: Source) -> list[PollOutcome]:
    """Rebuild a source's state from its stored snapshots, oldest first, in one transaction.

    Events already stored keep their detection time and backfill flag; only missing ones are
    added, so running it twice changes nothing.
    """
    outcomes = []
    with store.transaction() as tx:
        tx.clear_state(source.name)
        previous = None
        first = True
        for snapshot in store.snapshots(source.name):
            if snapshot.sha256 == previous:
                continue
            document = Document(
                source=source.name,
                url=snapshot.url,
                content=tx.content(snapshot.sha256),
                fetched_at=snapshot.fetched_at,
                http_status=snapshot.http_status,
                content_type=snapshot.content_type,
            )
            outcome = _parse_and_apply(tx, source, document, snapshot, first_poll=first)
            if outcome.status != "failed":
                previous, first = snapshot.sha256, False
            outcomes.append(outcome)
    return outcomes


def _parse_and_apply(
    tx: Writer, source: Source, document: Document, snapshot: Snapshot, *, first_poll: bool | None
) -> PollOutcome:
    assert snapshot.id is not None
    try:
        result = source.parse(document)
        known = tx.known(source.name)
        # Detection raises before anything is written, so a shape error leaves no trace.
        detection = detect(
            source, known, result, first_poll=not known if first_poll is None else first_poll
        )
    except ShapeError as err:
        where = document.replayed_from or document.url
        message = f"{where}: {err}"
        tx.mark_snapshot(snapshot.id, error=message)
        tx.record_parse_failure(source.name, message)
        return PollOutcome(source.name, document.url, "failed", message)
    stored = tx.apply(source.name, source.agency.value, snapshot, result, detection)
    tx.mark_snapshot(snapshot.id, result=result)
    tx.record_health(
        source.name, ok=True, changed=True, result=result, records=len(result.observations)
    )
    return PollOutcome(
        source.name,
        document.url,
        "changed",
        f"{len(result.observations)} records, {len(stored)} new events",
        events=stored,
        records=len(result.observations),
        generated_at=result.generated_at,
    )


def _snapshot_of(document: Document) -> Snapshot:
    return Snapshot(
        source=document.source,
        url=document.url,
        fetched_at=document.fetched_at,
        http_status=document.http_status,
        etag=document.etag,
        last_modified=document.last_modified,
        content_type=document.content_type,
        sha256=document.sha256,
        size=len(document.content),
        replayed_from=document.replayed_from,
    )
