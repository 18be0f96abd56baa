"""One document through the pipeline: snapshot -> parse -> detect -> store, in one
transaction, and its outcome; and `reparse`, the same for every stored snapshot of a source.

A parser or rule meeting odd input is a shape failure (the document kept, marked failed);
a database failure is not the document's and propagates.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Literal

from .detect import detect, fingerprint
from .errors import ShapeError
from .fetch import Document
from .follow import followed
from .model import EventDraft, Link, ParseResult, Snapshot
from .plan import Where, plan
from .sources.base import Source
from .store import Store
from .store.writer import Writer

Status = Literal["changed", "unchanged", "not_modified", "failed"]

#: Told what a long poll or reparse is doing (one line on a terminal: `cli.app.terminal_progress`).
Progress = Callable[[str], None]


def quiet(_message: str) -> None:
    return None


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
    #: What to fetch next, by the follow policy (pages, pages of new or changed records).
    follow: list[Link] = field(default_factory=list)
    #: The document was fetched but its shape was wrong (not a fetch failure).
    shape_error: bool = False
    #: Read as its feed's first document: the pages it leads to bring history.
    first_poll: bool = False

    @property
    def news(self) -> list[EventDraft]:
        return [draft for draft, backfill in self.events if not backfill]


def process(
    store: Store,
    source: Source,
    document: Document,
    *,
    last: Snapshot | None = None,
    parsed_before: bool = False,
    progress: Progress = quiet,
    backfill: bool = False,
) -> PollOutcome:
    """Run one document through the pipeline in one transaction: its snapshot, state and
    events are committed together, or (killed, or the database failing) not at all. A
    document whose shape is wrong is still kept, marked failed. Unchanged bytes cost a hash."""
    if last is not None and last.sha256 == document.sha256 and last.parse_ok:
        return unchanged(source, document, "unchanged", "document unchanged")
    seen = bool(last and last.parse_ok) or parsed_before
    previous = _dated(last) if last is not None and last.parse_ok else None
    with bulk_work(), store.transaction() as tx:
        # Stored once it is parsed, with how it parsed (one row): see `_settle`.
        snapshot = _snapshot_of(document)
        return _parse_and_apply(
            tx, source, document, snapshot, feed_seen=seen, previous=previous, progress=progress,
            backfill=backfill,
        )  # fmt: skip


def unchanged(source: Source, document: Document, status: Status, message: str) -> PollOutcome:
    """A document as it was last time (same bytes, or a 304's stored copy), with the links it
    still leads to every time it is read: a tracked project's page, whose stages move while
    the listing stays the same. Only a source's documents cheap to read again
    (`Source.links_when_unchanged`) are parsed for them, by the follow policy; one that no
    longer parses (the parser changed since) is a health failure, not a silence."""
    if document.kind not in source.links_when_unchanged:
        return PollOutcome(source.name, document.url, status, message)
    try:
        result = source.parse(document)
    except Exception as err:  # odd input, whatever it raises (as `_parse_and_apply`)
        reason = str(err) if isinstance(err, ShapeError) else f"{type(err).__name__}: {err}"
        return PollOutcome(source.name, document.url, "failed", f"{document.url}: {reason[:500]}",
                           shape_error=True)  # fmt: skip
    always = replace(result, links=[link for link in result.links if link.always])
    follow = followed(source, always, (), first_poll=False)
    return PollOutcome(source.name, document.url, status, message, follow=follow)


def _dated(snapshot: Snapshot) -> dt.date:
    """A document's own date, else when it was fetched."""
    return (snapshot.generated_at or snapshot.fetched_at).date()


@contextmanager
def bulk_work() -> Iterator[None]:
    """Pause the cyclic garbage collector while a whole register becomes records: a million
    new containers without cycles, which it would otherwise rescan again and again (half the
    parse time of a Drugs@FDA release). It runs again afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def reparse(store: Store, source: Source, progress: Progress = quiet) -> list[PollOutcome]:
    """Rebuild a source's state from its stored snapshots, oldest first, in one transaction:
    killed, or the database failing, the source is left as it was. A snapshot whose shape is
    wrong is skipped (its outcome says why) and the others are read.

    Events already stored keep their detection time and backfill flag; only missing ones are
    added, so running it twice changes nothing.
    """
    outcomes = []
    with bulk_work(), store.transaction() as tx:
        tx.clear_state(source.name)
        previous: dict[str, str] = {}  # feed URL -> hash of its last parsed document
        dated: dict[str, dt.date] = {}  # feed URL -> that document's date
        stored = store.snapshots(source.name)
        for number, snapshot in enumerate(stored, 1):
            progress(f"{source.name}: snapshot {number} of {len(stored)}: {snapshot.url}")
            if previous.get(snapshot.url) == snapshot.sha256:
                continue
            content = tx.content(snapshot.sha256)
            document = Document(
                source=source.name,
                url=snapshot.url,
                content=content,
                fetched_at=snapshot.fetched_at,
                http_status=snapshot.http_status,
                content_type=snapshot.content_type,
                replayed_from=snapshot.replayed_from,
                # The kind it was read as (None for one that failed: `parse` sniffs it).
                kind=snapshot.document_kind,
            )
            outcome = _parse_and_apply(
                tx,
                source,
                document,
                snapshot,
                feed_seen=snapshot.url in previous,
                previous=dated.get(snapshot.url),
                progress=progress,
            )
            if outcome.status != "failed":
                previous[snapshot.url] = snapshot.sha256
                dated[snapshot.url] = (outcome.generated_at or snapshot.fetched_at).date()
            outcomes.append(outcome)
    return outcomes


def _parse_and_apply(
    tx: Writer,
    source: Source,
    document: Document,
    snapshot: Snapshot,
    *,
    feed_seen: bool,
    previous: dt.date | None = None,
    progress: Progress = quiet,
    backfill: bool = False,
) -> PollOutcome:
    """Parse, detect and write one stored document. History is backfill on the source's first
    poll and on a feed's first document (the register after an API, a newly tracked query);
    a record that first appears in a feed already read is news, unless the register shows a
    decision dated long before its previous document (`previous`): published late, history."""

    def failed(err: Exception) -> PollOutcome:
        # A parser or rule meeting input it was not written for (a value of the wrong type,
        # a key missing, JSON nested 100,000 deep, a corrupt archive member) is a document of
        # the wrong shape: a health failure with the document kept, never a traceback with
        # health left "ok". A bug there shows in the message, and the operator hears of it.
        where = document.replayed_from or document.url
        reason = str(err) if isinstance(err, ShapeError) else f"{type(err).__name__}: {err}"
        message = f"{where}: {reason[:500]}"
        _settle(tx, snapshot, document, error=message)
        return PollOutcome(source.name, document.url, "failed", message, shape_error=True)

    size = len(document.content) / 1e6
    progress(f"{source.name}: parsing {size:.1f} MB from {document.replayed_from or document.url}")
    try:
        result = source.parse(document)
        observed = {obs.reference: fingerprint(obs.fields) for obs in result.observations}
    except Exception as err:  # odd input, whatever it raises (see `failed`)
        return failed(err)
    # A register is compared with every known record (what vanished); a page or an API
    # answer only with the records it names, so a page costs the same at any store size.
    # (Outside the guards: a database failure is not the document's and propagates.)
    progress(f"{source.name}: comparing {len(observed):,} records with what was known")
    known = tx.known(source.name, observed, only_observed=not result.complete)
    first_poll = not feed_seen or not (known or tx.has_records(source.name))
    window = source.news_window_days
    late_before = (
        previous - dt.timedelta(days=window)
        if previous is not None and window and result.complete
        else None
    )
    try:
        # Detection raises before anything is written, so a shape error leaves no trace.
        detection = detect(
            source, known, result, first_poll=first_poll, late_before=late_before, backfill=backfill
        )
    except Exception as err:
        return failed(err)
    # Each record's own page when the feed names it; else, for a page, the page itself.
    page = not result.complete and not document.replayed_from
    links = {
        o.reference: source.page_url(o) or (document.url if page else None)
        for o in result.observations
    }
    progress(f"{source.name}: storing {len(detection.upserts):,} records, "
             f"{len(detection.events):,} events")  # fmt: skip
    _settle(tx, snapshot, document, result=result)
    assert snapshot.id is not None
    where = Where(source.name, source.agency.value, snapshot.id, snapshot.url, snapshot.fetched_at)
    parsed = {obs.reference: obs for obs in result.observations}
    writes = plan(detection, known, where, links=links, digests=observed, parsed=parsed)
    stored = tx.write(writes)
    return PollOutcome(
        source.name,
        document.url,
        "changed",
        f"{len(result.observations)} records, {len(stored)} new events",
        events=stored,
        records=len(result.observations),
        generated_at=result.generated_at,
        follow=[]
        if document.replayed_from
        else followed(source, result, {obs.reference for obs in detection.upserts}, first_poll),
        first_poll=first_poll,
    )


def _settle(
    tx: Writer,
    snapshot: Snapshot,
    document: Document,
    *,
    result: ParseResult | None = None,
    error: str | None = None,
) -> None:
    """Record how a document parsed: a new snapshot is stored with it, in one row; a stored
    one (read again by reparse) is marked."""
    if snapshot.id is None:
        tx.add_snapshot(snapshot, document.content, result=result, error=error)
    else:
        tx.mark_snapshot(snapshot.id, result=result, error=error)


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
