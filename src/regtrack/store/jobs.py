"""The SQL of scheduling: job leases that make several servers run each job once, and each
source's health after its poll.

A lease is taken by one conditional UPDATE, atomic on SQLite and PostgreSQL alike: it succeeds
only when no other server holds the job and the job has not started since `due_before`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from ..model import JobOutcome, JobState, SourceHealth, utcnow


class JobWrites:
    session: Session

    def claim_job(
        self, name: str, owner: str, now: dt.datetime, lease: dt.timedelta, due_before: dt.datetime
    ) -> bool:
        from sqlalchemy.dialects import postgresql, sqlite

        # Two servers may create the row at once: the second insert does nothing.
        dialect = self.session.get_bind().dialect.name
        base = postgresql.insert(JobState) if dialect == "postgresql" else sqlite.insert(JobState)
        self.session.execute(base.values(name=name).on_conflict_do_nothing(index_elements=["name"]))
        result = self.session.execute(
            update(JobState)
            .where(col(JobState.name) == name)
            .where(or_(col(JobState.lease_until).is_(None), col(JobState.lease_until) < now))
            .where(or_(col(JobState.last_start).is_(None), col(JobState.last_start) <= due_before))
            .values(owner=owner, lease_until=now + lease, last_start=now)
        )
        return result.rowcount == 1  # type: ignore[attr-defined, no-any-return]

    def release_job(self, name: str, owner: str, now: dt.datetime, status: str) -> None:
        self.session.execute(
            update(JobState)
            .where(col(JobState.name) == name, col(JobState.owner) == owner)
            .values(lease_until=None, last_end=now, last_status=status)
        )

    def free_dead_leases(
        self, host: str, alive: Callable[[int], bool], me: str | None = None
    ) -> list[str]:
        """Leases held by processes of this host that no longer run (a kill -9): freed, so a
        restart resumes at once instead of waiting for them to expire. An owner is
        `host:pid:instance`: a lease naming this process's own pid (`me`) with another
        instance is a dead predecessor's (a container's PID 1, restarted)."""
        freed = []
        my_pid, _, my_instance = (
            (me or "").rpartition(":")[0].rpartition(":")[2],
            "",
            ((me or "").rpartition(":")[2]),
        )
        for job in self.session.exec(
            select(JobState).where(col(JobState.lease_until).is_not(None))
        ):
            parts = (job.owner or "").split(":")
            instance = parts.pop() if len(parts) > 2 else ""
            pid = parts.pop() if parts else ""
            owner_host = ":".join(parts)
            predecessor = bool(me) and pid == my_pid and instance != my_instance
            if owner_host == host and pid.isdigit() and (predecessor or not alive(int(pid))):
                job.lease_until = None
                job.last_status = JobOutcome.INTERRUPTED.value
                # The interrupted run did not happen: due again by the last completed one.
                job.last_start = job.last_end
                self.session.add(job)
                freed.append(job.name)
        return freed

    def record_health(
        self,
        source: str,
        *,
        ok: bool,
        error: str | None = None,
        shape_error: str | None = None,
        changed: bool = False,
        generated_at: dt.datetime | None = None,
        records: int | None = None,
        notes: str | None = None,
    ) -> SourceHealth:
        """The outcome of one poll: a failed poll counts once, however many feeds failed."""
        now = utcnow()
        health = self.session.get(SourceHealth, source) or SourceHealth(source=source)
        health.last_attempt_at = now
        health.healthy = ok
        health.notes = notes
        if ok:
            health.last_success_at = now
            health.consecutive_failures = 0
            health.last_error = None
            health.parse_health = "ok"
            if changed:
                health.last_change_at = now
        else:
            health.consecutive_failures += 1
            health.last_error = error
            if shape_error is not None:
                health.parse_health = f"failed: {shape_error}"
        if generated_at is not None:
            health.document_generated_at = generated_at
        if records is not None:
            health.records = records
        self.session.add(health)
        return health
