"""What alerting says, composed without effects: given a window's events and who follows
what (products already resolved), the messages to store in the outbox.

`alerts` reads the store, calls these and stores what they return; nothing here reads or
writes anything but its arguments (and the templates).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from .briefing import briefing, event_view, late_history, window_words
from .config import Config, RecipientConfig, SubscriptionConfig
from .emails import Renderer, for_channel, outgoing, stable_id
from .model import Alias, EventKind, OutgoingMessage, Product
from .reports import current, status_lines
from .store import EventRow


@dataclass(frozen=True)
class Followed:
    """One subscription and the products it names, as found in the store."""

    sub: SubscriptionConfig
    products: frozenset[int] = frozenset()

    def covers(self, event: EventRow) -> bool:
        return matches(self.sub, event, self.products)


@dataclass(frozen=True)
class Following:
    """One person and what they follow."""

    recipient: RecipientConfig
    follows: tuple[Followed, ...]

    def at(self, frequency: str) -> list[Followed]:
        return [f for f in self.follows if f.sub.frequency == frequency]


@dataclass(frozen=True)
class Window:
    """A digest's window and what it holds: news not yet sent at its frequency, the history
    bodies published late in it, and (weekly) the expected dates ahead."""

    frequency: str
    start: dt.datetime
    end: dt.datetime
    events: Sequence[EventRow]
    history: Sequence[EventRow] = ()
    coming: Sequence[EventRow] = ()
    #: How far back the window also looked, for events a slow poll committed late.
    grace: dt.timedelta = field(default=dt.timedelta(days=1))


def matches(subscription: SubscriptionConfig, event: EventRow, product_ids: Iterable[int]) -> bool:
    """Whether one subscription covers one event; removed records go to operators only."""
    if event.kind == EventKind.RECORD_REMOVED or event.backfill:
        return False
    if subscription.everything:
        return True
    if not (subscription.products or subscription.agencies or subscription.kinds):
        return False
    return (
        (not subscription.products or event.product_id in product_ids)
        and (not subscription.agencies or event.agency in subscription.agencies)
        and (not subscription.kinds or event.kind in subscription.kinds)
    )


def digests(
    config: Config, renderer: Renderer, window: Window, people: Iterable[Following]
) -> list[OutgoingMessage]:
    """Each person's digest of a window (to their address and each of their channels), for
    those with something in it."""
    messages = []
    for person in people:
        follows = person.at(window.frequency)
        chosen = [e for e in window.events if any(f.covers(e) for f in follows)]
        if not chosen:
            continue
        late = late_history(
            [e for e in window.history if any(_covers(f.sub, e) for f in follows)],
            window.start - window.grace,
        )
        ahead = [e for e in window.coming if any(f.covers(e) for f in follows)]
        email = _digest(config, renderer, person.recipient, follows, window, chosen, late, ahead)
        messages.append(email)
        messages += [for_channel(email, url) for url in person.recipient.channels]
    return messages


def tracking(
    config: Config,
    renderer: Renderer,
    recipient: RecipientConfig,
    sub: SubscriptionConfig,
    product: Product,
    aliases: Sequence[Alias],
    events: Sequence[EventRow],
) -> OutgoingMessage:
    """The "now tracking" summary of a newly followed product: where it stands at each body,
    then its history."""
    subject = f"regtrack now tracks {product.name} for you"
    links = _unsubscribe(config, recipient, [sub])
    context: dict[str, Any] = {
        "subject": subject,
        "recipient_name": recipient.name or recipient.email,
        "product": {"name": product.name, "aliases": _aliases(product.name, aliases)},
        "status": status_lines(current(events, substance=product.name)),
        "events": [event_view(e) for e in events],
        "subscription": sub_name(recipient, sub),
        **links,
    }
    return outgoing(
        "tracking",
        renderer.message(
            "tracking",
            context,
            sender=config.mail.sender,
            recipient=recipient.email,
            subject=subject,
            message_id=stable_id("tracking", recipient.email, product.id),
            unsubscribe=f"<{links['unsubscribe_url']}>",
        ),
    )


def _digest(
    config: Config,
    renderer: Renderer,
    recipient: RecipientConfig,
    follows: Sequence[Followed],
    window: Window,
    events: list[EventRow],
    late: list[str],
    coming: Sequence[EventRow],
) -> OutgoingMessage:
    zone = ZoneInfo(config.mail.timezone)
    subs = [f.sub for f in follows]
    products = sorted({e.product for e in events}, key=str.casefold)
    count, frequency, start, end = len(events), window.frequency, window.start, window.end
    subject = (
        f"regtrack {frequency} digest: {count} change{'s' if count != 1 else ''}"
        f" ({', '.join(products[:3])}{'…' if len(products) > 3 else ''})"
    )
    links = _unsubscribe(config, recipient, subs)
    context: dict[str, Any] = {
        "subject": subject,
        "recipient_name": recipient.name or recipient.email,
        "frequency": frequency,
        "count": count,
        **briefing(
            events,
            variations_in_full=any(s.variations == "full" for s in subs),
            public_url=config.web.public_url,
        ),
        "window": window_words(start, end, config.mail.timezone),
        "window_start": f"{start.astimezone(zone):%Y-%m-%d %H:%M}",
        "window_end": f"{end.astimezone(zone):%Y-%m-%d %H:%M %Z}",
        "late": late,
        # A weekly digest's "coming up": expected dates of its products ahead.
        "coming": [event_view(e) | {"page": ""} for e in coming],
        "subscriptions": [sub_name(recipient, s) for s in subs],
        **links,
    }
    ids = sorted(e.id for e in events)
    return outgoing(
        "digest",
        renderer.message(
            "digest",
            context,
            sender=config.mail.sender,
            recipient=recipient.email,
            subject=subject,
            message_id=stable_id(
                "digest", recipient.email, frequency, start.isoformat(), end.isoformat(), ids
            ),
            unsubscribe=f"<{links['unsubscribe_url']}>",
        ),
    )


def _unsubscribe(
    config: Config, recipient: RecipientConfig, subs: Sequence[SubscriptionConfig]
) -> dict[str, str]:
    address = config.mail.sender.split("<")[-1].rstrip(">").strip()
    subject = quote(f"unsubscribe {', '.join(sub_name(recipient, s) for s in subs)}")
    return {
        "unsubscribe_address": address,
        "unsubscribe_url": f"mailto:{address}?subject={subject}",
    }


def sub_name(recipient: RecipientConfig, sub: SubscriptionConfig) -> str:
    if sub.name:
        return sub.name
    what = "everything" if sub.everything else ", ".join(sub.products or sub.agencies or sub.kinds)
    return f"{recipient.email}: {what} ({sub.frequency})"


def _aliases(name: str, aliases: Iterable[Alias]) -> str:
    return ", ".join(sorted({a.name for a in aliases if a.name.casefold() != name.casefold()}))


def _covers(sub: SubscriptionConfig, event: EventRow) -> bool:
    """Whether a subscription follows the body of a late-published event (for its summary)."""
    return sub.everything or event.agency in sub.agencies
