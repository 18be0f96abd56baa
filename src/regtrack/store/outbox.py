"""The writes of alerting: digest runs, the outbox, operator states, "now tracking" notices.

Mixed into `Writer`, so each call belongs to the caller's transaction; their reads are the
reader's (`store.reader`), on plain read sessions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from ..model import (
    DigestRun,
    DocumentCheck,
    Notified,
    OperatorState,
    OutboxMessage,
    OutboxState,
    OutgoingMessage,
    TrackingNotice,
)


class OutboxWrites:
    session: Session

    def record_run(
        self, frequency: str, start: dt.datetime, end: dt.datetime, messages: int
    ) -> None:
        self.session.add(
            DigestRun(frequency=frequency, window_start=start, window_end=end, messages=messages)
        )
        self.session.flush()

    def enqueue(self, messages: Sequence[OutgoingMessage], now: dt.datetime) -> int:
        """Store composed messages, due at `now`; one already stored (same Message-ID) is not
        stored again."""
        ids = [m.message_id for m in messages]
        known = set(
            self.session.exec(
                select(OutboxMessage.message_id).where(col(OutboxMessage.message_id).in_(ids))
            )
        )
        fresh = [
            dataclasses.asdict(m) | {"created_at": now, "next_attempt_at": now}
            for m in messages
            if m.message_id not in known
        ]
        if fresh:
            self.session.connection().execute(insert(OutboxMessage), fresh)
        return len(fresh)

    def record_notified(self, frequency: str, event_ids: Sequence[int]) -> None:
        if event_ids:
            rows = [{"frequency": frequency, "event_id": i} for i in event_ids]
            self.session.connection().execute(insert(Notified), rows)

    def record_tracking(self, recipient: str, product_id: int) -> None:
        self.session.add(TrackingNotice(recipient=recipient, product_id=product_id))

    def set_operator_state(
        self, source: str, condition: str, active: bool, detail: str | None, now: dt.datetime
    ) -> None:
        state = self.session.exec(
            select(OperatorState).where(
                OperatorState.source == source, OperatorState.condition == condition
            )
        ).first() or OperatorState(source=source, condition=condition)
        state.active, state.detail, state.since = active, detail, now
        self.session.add(state)

    def claim_message(self, message_id: int, now: dt.datetime, attempts: int) -> bool:
        """Claim a pending message for sending: True only for the one caller whose UPDATE
        changed it (a conditional UPDATE is atomic on SQLite and PostgreSQL alike)."""
        result = self.session.execute(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.id) == message_id, col(OutboxMessage.state) == OutboxState.PENDING
            )
            .values(state=OutboxState.CLAIMED.value, claimed_at=now, attempts=attempts)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    def set_message(self, message_id: int, **values: Any) -> None:
        self.session.execute(
            update(OutboxMessage).where(col(OutboxMessage.id) == message_id).values(**values)
        )

    def record_check(
        self, where: str, now: dt.datetime, claims: list[dict[str, Any]], error: str | None
    ) -> None:
        """A watched document's latest check, in place of the one before."""
        stored = self.session.get(DocumentCheck, where)
        if stored is None:
            self.session.add(DocumentCheck(where=where, checked_at=now, claims=claims, error=error))
        else:
            stored.checked_at, stored.claims, stored.error = now, claims, error
            self.session.add(stored)
        self.session.flush()
