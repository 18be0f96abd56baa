"""The operator's channel: source health changes, removed records, mail that failed or whose
delivery is uncertain. Sent separately from staff digests, once per change, with a recovery
notice when a problem clears.
"""

from __future__ import annotations

import datetime as dt
import socket
from typing import Any

from .config import Config
from .emails import Renderer, outgoing, stable_id
from .model import EventKind, OutboxState
from .store import EventFilter, Store

Condition = tuple[str, str]  # (source, condition)


def staleness(config: Config, health: Any, now: dt.datetime) -> str | None:
    """Why a source's document is stale (older than `[operators] stale_after_hours` allows),
    or None: the operator is mailed it, and `sources --check` fails on it."""
    limit = config.operators.stale_after_hours.get(health.source)
    generated = health.document_generated_at
    if not limit or not generated or now - generated <= dt.timedelta(hours=limit):
        return None
    age = (now - generated).total_seconds() / 3600
    return f"generated {generated:%Y-%m-%d %H:%M} UTC, {age:.0f} h ago (limit {limit:g} h)"


def conditions(config: Config, store: Store, now: dt.datetime) -> dict[Condition, str]:
    """Problems on now, each with its detail."""
    on: dict[Condition, str] = {}
    limit = config.operators.failures_before_alert
    for health in store.health():
        if health.consecutive_failures >= limit:
            on[(health.source, "failing")] = (
                f"{health.consecutive_failures} failures in a row; last: {health.last_error}"
            )
        if health.parse_health and health.parse_health.startswith("failed"):
            on[(health.source, "document shape")] = health.parse_health.removeprefix("failed: ")
        old = staleness(config, health, now)
        if old:
            on[(health.source, "stale document")] = old
    with store.reading() as read:
        for message in read.messages_in(OutboxState.FAILED):
            on[("mail", f"failed {message.message_id}")] = (
                f"to {message.recipient}, '{message.subject}': {message.last_error}"
            )
        for message in read.messages_in(OutboxState.CLAIMED):
            on[("mail", f"uncertain {message.message_id}")] = (
                f"to {message.recipient}, '{message.subject}' (outbox id {message.id}) may not "
                "have arrived after an interruption: check, then "
                f"`regtrack outbox --resend {message.id}`"
            )
    return on


def operator_round(config: Config, store: Store, renderer: Renderer, now: dt.datetime) -> list[str]:
    """Compose alerts for what changed since the last round; returns their subjects."""
    current = conditions(config, store, now)
    with store.reading() as read:
        states = read.operator_states()
    changes: list[dict[str, Any]] = []
    for key, detail in current.items():
        state = states.get(key)
        if state is None or not state.active:
            changes.append(
                {"source": key[0], "condition": key[1], "active": True, "detail": detail}
            )
    for key, state in states.items():
        if state.active and key not in current:
            changes.append({"source": key[0], "condition": key[1], "active": False, "detail": None})
    removed = _removed(store)
    mail = [c["detail"] for c in changes if c["source"] == "mail" and c["active"]]
    health = [c for c in changes if c["source"] != "mail"]
    subjects = []
    if health or removed or mail:
        problems = sum(c["active"] for c in health) + len(removed) + len(mail)
        recovered = len(health) - sum(c["active"] for c in health)
        subject = f"regtrack operator: {problems} problem(s), {recovered} recovered"
        context: dict[str, Any] = {
            "subject": subject,
            "host": socket.gethostname(),
            "now": f"{now:%Y-%m-%d %H:%M} UTC",
            "changes": health,
            "removed": removed,
            "mail": mail,
        }
        messages = []
        for address in config.operators.emails:
            message_id = stable_id(
                "operator", address, now.isoformat(), changes, [e["id"] for e in removed]
            )
            messages.append(
                outgoing(
                    "operator",
                    renderer.message(
                        "operator",
                        context,
                        sender=config.mail.sender,
                        recipient=address,
                        subject=subject,
                        message_id=message_id,
                    ),
                )
            )
        subjects = [subject] * len(messages)
    with store.transaction() as tx:
        tx.enqueue(messages if subjects else [], now)
        for change in changes:
            tx.set_operator_state(
                change["source"], change["condition"], change["active"], change["detail"], now
            )
        tx.record_notified("operator", [e["id"] for e in removed])
    return subjects


def _removed(store: Store) -> list[dict[str, Any]]:
    events = store.events(EventFilter(kind=EventKind.RECORD_REMOVED.value, backfill=False))
    with store.reading() as read:
        done = read.notified("operator", [e.id for e in events])
    return [
        {
            "id": e.id,
            "agency": e.agency,
            "reference": e.reference,
            "product": e.product,
            "evidence": e.evidence,
        }
        for e in events
        if e.id not in done
    ]
