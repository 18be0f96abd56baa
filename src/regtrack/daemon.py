"""The daemon: runs the jobs of `schedule` in apscheduler, under leases so several servers
share a database, tries a failed poll again sooner, and stops cleanly on SIGTERM/SIGINT.
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
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.date import DateTrigger

from .errors import StoreError
from .model import JobOutcome, utcnow
from .schedule import Job, JobResult, retry_at
from .store import Store

log = logging.getLogger("regtrack")
#: A job holds its lease this long at most; a server that died frees it by expiry.
LEASE = dt.timedelta(hours=2)
#: How many times a job's claim or release tries for a write lock another process holds,
#: each waiting the database's busy timeout (30 s on SQLite: five minutes in all).
BUSY_TRIES = 10


def _busy(err: StoreError) -> bool:
    text = str(err).lower()
    return "database is locked" in text or "database is busy" in text or "lock timeout" in text


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
        try:
            claimed = self._patiently(
                job, "claim", lambda tx: tx.claim_job(job.id, self.owner, now, LEASE, due_before)
            )
        except StoreError as err:  # still busy after its turns: a failure, tried again soon
            result = JobResult(f"database busy, not run: {err}", ok=False)
            log.warning("%s: %s", job.id, result, extra=_extra(job, result))
            return result
        if not claimed:
            log.info("%s: not due, or running on another server", job.id, extra={"job": job.id})
            return None
        result = JobResult(JobOutcome.INTERRUPTED.value, ok=False)
        try:
            result = job.run()
        except StoreError as err:  # the database (busy, full, gone): a failure, not a crash
            result = JobResult(f"failed: {err}", ok=False, fields={"error": str(err)})
            log.warning("%s: %s", job.id, result, extra=_extra(job, result))
        except Exception as err:  # a bug: logged with its traceback, the other jobs go on
            result = JobResult(f"crashed: {err!r}", ok=False, fields={"error": repr(err)})
            log.error("%s: %s", job.id, result, exc_info=True, extra=_extra(job, result, "crashed"))
        else:
            level = logging.INFO if result.ok else logging.WARNING
            log.log(level, "%s: %s", job.id, result, extra=_extra(job, result))
        finally:
            state = (JobOutcome.OK if result.ok else JobOutcome.FAILED).value
            try:
                self._patiently(
                    job, "release", lambda tx: tx.release_job(job.id, self.owner, utcnow(), state)
                )
            except StoreError as err:  # the lease expires by itself
                log.error("%s: could not release its lease: %s", job.id, err)
            _release_memory()
        return result

    def _patiently(self, job: Job, what: str, step: Callable[[Any], Any]) -> Any:
        """One short transaction of the job's bookkeeping, waiting its turn while another
        process holds the write lock (a register's first load can hold it for minutes):
        each try waits the busy timeout, `BUSY_TRIES` tries in all."""
        for attempt in range(BUSY_TRIES):
            try:
                with self.store.transaction() as tx:
                    return step(tx)
            except StoreError as err:
                if not _busy(err) or attempt == BUSY_TRIES - 1:
                    raise
                log.info("%s: %s waits its turn: %s", job.id, what, err, extra={"job": job.id})
        raise AssertionError("unreachable")

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
    state = status or (JobOutcome.OK if result.ok else JobOutcome.FAILED).value
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
