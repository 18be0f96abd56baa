"""Commands that poll and rebuild: poll, reparse, and `sources` (their health)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..model import KIND_WORDS

if TYPE_CHECKING:
    from ..ingest import PollOutcome
from .app import App, cli, pass_app, terminal_progress, when


@cli.command()
@click.argument("source_names", metavar="[SOURCE]...", nargs=-1)
@click.option(
    "--from-file",
    type=click.Path(path_type=Path),
    help="Replay this saved document as what the (single) named source fetched.",
)
@pass_app
def poll(app: App, source_names: tuple[str, ...], from_file: Path | None) -> None:
    """Poll sources now (all enabled ones by default) and print what changed. Sources are
    polled side by side, one thread each (a host's delay between requests, NICE's second,
    holds up only its own source); each source's lines are printed together, in order."""
    from concurrent.futures import ThreadPoolExecutor

    from .. import sources
    from ..fetch import Fetcher
    from ..poll import poll as run_poll

    if from_file is not None and len(source_names) != 1:
        raise click.UsageError("--from-file needs exactly one SOURCE name")
    chosen = [sources.get(n, app.config) for n in source_names] or sources.enabled(app.config)
    store = app.writer_store
    fetcher = Fetcher(app.config.fetch)  # politeness per host holds across the threads
    failed = False
    with terminal_progress() as progress, ThreadPoolExecutor(max(1, len(chosen))) as pool:
        polls = [
            pool.submit(run_poll, store, source, fetcher, from_file=from_file, progress=progress)
            for source in chosen
        ]
        for source, future in zip(chosen, polls, strict=True):
            outcomes = future.result()
            progress("")  # the progress line cleared before a source's results
            failed |= _print_outcomes(source.agency.value, outcomes)
    if failed:
        sys.exit(1)


def _print_outcomes(agency: str, outcomes: list[PollOutcome]) -> bool:
    """A source's poll, one line per document and one per news event; True if any failed."""
    failed = False
    for outcome in outcomes:
        backfill = sum(1 for _, b in outcome.events if b)
        summary = outcome.message
        if backfill:
            summary += f" ({backfill} backfill: history, not news)"
        if outcome.generated_at:
            summary += f"; document generated {outcome.generated_at:%Y-%m-%d %H:%M %Z}"
        if outcome.status == "not_modified":  # the server said so: one plain line
            click.echo(f"{outcome.source}: unchanged (304) {outcome.url}")
            continue
        click.echo(f"{outcome.source}: {outcome.status}: {summary}")
        for draft in outcome.news:
            date = draft.event_date.isoformat() if draft.event_date else "(undated)"
            date += "~" if draft.date_approximate else ""
            name = f" {draft.names[0].name}" if draft.names else ""
            words = KIND_WORDS[draft.kind]
            click.echo(f"  + {date} {agency} {words}: {draft.reference}{name}")
        failed |= outcome.status == "failed"
    return failed


@cli.command()
@click.argument("source_names", metavar="[SOURCE]...", nargs=-1)
@pass_app
def reparse(app: App, source_names: tuple[str, ...]) -> None:
    """Rebuild state and events from stored snapshots (idempotent)."""
    from .. import sources
    from ..ingest import reparse as run_reparse

    chosen = [sources.get(n, app.config) for n in source_names] or sources.enabled(app.config)
    for source in chosen:
        with terminal_progress() as progress:
            outcomes = run_reparse(app.writer_store, source, progress)
        added = sum(len(o.events) for o in outcomes)
        failed = [o for o in outcomes if o.status == "failed"]
        click.echo(
            f"{source.name}: {len(outcomes)} snapshots replayed, {added} events added"
            + (f", {len(failed)} skipped: their shape was wrong" if failed else "")
        )
        for outcome in failed:  # each skipped snapshot, and why
            click.echo(f"  skipped: {outcome.message}", err=True)


@cli.command(name="sources")
@click.option(
    "--check",
    is_flag=True,
    help="Exit 1 when an enabled source is unhealthy or its document stale (for a container "
    "HEALTHCHECK or a monitor).",
)
@pass_app
def sources_command(app: App, check: bool) -> None:
    """Health of each source: last attempt and success, failures, document age (times UTC).
    NOTES are feeds left out on purpose (a missing key), not failures."""
    from ..listing import table
    from ..model import utcnow
    from ..operators import staleness
    from ..sources import SOURCES
    from .daemon import schedule

    health = {h.source: h for h in app.store.health()}
    stale = {name: why for name, h in health.items() if (why := staleness(app.config, h, utcnow()))}
    upcoming = schedule(app)
    rows = []
    for name in SOURCES:
        h = health.get(name)
        enabled = getattr(app.config.sources, name).enabled
        state = "enabled" if enabled else "disabled"
        if h is None:
            rows.append((name, state, "never polled", "", "", "", upcoming.get(name, ""), "", ""))
            continue
        error = "" if h.healthy else h.last_error or ""
        error = error or (f"stale: {stale[name]}" if name in stale else "")
        state = "UNHEALTHY" if not h.healthy else "STALE" if name in stale else "ok"
        rows.append(
            (
                name,
                state + ("" if enabled else " (disabled)"),
                when(h.last_attempt_at),
                when(h.last_success_at),
                str(h.consecutive_failures),
                when(h.document_generated_at),
                upcoming.get(name, ""),
                error if len(error) <= 120 else error[:117] + "...",
                h.notes or "",
            )
        )
    header = (
        "SOURCE",
        "HEALTH",
        "LAST ATTEMPT",
        "LAST SUCCESS",
        "FAILURES",
        "DOCUMENT DATE",
        "NEXT RUN (±10 MIN)",
        "LAST ERROR",
        "NOTES",
    )
    click.echo(table(header, rows))
    failing = [
        name
        for name, h in health.items()
        if (not h.healthy or name in stale)
        and name in SOURCES
        and getattr(app.config.sources, name).enabled
    ]
    if check and failing:
        raise click.ClickException(f"unhealthy or stale: {', '.join(sorted(failing))}")
