"""A poll: fetch (or replay) each feed and what its documents link to, hand each document to
`ingest`, and record the source's health.

Expected source failures (fetch errors, shape errors) become source health, recorded once per
poll: a poll with any failed document is one failure, however many feeds failed. Anything else
is a bug and propagates.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from pathlib import Path

from .errors import FetchError, InputError
from .fetch import Document, Fetcher, read_file
from .ingest import PollOutcome, Progress, process, quiet, unchanged
from .model import Link, Snapshot
from .sources.base import Feed, Source
from .store import Store

#: Documents one poll of a source fetches at most: feeds, their pages, followed detail pages
#: (a guard against loops and against a first poll that would read a whole site at once).
MAX_DOCUMENTS = 500


def poll(
    store: Store,
    source: Source,
    fetcher: Fetcher | None,
    *,
    from_file: Path | None = None,
    feeds: list[str] | None = None,
    progress: Progress = quiet,
) -> list[PollOutcome]:
    """Poll every feed of a source, following pages (or replay one file as its document)."""
    if from_file is not None:
        document = read_file(source.name, from_file, "")
        kind = source.sniff(document.content)
        if kind is None:
            # Not this source's kind of document: nothing is stored and the production
            # source's health is left as it was.
            raise InputError(
                f"{from_file}: not a document the {source.name} source reads ({source.description})"
            )
        url = source.replay_url(kind)
        lasts, parsed_before = store.last_snapshots(source.name, url)
        outcomes = [
            process(
                store,
                source,
                replace(document, url=url, kind=kind),
                last=lasts.get(url),
                parsed_before=url in parsed_before,
                progress=progress,
            )
        ]
        _record_health(store, source.name, outcomes)
        return outcomes
    if fetcher is None:
        raise ValueError("poll needs a fetcher unless it replays a file")
    outcomes = []
    queue = deque(f for f in source.feeds() if feeds is None or f.url in feeds)
    seen = {f.url for f in queue}
    # What this source's feeds were last time: two queries per poll, not two per page.
    lasts, parsed_before = store.last_snapshots(source.name)
    hosts = source.hosts()
    while queue and len(outcomes) < MAX_DOCUMENTS:
        feed = queue.popleft()
        left = f" ({len(queue)} more queued)" if queue else ""
        progress(f"{source.name}: fetching document {len(outcomes) + 1}{left}: {feed.url}")
        outcome = _fetch_and_process(
            store, source, fetcher, feed, lasts.get(feed.url), feed.url in parsed_before, hosts,
            progress,
        )  # fmt: skip
        outcomes.append(outcome)
        for link in outcome.follow:
            if link.url not in seen:
                seen.add(link.url)
                queue.append(_feed_of(link, feed, outcome.first_poll))
    if queue:
        # Followed pages are not remembered: an unchanged listing would not name them again,
        # so the operator is told which were not read.
        first = queue[0].url
        message = f"stopped after {MAX_DOCUMENTS} documents; {len(queue)} not read, from {first}"
        outcomes.append(PollOutcome(source.name, first, "failed", message))
    _record_health(store, source.name, outcomes, notes="; ".join(source.skipped()) or None)
    return outcomes


def _feed_of(link: Link, parent: Feed, first_poll: bool) -> Feed:
    """What a followed link is fetched as: more of its document (a next page) with the
    document's own settings (its API key, the statuses it may answer with); a record's page
    as a plain page, whose news is history when its record came in a first poll."""
    if link.reference is None:
        return replace(parent, url=link.url, kind=link.kind)
    return Feed(link.url, link.kind, parent.job, backfill=first_poll or parent.backfill)


def _record_health(
    store: Store, source: str, outcomes: list[PollOutcome], *, notes: str | None = None
) -> None:
    """One poll, one health record: failed if any document failed (the first error named,
    with how many more), a shape failure if any document's shape was wrong."""
    failed = [o for o in outcomes if o.status == "failed"]
    error = None
    if failed:
        error = failed[0].message + (f" (and {len(failed) - 1} more)" if len(failed) > 1 else "")
    shape = next((o.message for o in failed if o.shape_error), None)
    changed = [o for o in outcomes if o.status == "changed"]
    with store.transaction() as tx:
        tx.record_health(
            source,
            ok=not failed,
            error=error,
            shape_error=shape,
            changed=bool(changed),
            generated_at=next((o.generated_at for o in changed if o.generated_at), None),
            records=next((o.records for o in changed if o.records is not None), None),
            notes=notes,
        )


def _fetch_and_process(
    store: Store,
    source: Source,
    fetcher: Fetcher,
    feed: Feed,
    last: Snapshot | None,
    parsed_before: bool,
    hosts: frozenset[str] | None = None,
    progress: Progress = quiet,
) -> PollOutcome:
    usable = last is not None and last.parse_ok
    try:
        document = fetcher.get(
            source.name,
            feed.url,
            etag=last.etag if last and usable else None,
            last_modified=last.last_modified if last and usable else None,
            params=dict(feed.params),
            allow=feed.statuses,
            hosts=hosts,
        )
    except FetchError as err:
        return PollOutcome(source.name, feed.url, "failed", str(err))
    if document is None:
        if last is None or feed.kind not in source.links_when_unchanged:
            return PollOutcome(source.name, feed.url, "not_modified", "304 Not Modified")
        with store.reading() as reader:
            content = reader.content(last.sha256)
        stored = Document(source.name, feed.url, content, last.fetched_at, kind=feed.kind)
        return unchanged(source, stored, "not_modified", "304 Not Modified")
    document = replace(document, kind=feed.kind)
    return process(
        store, source, document, last=last, parsed_before=parsed_before, progress=progress,
        backfill=feed.backfill,
    )  # fmt: skip
