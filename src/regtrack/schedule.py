"""What the daemon runs, and when: a job per source schedule (from the sources themselves),
the digests, the outbox and the watched documents. `daemon` runs them under leases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from .alerts import Alerts
from .config import Config
from .delivery import Delivery, deliver
from .fetch import Fetcher
from .mail import Backend
from .model import utcnow
from .operators import operator_round
from .poll import poll
from .sources.base import Source
from .store import Store


@dataclass
class JobResult:
    """What one run of a job did: a line for people, whether it failed, fields for logs."""

    summary: str
    ok: bool = True
    fields: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.summary


@dataclass
class Job:
    """One scheduled task: what it runs, when, and how close two runs may come."""

    id: str
    trigger: BaseTrigger
    run: Callable[[], JobResult]
    #: For --once: an interval job is due this long after its last start.
    period: dt.timedelta | None
    #: Servers sharing a database do not start the job again within this gap.
    gap: dt.timedelta
    #: A failed run is tried again after these delays (one per consecutive failure, the
    #: last repeated) while that comes before the next regular run; () never.
    retry: tuple[dt.timedelta, ...] = ()
    #: The source whose feeds it polls (None: not a poll).
    source: str | None = None


#: After a failed poll (a host down, a page mid-deploy): again in 5 min, 15 min, 1 h, 3 h…,
#: never past the job's next regular run, so a daily feed is not a day late for one timeout.
POLL_RETRY = tuple(dt.timedelta(minutes=m) for m in (5, 15, 60, 180))


def retry_at(job: Job, failures: int, now: dt.datetime) -> dt.datetime | None:
    """When to try a job again after its `failures`-th failure in a row, if before its next
    regular run (None: the regular run comes first, or the job is not retried)."""
    if not job.retry or failures < 1:
        return None
    when = now + job.retry[min(failures, len(job.retry)) - 1]
    regular = job.trigger.get_next_fire_time(None, now)
    return when if regular is None or when < regular else None


def _delivered(sent: Delivery, composed: int | None = None) -> JobResult:
    """A delivery round as a job's outcome: failed when a message failed or is uncertain."""
    failed = sent.failed + sent.uncertain
    fields = {"sent": sent.sent, "retried": sent.retried, "failed": sent.failed,
              "uncertain": sent.uncertain}  # fmt: skip
    summary = f"{sent.sent} sent, {sent.retried} to retry"
    if composed is not None:
        fields = {"composed": composed, **fields}
        summary = f"{composed} composed, {summary}"
    if failed:
        summary += f", {sent.failed} failed, {sent.uncertain} uncertain"
    return JobResult(summary, ok=not failed, fields=fields)


def jobs(
    config: Config,
    store: Store,
    sources: Sequence[Source],
    fetcher: Fetcher,
    alerts: Alerts,
    backend: Backend,
) -> list[Job]:
    """Every job, with the defaults the bodies' publishing rhythms suggest."""
    out = []
    zone = config.mail.timezone
    for source in sources:
        out += source_jobs(store, source, fetcher)
    hour, minute = (int(x) for x in config.mail.daily_at.split(":"))

    def digest(frequencies: list[str]) -> Callable[[], JobResult]:
        def run() -> JobResult:
            now = utcnow()
            result = alerts.digest_round(now, frequencies)
            operator_round(config, store, alerts.renderer, now)
            return _delivered(deliver(store, backend, config.mail, now), len(result.composed))

        return run

    if config.documents:

        def documents() -> JobResult:
            from .watch import loader, watch_round

            checked = watch_round(config, store, alerts.renderer, loader(fetcher), utcnow())
            errors = [c.error for c in checked if c.error]
            told = sum(len(c.newly_outdated) for c in checked)
            return JobResult(
                f"{len(checked)} documents checked, {told} newly outdated claims"
                + (f"; failed: {errors[0]}" if errors else ""),
                ok=not errors,
                fields={"documents": len(checked), "outdated": told, "error": errors or None},
            )

        hourly = dt.timedelta(hours=1)
        out.append(Job("documents", IntervalTrigger(hours=1), documents, hourly, hourly / 2))

    def deliver_only() -> JobResult:
        """The outbox job only delivers (retries, uncertain messages): composing is the
        digest jobs'."""
        return _delivered(deliver(store, backend, config.mail, utcnow()))

    every = config.daemon.immediate_minutes
    out += [
        Job(
            "digest-immediate",
            IntervalTrigger(minutes=every),
            digest(["immediate"]),
            dt.timedelta(minutes=every),
            dt.timedelta(minutes=every / 2),
        ),
        Job(
            "digest-daily",
            CronTrigger(hour=hour, minute=minute, timezone=zone),
            digest(["daily"]),
            None,
            dt.timedelta(hours=1),
        ),
        Job(
            "digest-weekly",
            CronTrigger(
                day_of_week=config.mail.weekly_on[:3], hour=hour, minute=minute, timezone=zone
            ),
            digest(["weekly"]),
            None,
            dt.timedelta(hours=1),
        ),
        Job(
            "outbox",
            IntervalTrigger(minutes=5),
            deliver_only,
            dt.timedelta(minutes=5),
            dt.timedelta(minutes=2),
        ),
    ]
    return out


def source_jobs(store: Store, source: Source, fetcher: Fetcher) -> list[Job]:
    """A source's jobs, from the schedules it declares: the daemon knows no body by name."""

    def polling(
        feeds: list[str] | None, skip: Callable[[dt.datetime], bool] | None, reason: str
    ) -> Callable[[], JobResult]:
        def run() -> JobResult:
            if skip is not None and skip(utcnow()):
                return JobResult(f"skipped: {reason}", fields={"source": source.name})
            outcomes = poll(store, source, fetcher, feeds=feeds)
            news = sum(len(o.news) for o in outcomes)
            failed = [o.message for o in outcomes if o.status == "failed"]
            summary = f"{len(outcomes)} documents, {news} new events"
            if failed:
                more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
                summary += f"; failed: {failed[0]}{more}"
            return JobResult(
                summary,
                ok=not failed,
                fields={
                    "source": source.name,
                    "documents": len(outcomes),
                    "news": news,
                    "failed": len(failed),
                    "error": failed[0] if failed else None,
                },
            )

        return run

    out = []
    for schedule in source.schedules():
        trigger: BaseTrigger
        period: dt.timedelta | None = None
        if schedule.every_hours is not None:
            period = dt.timedelta(hours=schedule.every_hours)
            jitter = int(min(600, period.total_seconds() / 20))
            trigger = IntervalTrigger(hours=schedule.every_hours, jitter=jitter)
        else:
            trigger = CronTrigger(**(schedule.cron or {}), timezone=schedule.timezone, jitter=600)
        feeds = list(schedule.feeds) if schedule.feeds is not None else None
        run = polling(feeds, schedule.skip, schedule.skip_reason)
        gap = dt.timedelta(hours=schedule.gap_hours)
        out.append(Job(schedule.job, trigger, run, period, gap, POLL_RETRY, source.name))
    return out
