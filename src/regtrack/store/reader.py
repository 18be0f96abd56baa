"""Reads on a plain read session: no write lock, so they never wait for a poll's writes.

`Store.reading()` hands one out; `Writer` inherits these reads for use inside its own
transaction. Nothing here writes.
"""

from __future__ import annotations

import zlib

from sqlmodel import Session, col, select

from ..errors import StoreError
from ..model import Blob, DocumentCheck, JobState, OutboxMessage


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

    def messages_in(self, state: str) -> list[OutboxMessage]:
        """The outbox's messages in one state, oldest first."""
        query = select(OutboxMessage).where(OutboxMessage.state == state)
        return list(self.session.exec(query.order_by(col(OutboxMessage.id))))

    def document_checks(self) -> dict[str, DocumentCheck]:
        """Each watched document's last stored check, by where it is."""
        return {c.where: c for c in self.session.exec(select(DocumentCheck))}
