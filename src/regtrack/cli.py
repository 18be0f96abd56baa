"""The `regtrack` command: reads the config, builds store, sources and fetcher, calls the rest.

The only place that wires things together; nothing imports it. Heavy modules load inside the
commands that need them, so `events` and `timeline` start fast.
"""

from __future__ import annotations

import datetime as dt
import sys
from functools import cached_property
from pathlib import Path
from typing import Any

import click

from . import __version__
from .config import Config
from .errors import RegtrackError
from .model import KIND_WORDS
from .store import Store

EVENT_FORMATS = ("table", "json", "jsonl", "csv")
TIMELINE_FORMATS = ("table", "json", "csv", "md", "html", "ics")


class App:
    """What a command needs, built on first use from the global options."""

    def __init__(self, config_path: Path | None) -> None:
        self.config_path = config_path

    @cached_property
    def config(self) -> Config:
        from .config import load

        return load(self.config_path)

    @cached_property
    def store(self) -> Store:
        store = Store.open(self.config.database.url)
        if self.config.products:
            with store.transaction() as tx:
                tx.sync_products(self.config.products)
        return store


class Group(click.Group):
    """Turns regtrack's own errors into one line on stderr and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RegtrackError as err:
            raise click.ClickException(str(err)) from err


@click.group(cls=Group)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="REGTRACK_CONFIG",
    help="Config file (default ./config.toml when present; env REGTRACK_CONFIG).",
)
@click.version_option(__version__, prog_name="regtrack")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """regtrack: a dated, evidenced record of what medicines regulators and HTA bodies decide."""
    ctx.obj = App(config_path)


pass_app = click.make_pass_decorator(App)


@cli.command()
@click.argument("source_names", metavar="[SOURCE]...", nargs=-1)
@click.option(
    "--from-file",
    type=click.Path(path_type=Path),
    help="Replay this saved document as what the (single) named source fetched.",
)
@pass_app
def poll(app: App, source_names: tuple[str, ...], from_file: Path | None) -> None:
    """Poll sources now (all enabled ones by default) and print what changed."""
    from . import sources
    from .fetch import Fetcher
    from .poll import poll as run_poll

    if from_file is not None and len(source_names) != 1:
        raise click.UsageError("--from-file needs exactly one SOURCE name")
    chosen = [sources.get(n, app.config) for n in source_names] or sources.enabled(app.config)
    fetcher = Fetcher(app.config.fetch)
    failed = False
    for source in chosen:
        for outcome in run_poll(app.store, source, fetcher, from_file=from_file):
            backfill = sum(1 for _, b in outcome.events if b)
            summary = outcome.message
            if backfill:
                summary += f" ({backfill} backfill: history, not news)"
            if outcome.generated_at:
                summary += f"; document generated {outcome.generated_at:%Y-%m-%d %H:%M %Z}"
            click.echo(f"{outcome.source}: {outcome.status}: {summary}")
            for draft in outcome.news:
                date = draft.event_date.isoformat() if draft.event_date else "(undated)"
                date += "~" if draft.date_approximate else ""
                name = f" {draft.names[0].name}" if draft.names else ""
                words = KIND_WORDS[draft.kind]
                click.echo(f"  + {date} {source.agency.value} {words}: {draft.reference}{name}")
            failed |= outcome.status == "failed"
    if failed:
        sys.exit(1)


@cli.command()
@click.option("--agency", help="EMA, MHRA, FDA, NICE or SMC.")
@click.option("--product", help="Any name of the product (INN, brand, code).")
@click.option("--kind", help="Event kind, e.g. authorisation, conversion_to_full.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Events on or after this date.")
@click.option("--no-backfill", is_flag=True, help="Leave out history reconstructed on first polls.")
@click.option("--format", "fmt", type=click.Choice(EVENT_FORMATS), default="table")
@pass_app
def events(
    app: App,
    agency: str | None,
    product: str | None,
    kind: str | None,
    since: dt.datetime | None,
    no_backfill: bool,
    fmt: str,
) -> None:
    """List stored events (all by default; backfill ones carry their flag)."""
    from .timeline import render_events

    product_id = app.store.find_product(product)[0].id if product else None
    rows = app.store.events(
        agency=agency,
        product_id=product_id,
        kind=kind,
        since=since.date() if since else None,
        backfill=False if no_backfill else None,
    )
    text = render_events(rows, fmt)
    if text:
        click.echo(text)


@cli.command()
@click.argument("product")
@click.option("--format", "fmt", type=click.Choice(TIMELINE_FORMATS), default="table")
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    help="What was known on this date (news by detection, history by decision date).",
)
@pass_app
def timeline(app: App, product: str, fmt: str, as_of: dt.datetime | None) -> None:
    """One product's history across all bodies, by date, with its current status per body.
    PRODUCT is any of its names (INN, brand, code)."""
    from .reports import as_of as known_on
    from .timeline import render_timeline

    found, aliases = app.store.find_product(product)
    rows = app.store.events(product_id=found.id)
    day = as_of.date() if as_of else None
    if day is not None:
        rows = known_on(rows, day)
    click.echo(render_timeline(found, aliases, rows, fmt, as_of=day))


@cli.command()
@click.argument("products", nargs=-1)
@pass_app
def status(app: App, products: tuple[str, ...]) -> None:
    """Where products stand: one row each, one column per body, the status and its date.
    Default: the config's products, else every product known to more than one body."""
    from .reports import BODIES, current
    from .timeline import table

    names = list(products) or [p.name for p in app.config.products]
    chosen = [app.store.find_product(n)[0] for n in names] if names else None
    rows = []
    for product, events in _by_product(app, chosen).items():
        statuses = current(events)
        if chosen is None and len(statuses) < 2:
            continue
        rows.append((product, *(str(statuses[b]) if b in statuses else "-" for b in BODIES)))
    click.echo(table(("PRODUCT", *BODIES), rows))


@cli.command()
@pass_app
def lag(app: App) -> None:
    """For products known to several bodies: days from the first approval anywhere to each
    body's first decision, and the median per body."""
    from .reports import BODIES, lags
    from .timeline import table

    found, medians = lags(_by_product(app, None))
    rows = [
        (
            lag.product,
            f"{lag.first[0]} {lag.first[1]}",
            *(f"+{lag.days[b]}" if b in lag.days else "-" for b in BODIES),
        )
        for lag in found
    ]
    rows.append(("median", "", *(f"+{medians[b]:g}" if b in medians else "-" for b in BODIES)))
    click.echo(table(("PRODUCT", "FIRST APPROVAL", *(f"{b} DAYS" for b in BODIES)), rows))


@cli.command()
@click.option("--product", help="Only this product (any of its names).")
@click.option("--agency", help="Only this body.")
@click.option("--limit", type=int, default=200, show_default=True, help="Newest entries kept.")
@click.option("--backfill", is_flag=True, help="Include history reconstructed on first polls.")
@pass_app
def feed(app: App, product: str | None, agency: str | None, limit: int, backfill: bool) -> None:
    """An Atom feed of events, newest first, for people who prefer a feed reader to email."""
    from .timeline import render_atom

    product_id = app.store.find_product(product)[0].id if product else None
    rows = app.store.events(
        product_id=product_id, agency=agency, backfill=None if backfill else False
    )
    rows.sort(key=lambda r: (r.detected_at, r.id), reverse=True)
    click.echo(render_atom(rows[:limit], title="regtrack: medicines decisions"))


@cli.command()
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("regtrack-demo"),
    show_default=True,
    help="Where the demo's database, config and mail go (made new).",
)
def demo(folder: Path) -> None:
    """The whole system offline: serve the bundled documents of the five bodies from a local
    server, run the daemon's jobs twice (the EU switch of selinexor from conditional to full
    authorisation in between), send the digest to .eml files, print the timeline."""
    import shutil

    from . import daemon
    from .demo import run as run_demo
    from .model import utcnow

    if folder.exists():
        shutil.rmtree(folder)

    def cycle(config: Path) -> list[tuple[str, str | None]]:
        app = App(config)
        runner = daemon.Runner(app.store)
        done = [(job.id, runner.run(job, utcnow())) for job in _jobs(app)]
        app.store.close()
        return done

    result = run_demo(folder, cycle)
    for number, ran in enumerate(result.cycles, start=1):
        click.echo(f"cycle {number}:")
        for job, summary in ran:
            click.echo(f"  {job}: {summary}")
    click.echo(
        f"\nemail written to {folder / 'mail'}: {len(result.digest_files)} message(s) in cycle 2"
    )
    click.echo("\n" + result.digest_text.strip() + "\n")
    app = App(result.config)
    from .timeline import render_timeline

    product, aliases = app.store.find_product("selinexor")
    click.echo(render_timeline(product, aliases, app.store.events(product_id=product.id), "table"))
    hint = f"regtrack --config {result.config} timeline selinexor --format html > selinexor.html"
    click.echo(f"\nExplore: {hint}")


def _by_product(app: App, chosen: list[Any] | None) -> dict[str, list[Any]]:
    events = []
    for product in chosen or [None]:
        events += app.store.events(product_id=product.id if product is not None else None)
    grouped: dict[str, list[Any]] = {}
    for event in events:
        grouped.setdefault(event.product, []).append(event)
    return grouped


@cli.command(name="sources")
@pass_app
def sources_command(app: App) -> None:
    """Health of each source: last attempt and success, failures, document age."""
    from .sources import SOURCES
    from .timeline import table

    health = {h.source: h for h in app.store.health()}
    schedule = _schedule(app)
    rows = []
    for name in SOURCES:
        h = health.get(name)
        enabled = getattr(app.config.sources, name).enabled
        state = "enabled" if enabled else "disabled"
        if h is None:
            rows.append((name, state, "never polled", "", "", "", schedule.get(name, ""), ""))
            continue
        problems = "; ".join(filter(None, [h.last_error, h.notes]))
        rows.append(
            (
                name,
                ("ok" if h.healthy else "UNHEALTHY") + ("" if enabled else " (disabled)"),
                _when(h.last_attempt_at),
                _when(h.last_success_at),
                str(h.consecutive_failures),
                _when(h.document_generated_at),
                schedule.get(name, ""),
                problems if len(problems) <= 140 else problems[:137] + "...",
            )
        )
    header = (
        "SOURCE",
        "HEALTH",
        "LAST ATTEMPT",
        "LAST SUCCESS",
        "FAILURES",
        "DOCUMENT DATE",
        "NEXT RUN",
        "LAST ERROR",
    )
    click.echo(table(header, rows))


@cli.command()
@click.argument("source_names", metavar="[SOURCE]...", nargs=-1)
@pass_app
def reparse(app: App, source_names: tuple[str, ...]) -> None:
    """Rebuild state and events from stored snapshots (idempotent)."""
    from . import sources
    from .poll import reparse as run_reparse

    chosen = [sources.get(n, app.config) for n in source_names] or sources.enabled(app.config)
    for source in chosen:
        outcomes = run_reparse(app.store, source)
        added = sum(len(o.events) for o in outcomes)
        failed = sum(1 for o in outcomes if o.status == "failed")
        click.echo(
            f"{source.name}: {len(outcomes)} snapshots replayed, {added} events added"
            + (f", {failed} documents failed their shape checks" if failed else "")
        )


@cli.command()
@click.option(
    "--frequency",
    "frequencies",
    type=click.Choice(["immediate", "daily", "weekly"]),
    multiple=True,
    help="Only these digests (default: all that are due).",
)
@click.option("--dry-run", is_flag=True, help="Render what would be sent to stdout; store nothing.")
@click.option("--send", is_flag=True, help="Also deliver the outbox now (else compose only).")
@pass_app
def digest(app: App, frequencies: tuple[str, ...], dry_run: bool, send: bool) -> None:
    """Run one digest round now: compose due digests, "now tracking" summaries and operator
    alerts into the outbox, and with --send deliver them."""
    from .alerts import FREQUENCIES, Alerts
    from .digest import Renderer
    from .model import utcnow

    now = utcnow()
    renderer = (
        Renderer(Path(app.config.mail.templates)) if app.config.mail.templates else Renderer()
    )
    result = Alerts(app.config, app.store, renderer).digest_round(
        now, frequencies or FREQUENCIES, dry_run=dry_run
    )
    if dry_run:
        click.echo("\n\n".join(result.previews) or "nothing to send")
        return
    from .operators import operator_round

    operator = operator_round(app.config, app.store, renderer, now)
    for frequency, start, end in result.windows:
        click.echo(f"{frequency} window {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC")
    for recipient, subject in result.composed:
        click.echo(f"  composed for {recipient}: {subject}")
    for subject in operator:
        click.echo(f"  operator alert: {subject}")
    if send:
        _deliver(app, now)


def _deliver(app: App, now: dt.datetime) -> None:
    from .delivery import deliver
    from .mail import backend_from

    done = deliver(app.store, backend_from(app.config.mail), app.config.mail, now)
    click.echo(
        f"sent {done.sent}, retrying {done.retried}, failed {done.failed}, "
        f"uncertain {done.uncertain}"
    )


@cli.command()
@click.option("--resend", type=int, help="Send this message (by its id) again, deliberately.")
@click.option("--send", is_flag=True, help="Deliver what is due now.")
@pass_app
def outbox(app: App, resend: int | None, send: bool) -> None:
    """The stored email: pending, claimed (delivery uncertain), sent, failed."""
    from .model import utcnow

    if resend is not None:
        from .delivery import resend as resend_one
        from .mail import backend_from

        resend_one(app.store, backend_from(app.config.mail), resend, utcnow())
        click.echo(f"message {resend} sent again")
        return
    if send:
        _deliver(app, utcnow())
        return
    from .timeline import table

    with app.store.transaction() as tx:
        rows = [m for s in ("pending", "claimed", "failed", "sent") for m in tx.messages_in(s)]
    click.echo(
        table(
            ("ID", "STATE", "TO", "SUBJECT", "CREATED", "SENT", "ATTEMPTS", "LAST ERROR"),
            [
                (
                    str(m.id),
                    m.state,
                    m.recipient,
                    m.subject[:60],
                    _when(m.created_at),
                    _when(m.sent_at),
                    str(m.attempts),
                    m.last_error or "",
                )
                for m in rows
            ],
        )
    )


@cli.command()
@click.option("--once", is_flag=True, help="Run every job that is due once, then exit (for cron).")
@click.option(
    "--log-format", type=click.Choice(["text", "json"]), default="text", help="Log lines on stderr."
)
@pass_app
def run(app: App, once: bool, log_format: str) -> None:
    """Run the daemon: poll every enabled source on its schedule, send digests and operator
    alerts. Stops cleanly on SIGTERM or SIGINT."""
    from . import daemon

    _logging(log_format)
    runner = daemon.Runner(app.store)
    jobs = _jobs(app)
    if once:
        for job, summary in runner.once(jobs):
            click.echo(f"{job}: {summary if summary is not None else 'not due'}")
        return
    daemon.serve(jobs, runner, spread_seconds=app.config.daemon.spread_seconds)


def _schedule(app: App) -> dict[str, str]:
    """Next run per source (UTC), from its jobs' triggers and when they last started."""
    from .model import utcnow

    now = utcnow()
    with app.store.transaction() as tx:
        states = tx.jobs()
    try:
        jobs = _jobs(app)
    except RegtrackError:
        return {}  # e.g. SMTP without its password: the schedule cannot be built
    out: dict[str, str] = {}
    for job in jobs:
        state = states.get(job.id)
        last = state.last_start if state else None
        upcoming = job.trigger.get_next_fire_time(last, now) if last else now
        if upcoming is not None:
            shown = f"{max(upcoming, now):%Y-%m-%d %H:%M}"
            name = job.id.split("-")[0]
            out[name] = min(out.get(name, shown), shown)
    return out


def _jobs(app: App) -> list[Any]:
    from . import daemon, sources
    from .alerts import Alerts
    from .digest import Renderer
    from .fetch import Fetcher
    from .mail import backend_from

    renderer = (
        Renderer(Path(app.config.mail.templates)) if app.config.mail.templates else Renderer()
    )
    return daemon.jobs(
        app.config,
        app.store,
        sources.enabled(app.config),
        Fetcher(app.config.fetch),
        Alerts(app.config, app.store, renderer),
        backend_from(app.config.mail),
    )


def _logging(fmt: str) -> None:
    import json
    import logging

    class Json(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            line = {
                "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
                "level": record.levelname,
                "message": record.getMessage(),
                "job": getattr(record, "job", None),
            }
            return json.dumps(line, ensure_ascii=False)

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        Json() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _when(value: dt.datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else ""


def main() -> None:
    cli(prog_name="regtrack")
