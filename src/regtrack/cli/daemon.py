"""Commands that run the daemon's jobs: `run` (the daemon, or --once for cron) and `demo`."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import RegtrackError
from ..store import EventFilter
from .app import App, cli, pass_app

if TYPE_CHECKING:
    from ..schedule import Job


@cli.command()
@click.option("--once", is_flag=True, help="Run every job that is due once, then exit (for cron).")
@click.option(
    "--log-format", type=click.Choice(["text", "json"]), default="text", help="Log lines on stderr."
)
@click.option(
    "--quiet", is_flag=True, help="Log only warnings and errors (with --once: cron mails failures)."
)
@pass_app
def run(app: App, once: bool, log_format: str, quiet: bool) -> None:
    """Run the daemon: poll every enabled source on its schedule, send digests and operator
    alerts. Stops cleanly on SIGTERM or SIGINT. Logs go to stderr, one line per job run;
    with --once the exit status is 1 when any job failed."""
    from .. import daemon

    setup_logging(log_format, logging.WARNING if quiet else logging.INFO)
    runner = daemon.Runner(app.writer_store)
    all_jobs = jobs(app)
    if once:
        results = runner.once(all_jobs)
        if any(result is not None and not result.ok for _, result in results):
            sys.exit(1)
        return
    daemon.serve(all_jobs, runner, spread_seconds=app.config.daemon.spread_seconds)


@cli.command()
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("regtrack-demo"),
    show_default=True,
    help="Where the demo's database, config and mail go: a new or empty folder, or an earlier "
    "demo's (regtrack deletes only what it made).",
)
def demo(folder: Path) -> None:
    """The whole system offline: serve the bundled documents of the five bodies from a local
    server, run the daemon's jobs twice (the EU switch of selinexor from conditional to full
    authorisation in between), send the digest to .eml files, print the timeline."""
    from .. import daemon
    from ..demo import run as run_demo
    from ..model import utcnow
    from ..timeline import render_timeline

    def cycle(config: Path) -> list[tuple[str, str | None]]:
        app = App(config)
        runner = daemon.Runner(app.writer_store)
        done = []
        for job in jobs(app):
            result = runner.run(job, utcnow())
            done.append((job.id, str(result) if result is not None else None))
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
    product, aliases = app.store.find_product("selinexor")
    click.echo(
        render_timeline(
            product, aliases, app.store.events(EventFilter(product_id=product.id)), "table"
        )
    )
    hint = f"regtrack --config {result.config} timeline selinexor --format html > selinexor.html"
    click.echo(f"\nExplore: {hint}")


def jobs(app: App) -> list[Job]:
    """The daemon's jobs, built from the config."""
    from .. import schedule, sources
    from ..alerts import Alerts
    from ..emails import Renderer
    from ..fetch import Fetcher
    from ..mail import backend_from

    renderer = Renderer(app.config.mail.templates)
    return schedule.jobs(
        app.config,
        app.store,
        sources.enabled(app.config),
        Fetcher(app.config.fetch),
        Alerts(app.config, app.store, renderer),
        backend_from(app.config.mail),
    )


def schedule(app: App) -> dict[str, str]:
    """Next run per source (UTC), from its jobs' triggers and when they last started."""
    import copy

    from ..model import utcnow

    now = utcnow()
    with app.store.reading() as read:
        states = read.jobs()
    try:
        found = jobs(app)
    except RegtrackError:
        return {}  # e.g. SMTP without its password: the schedule cannot be built
    out: dict[str, str] = {}
    for job in found:
        if job.source is None:
            continue
        state = states.get(job.id)
        last = state.last_start if state else None
        # The time without the trigger's jitter: the same between two calls (the run itself
        # comes up to 10 minutes either side).
        steady = copy.copy(job.trigger)
        steady.jitter = None
        upcoming = steady.get_next_fire_time(last, now) if last else now
        if upcoming is not None:
            shown = f"{max(upcoming, now):%Y-%m-%d %H:%M} UTC"
            out[job.source] = min(out.get(job.source, shown), shown)
    return out


#: Structured fields a job's log line carries, besides its message.
LOG_FIELDS = ("job", "status", "fields")


class JsonLines(logging.Formatter):
    """One JSON object per log line: time, level, message and the job's fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "message": record.getMessage(),
        }
        for name in LOG_FIELDS:
            value = getattr(record, name, None)
            if isinstance(value, dict):
                line.update({k: v for k, v in value.items() if v is not None})
            elif value is not None:
                line[name] = value
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def setup_logging(fmt: str, level: int = logging.INFO) -> None:
    """Every log line once, on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonLines() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(max(level, logging.WARNING))
