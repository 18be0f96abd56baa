"""The SQL of scheduling: job leases that make several servers run each job once.

A lease is taken by one conditional UPDATE, atomic on SQLite and PostgreSQL alike: it succeeds
only when no other server holds the job and the job has not started since `due_before`.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from ..model import JobState


class JobWrites:
    session: Session

    def claim_job(
        self, name: str, owner: str, now: dt.datetime, lease: dt.timedelta, due_before: dt.datetime
    ) -> bool:
        if self.session.get(JobState, name) is None:
            self.session.add(JobState(name=name))
            self.session.flush()
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

    def jobs(self) -> dict[str, JobState]:
        return {j.name: j for j in self.session.exec(select(JobState))}
