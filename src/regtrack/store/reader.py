"""Reads on a plain read session: no write lock, so they never wait for a poll's writes.

`Store.reading()` hands one out; `Writer` inherits these reads for use inside its own
transaction. Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Sequence

from sqlmodel import Session, col, select

from ..errors import StoreError
from ..model import (
    Blob,
    DigestRun,
    DocumentCheck,
    JobState,
    Notified,
    OperatorState,
    OutboxMessage,
    OutboxState,
    TrackingNotice,
)


class Reader:
    """The reads of one session (see `Store.reading`)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def content(self, sha256: str) -> bytes:
        """A stored document's bytes."""
        blob = self.session.get(Blob, sha256)
        if blob is None:
            raise StoreError(f"no stored document with hash {sha256}")
        return zlib.decompress(blob.data)

    def jobs(self) -> dict[str, JobState]:
        """Every job's lease and last run."""
        return {j.name: j for j in self.session.exec(select(JobState))}

    def messages_in(self, state: OutboxState) -> list[OutboxMessage]:
        """The outbox's messages in one state, oldest first."""
        query = select(OutboxMessage).where(OutboxMessage.state == state)
        return list(self.session.exec(query.order_by(col(OutboxMessage.id))))

    def last_window_end(self, frequency: str) -> dt.datetime | None:
        query = select(DigestRun.window_end).where(DigestRun.frequency == frequency)
        return self.session.exec(query.order_by(col(DigestRun.window_end).desc()).limit(1)).first()

    def notified(self, frequency: str, event_ids: Sequence[int]) -> set[int]:
        found: set[int] = set()
        for start in range(0, len(event_ids), 500):
            chunk = list(event_ids[start : start + 500])
            query = select(Notified.event_id).where(
                Notified.frequency == frequency, col(Notified.event_id).in_(chunk)
            )
            found |= set(self.session.exec(query))
        return found

    def tracked_products(self, recipient: str) -> set[int]:
        query = select(TrackingNotice.product_id).where(TrackingNotice.recipient == recipient)
        return set(self.session.exec(query))

    def operator_states(self) -> dict[tuple[str, str], OperatorState]:
        return {(s.source, s.condition): s for s in self.session.exec(select(OperatorState))}

    def due_messages(self, now: dt.datetime) -> list[OutboxMessage]:
        query = select(OutboxMessage).where(
            OutboxMessage.state == OutboxState.PENDING, col(OutboxMessage.next_attempt_at) <= now
        )
        return list(self.session.exec(query.order_by(col(OutboxMessage.id))))

    def message(self, message_id: int) -> OutboxMessage | None:
        """One message of the outbox, in whatever state."""
        return self.session.get(OutboxMessage, message_id)

    def document_checks(self) -> dict[str, DocumentCheck]:
        """Each watched document's last stored check, by where it is."""
        return {c.where: c for c in self.session.exec(select(DocumentCheck))}
