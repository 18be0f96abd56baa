"""Delivering the outbox: claim, hand over, mark sent; retry with backoff; never guess.

A message is claimed in its own committed transaction before it is handed to the backend and
marked sent after the backend took it. A message a crash left claimed may or may not have
arrived: the file backend can tell (the .eml is there or not); SMTP cannot, so such a message
waits for the operator (`regtrack outbox --resend ID`) rather than risk a second copy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from .config import MailConfig
from .errors import MailError
from .mail import Backend
from .store import Store


@dataclass
class Delivery:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    uncertain: int = 0


def deliver(store: Store, backend: Backend, mail: MailConfig, now: dt.datetime) -> Delivery:
    out = Delivery()
    with store.transaction() as tx:
        claimed = tx.messages_in("claimed")
    for message in claimed:
        assert message.id is not None
        known = backend.delivered(message.message_id)
        with store.transaction() as tx:
            if known is True:
                tx.set_message(message.id, state="sent", sent_at=now)
            elif known is False:
                tx.set_message(message.id, state="pending", next_attempt_at=now)
        out.uncertain += known is None
    with store.transaction() as tx:
        due = tx.due_messages(now)
    for message in due:
        assert message.id is not None
        with store.transaction() as tx:  # committed before the hand-over
            tx.set_message(
                message.id, state="claimed", claimed_at=now, attempts=message.attempts + 1
            )
        try:
            backend.send(_email(message.content))
        except MailError as err:
            attempts = message.attempts + 1
            failed = attempts >= mail.max_attempts
            wait = dt.timedelta(seconds=mail.retry_seconds * 2 ** (attempts - 1))
            with store.transaction() as tx:
                tx.set_message(
                    message.id,
                    state="failed" if failed else "pending",
                    last_error=str(err),
                    next_attempt_at=now + wait,
                )
            out.failed += failed
            out.retried += not failed
            continue
        with store.transaction() as tx:
            tx.set_message(message.id, state="sent", sent_at=now, last_error=None)
        out.sent += 1
    return out


def resend(store: Store, backend: Backend, message_id: int, now: dt.datetime) -> None:
    """Send one stored message again (after an operator checked it had not arrived)."""
    with store.transaction() as tx:
        everything = [
            m for state in ("claimed", "failed", "sent", "pending") for m in tx.messages_in(state)
        ]
    message = next((m for m in everything if m.id == message_id), None)
    if message is None:
        raise MailError(f"no message {message_id} in the outbox")
    backend.send(_email(message.content))
    with store.transaction() as tx:
        tx.set_message(message_id, state="sent", sent_at=now, attempts=message.attempts + 1)


def _email(content: bytes) -> EmailMessage:
    parsed = message_from_bytes(content, policy=policy.SMTP)
    assert isinstance(parsed, EmailMessage)
    return parsed
