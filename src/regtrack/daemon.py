"""The daemon: one apscheduler job per feed and per digest, leases so several servers share a
database, clean shutdown on SIGTERM/SIGINT. Only scheduling: polling is `poll`, alerting is
`alerts`, delivery `delivery`.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import gc
import logging
import os
import random
import secrets
import signal
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from .alerts import Alerts
from .config import Config
from .delivery import deliver
from .errors import StoreError
from .fetch import Fetcher
from .mail import Backend
from .model import utcnow
from .operators import operator_round
from .poll import poll
from .sources.base import Source
from .store import Store

log = logging.getLogger("regtrack")
#: A job holds its lease this long at most; a server that died frees it by expiry.
LEASE = dt.timedelta(hours=2)


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
        out += _source_jobs(store, source, fetcher)
    hour, minute = (int(x) for x in config.mail.daily_at.split(":"))

    def digest(frequencies: list[str]) -> Callable[[], JobResult]:
        def run() -> JobResult:
            now = utcnow()
            result = alerts.digest_round(now, frequencies)
            operator_round(config, store, alerts.renderer, now)
            sent = deliver(store, backend, config.mail, now)
            failed = sent.failed + sent.uncertain
            return JobResult(
                f"{len(result.composed)} composed, {sent.sent} sent, {sent.retried} to retry"
                + (f", {sent.failed} failed, {sent.uncertain} uncertain" if failed else ""),
                ok=not failed,
                fields={
                    "composed": len(result.composed),
                    "sent": sent.sent,
                    "retried": sent.retried,
                    "failed": sent.failed,
                    "uncertain": sent.uncertain,
                },
            )

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
        sent = deliver(store, backend, config.mail, utcnow())
        failed = sent.failed + sent.uncertain
        return JobResult(
            f"{sent.sent} sent, {sent.retried} to retry"
            + (f", {sent.failed} failed, {sent.uncertain} uncertain" if failed else ""),
            ok=not failed,
            fields={"sent": sent.sent, "retried": sent.retried, "failed": sent.failed,
                    "uncertain": sent.uncertain},
        )  # fmt: skip

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


def _source_jobs(store: Store, source: Source, fetcher: Fetcher) -> list[Job]:
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


class Runner:
    """Runs jobs under leases, logs one line per run, releases memory after heavy ones."""

    def __init__(self, store: Store, owner: str | None = None) -> None:
        self.store = store
        # More than the pid: restarted as a container's PID 1, a process has its dead
        # predecessor's pid; the random instance tells them apart.
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        #: Failed runs in a row, per job (for the retry delays).
        self.failures: dict[str, int] = {}
        with store.transaction() as tx:
            freed = tx.free_dead_leases(socket.gethostname(), _alive, self.owner)
        for name in freed:
            log.warning("%s: freed the lease of a process that died while running it", name)

    def run(self, job: Job, due_before: dt.datetime) -> JobResult | None:
        """Run the job if it is due and no other server holds it; one log line says how it
        went (INFO, WARNING when it failed, ERROR with the traceback when it crashed)."""
        now = utcnow()
        with self.store.transaction() as tx:
            claimed = tx.claim_job(job.id, self.owner, now, LEASE, due_before)
        if not claimed:
            log.info("%s: not due, or running on another server", job.id, extra={"job": job.id})
            return None
        result = JobResult("interrupted", ok=False)
        try:
            result = job.run()
        except Exception as err:  # a bug, or the store failing: logged, the other jobs go on
            result = JobResult(f"crashed: {err!r}", ok=False, fields={"error": repr(err)})
            log.error("%s: %s", job.id, result, exc_info=True, extra=_extra(job, result, "crashed"))
        else:
            level = logging.INFO if result.ok else logging.WARNING
            log.log(level, "%s: %s", job.id, result, extra=_extra(job, result))
        finally:
            try:
                with self.store.transaction() as tx:
                    tx.release_job(job.id, self.owner, utcnow(), "ok" if result.ok else "failed")
            except StoreError as err:  # the lease expires by itself
                log.error("%s: could not release its lease: %s", job.id, err)
            _release_memory()
        return result

    def scheduled(self, job: Job, scheduler: BaseScheduler | None = None) -> Callable[[], None]:
        """The job as the scheduler runs it: due unless another server started it within
        its gap; a failed run is tried again sooner than its next regular time."""

        def regular() -> None:
            result = self.run(job, utcnow() - job.gap)
            self._after(job, utcnow(), result, scheduler)

        return regular

    def _after(
        self,
        job: Job,
        ended: dt.datetime,
        result: JobResult | None,
        scheduler: BaseScheduler | None,
    ) -> None:
        if result is None:  # not due, or another server has it
            return
        self.failures[job.id] = 0 if result.ok else self.failures.get(job.id, 0) + 1
        when = retry_at(job, self.failures[job.id], utcnow())
        if scheduler is None or when is None:
            return

        def again() -> None:
            # Due unless some server started the job since this failed run ended.
            result = self.run(job, ended)
            self._after(job, utcnow(), result, scheduler)

        log.info("%s: trying again at %s", job.id, f"{when:%H:%M} UTC", extra={"job": job.id})
        scheduler.add_job(
            again, DateTrigger(when), id=f"{job.id}:retry", name=f"{job.id} (retry)",
            replace_existing=True, misfire_grace_time=3600,
        )  # fmt: skip

    def once(self, all_jobs: Sequence[Job]) -> list[tuple[str, JobResult | None]]:
        """Run every job that is due by its own schedule, once (for cron, and tests)."""
        now = utcnow()
        return [(job.id, self.run(job, _due_before(job, now))) for job in all_jobs]


def _extra(job: Job, result: JobResult, status: str | None = None) -> dict[str, Any]:
    """Structured fields of a job's log line (shown by --log-format json)."""
    state = status or ("ok" if result.ok else "failed")
    return {"job": job.id, "status": state, "fields": result.fields}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _due_before(job: Job, now: dt.datetime) -> dt.datetime:
    """A job is due if it has not started since this time."""
    if job.period is not None:
        return now - job.period
    latest = None
    fire = job.trigger.get_next_fire_time(None, now - dt.timedelta(days=8))
    while fire is not None and fire <= now:
        latest = fire
        fire = job.trigger.get_next_fire_time(fire, fire + dt.timedelta(seconds=1))
    return (latest or now) - dt.timedelta(seconds=1)


def _release_memory() -> None:
    """Hand freed memory back to the system after a big document: the daemon idles small."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def serve(all_jobs: Sequence[Job], runner: Runner, *, spread_seconds: float = 20.0) -> None:
    """Run the scheduler until SIGTERM or SIGINT; first runs are spread out."""
    scheduler = BlockingScheduler(timezone=dt.UTC)
    start = dt.datetime.now(dt.UTC)
    for i, job in enumerate(all_jobs):
        first = start + dt.timedelta(
            seconds=i * spread_seconds + random.uniform(0, spread_seconds / 2)
        )
        scheduler.add_job(
            runner.scheduled(job, scheduler),
            job.trigger,
            id=job.id,
            name=job.id,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
            next_run_time=first,
        )

    def on_event(event: JobExecutionEvent) -> None:
        # Runner.run logs its own failures; an exception here escaped it (a lease error).
        if event.exception is not None:
            log.error("%s: failed: %r", event.job_id, event.exception, extra={"job": event.job_id})
        else:
            log.warning("%s: missed its time (the process was busy or asleep)", event.job_id)

    scheduler.add_listener(on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED)

    def stop(signum: int, _frame: Any) -> None:
        if scheduler.running:  # a second signal while stopping changes nothing
            log.info(
                "signal %s: stopping after the running job (each poll is one transaction)", signum
            )
            scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info(
        "regtrack daemon started: %d jobs (%s)", len(all_jobs), ", ".join(j.id for j in all_jobs)
    )
    scheduler.start()
    log.info("regtrack daemon stopped")
