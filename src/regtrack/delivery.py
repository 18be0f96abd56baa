"""Delivering the outbox: claim, hand over, mark sent; retry with backoff; never guess.

A message is claimed in its own committed transaction before it is handed to the backend and
marked sent after the backend took it. A message a crash left claimed may or may not have
arrived: the file backend can tell (the .eml is there or not); SMTP cannot, so such a message
waits for the operator (`regtrack outbox --resend ID`) rather than risk a second copy.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from time import monotonic

from .config import MailConfig
from .errors import MailError
from .mail import Backend, ChannelBackend, FileBackend
from .model import OutboxState
from .store import Store


@dataclass
class Delivery:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    uncertain: int = 0


#: The outbox's recipient of a message for a chat channel: "channel:" and its Apprise URL.
CHANNEL = "channel:"
#: A message claimed longer ago than this is not being sent by a live process (an SMTP
#: hand-over takes seconds; its timeout is 30 s): its delivery is uncertain.
CLAIM_GRACE = dt.timedelta(minutes=10)
log = logging.getLogger("regtrack")


def _elapsed() -> dt.timedelta:
    return dt.timedelta(seconds=monotonic())


def deliver(store: Store, backend: Backend, mail: MailConfig, now: dt.datetime) -> Delivery:
    out = Delivery()
    started = _elapsed()
    with store.reading() as read:
        claimed = [
            m
            for m in read.messages_in(OutboxState.CLAIMED)
            if m.claimed_at is None or m.claimed_at < now - CLAIM_GRACE
        ]
    for message in claimed:
        assert message.id is not None
        known = backend.delivered(message.message_id)
        with store.transaction() as tx:
            if known is True:
                tx.set_message(message.id, state=OutboxState.SENT.value, sent_at=now)
            elif known is False:
                tx.set_message(message.id, state=OutboxState.PENDING.value, next_attempt_at=now)
        out.uncertain += known is None
    with store.reading() as read:
        due = read.due_messages(now)
    for message in due:
        assert message.id is not None
        with store.transaction() as tx:  # committed before the hand-over
            # Only the one process whose UPDATE changed the row sends it: the digest jobs and
            # the outbox job of one daemon, and other daemons, may all be delivering now.
            # Stamped when it is made (the round's start plus the time the round has taken):
            # in a long round, a later claim must not look stale to another process.
            mine = tx.claim_message(message.id, now + (_elapsed() - started), message.attempts + 1)
        if not mine:
            continue
        try:
            if message.recipient.startswith(CHANNEL):
                ChannelBackend().send(
                    message.recipient.removeprefix(CHANNEL), _email(message.content)
                )
            else:
                backend.send(_email(message.content))
        except MailError as err:
            if message.purpose == "operator":
                _fallback(mail, message.content, err)
            if err.uncertain:  # it may have arrived: left claimed, for the operator to check
                with store.transaction() as tx:
                    tx.set_message(message.id, last_error=str(err))
                out.uncertain += 1
                continue
            attempts = message.attempts + 1
            failed = err.permanent or attempts >= mail.max_attempts
            wait = dt.timedelta(seconds=mail.retry_seconds * 2 ** (attempts - 1))
            with store.transaction() as tx:
                tx.set_message(
                    message.id,
                    state=(OutboxState.FAILED if failed else OutboxState.PENDING).value,
                    last_error=str(err),
                    next_attempt_at=now + wait,
                )
            out.failed += failed
            out.retried += not failed
            continue
        with store.transaction() as tx:
            tx.set_message(message.id, state=OutboxState.SENT.value, sent_at=now, last_error=None)
        out.sent += 1
    return out


def _fallback(mail: MailConfig, content: bytes, err: MailError) -> None:
    """An operator alert the mail backend did not take still reaches the operator: the log
    at ERROR, and a file in the mail folder's `operator/`."""
    email = _email(content)
    log.error("operator alert not delivered (%s): %s", err, email["Subject"])
    try:
        FileBackend(Path(mail.directory) / "operator").send(email)
    except MailError as fallback:
        log.error("operator alert not written either: %s", fallback)


def resend(store: Store, backend: Backend, message_id: int, now: dt.datetime) -> None:
    """Send one stored message again (after an operator checked it had not arrived)."""
    with store.reading() as read:
        message = read.message(message_id)
    if message is None:
        raise MailError(f"no message {message_id} in the outbox")
    backend.send(_email(message.content))
    with store.transaction() as tx:
        tx.set_message(
            message_id, state=OutboxState.SENT.value, sent_at=now, attempts=message.attempts + 1
        )


def _email(content: bytes) -> EmailMessage:
    # Parsed as stored, serialised again without refolding (List-Unsubscribe stays one line).
    parsed = message_from_bytes(content, policy=policy.SMTP.clone(max_line_length=998))
    assert isinstance(parsed, EmailMessage)
    return parsed
