"""Alerting: who hears of which events and when, the operator's channel, and delivery through
the outbox. Composes with `digest`, sends with `mail`; all SQL is the store's.

Nothing lost: a message is stored (outbox) in the transaction that records its window, and
marked sent only after the server took it. Nothing twice: Message-IDs derive from content,
events already sent at a frequency are recorded, and a message whose delivery a crash left
uncertain is not resent without the operator.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from .briefing import briefing, event_view, late_history, window_words
from .config import WEEKDAYS, Config, MailConfig, RecipientConfig, SubscriptionConfig
from .emails import Renderer, preview, stable_id
from .errors import ProductNotFoundError
from .model import EventKind
from .reports import current, status_lines, upcoming
from .store import EventRow, Store

FREQUENCIES = ("immediate", "daily", "weekly")
PERIOD = {
    "immediate": dt.timedelta(days=1),
    "daily": dt.timedelta(days=1),
    "weekly": dt.timedelta(days=7),
}
#: A window also looks this far back, for events a slow poll committed after the last window.
GRACE = dt.timedelta(days=1)
MAX_CATCH_UP = 31


def windows(
    frequency: str, last_end: dt.datetime | None, now: dt.datetime, mail: MailConfig
) -> list[tuple[dt.datetime, dt.datetime]]:
    """The windows due now, oldest first: every one missed since `last_end` is caught up."""
    if frequency == "immediate":
        start = last_end or now - PERIOD["immediate"]
        return [(start, now)] if now > start else []
    zone = ZoneInfo(mail.timezone)
    hour, minute = (int(x) for x in mail.daily_at.split(":"))
    local = now.astimezone(zone)
    # Wall-clock arithmetic on zone-aware datetimes keeps the hour across daylight saving.
    boundary = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if boundary > local:
        boundary -= dt.timedelta(days=1)
    if frequency == "weekly":
        while boundary.weekday() != WEEKDAYS.index(mail.weekly_on):
            boundary -= dt.timedelta(days=1)
    ends: list[dt.datetime] = []
    first = last_end.astimezone(zone) if last_end else boundary - PERIOD[frequency]
    while boundary > first and len(ends) < MAX_CATCH_UP:
        ends.append(boundary)
        boundary -= PERIOD[frequency]
    if not ends:
        return []
    ends.reverse()
    starts = [first, *ends[:-1]]
    return [(s.astimezone(dt.UTC), e.astimezone(dt.UTC)) for s, e in zip(starts, ends, strict=True)]


def matches(subscription: SubscriptionConfig, event: EventRow, product_ids: set[int]) -> bool:
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


#: How far back a preview looks when no digest of that frequency has been composed yet.
PERIODS = {
    "immediate": dt.timedelta(minutes=15),
    "daily": dt.timedelta(days=1),
    "weekly": dt.timedelta(days=7),
}


@dataclass
class Round:
    """What one round composed or sent, for the CLI and the daemon's log."""

    composed: list[tuple[str, str]] = field(default_factory=list)  # (recipient, subject)
    windows: list[tuple[str, dt.datetime, dt.datetime]] = field(default_factory=list)
    previews: list[str] = field(default_factory=list)


class Alerts:
    """The alerting half of regtrack, built by the CLI from config, store, renderer, backend."""

    def __init__(self, config: Config, store: Store, renderer: Renderer) -> None:
        self.config = config
        self.store = store
        self.renderer = renderer

    # --- staff digests ----------------------------------------------------------------------

    def digest_round(
        self, now: dt.datetime, frequencies: Iterable[str] = FREQUENCIES, *, dry_run: bool = False
    ) -> Round:
        out = Round()
        self._resolve_all()
        self._tracking(now, out, dry_run=dry_run)
        used = {s.frequency for r in self.config.recipients for s in r.subscriptions}
        for frequency in [f for f in frequencies if f in used]:
            with self.store.reading() as read:
                last = read.last_window_end(frequency)
            for start, end in windows(frequency, last, now, self.config.mail):
                self._window(frequency, start, end, out, dry_run=dry_run)
        return out

    def preview(
        self, email: str, frequency: str, now: dt.datetime
    ) -> tuple[dt.datetime, list[str]]:
        """What `email`'s next `frequency` digest would hold if its window closed now: the
        news since the last window of that frequency (or one period back), rendered, stored
        nowhere. The window's start, and the messages as text."""
        self._resolve_all()
        with self.store.reading() as read:
            last = read.last_window_end(frequency)
        start = last or now - PERIODS[frequency]
        out = Round()
        self._window(frequency, start, now, out, dry_run=True, only=email)
        return start, out.previews

    def _window(
        self,
        frequency: str,
        start: dt.datetime,
        end: dt.datetime,
        out: Round,
        *,
        dry_run: bool,
        only: str | None = None,
    ) -> None:
        candidates = self.store.events(
            detected_after=start - GRACE, detected_by=end, backfill=False
        )
        with self.store.reading() as read:
            done = read.notified(frequency, [e.id for e in candidates])
        events = [e for e in candidates if e.id not in done]
        history = (
            self.store.events(detected_after=start - GRACE, detected_by=end, backfill=True)
            if frequency != "immediate"
            else []
        )
        coming = self._coming(end) if frequency == "weekly" else []
        messages = []
        for recipient in self.config.recipients:
            if only is not None and recipient.email.casefold() != only.casefold():
                continue
            subs = [s for s in recipient.subscriptions if s.frequency == frequency]
            chosen = [e for e in events if any(matches(s, e, self._products(s)) for s in subs)]
            late = (
                late_history(
                    [e for e in history if any(_covers(s, e) for s in subs)], start - GRACE
                )
                if frequency != "immediate"
                else []
            )
            if subs and chosen:
                ahead = [e for e in coming if any(matches(s, e, self._products(s)) for s in subs)]
                email = self._digest(recipient, subs, frequency, start, end, chosen, late, ahead)
                messages.append(email)
                messages += [_to_channel(email, url) for url in recipient.channels]
        out.windows.append((frequency, start, end))
        if dry_run:
            out.previews += [preview(m["content"]) for m in messages]
            return
        with self.store.transaction() as tx:
            tx.enqueue(messages, end)
            tx.record_notified(frequency, [e.id for e in events])
            tx.record_run(frequency, start, end, len(messages))
        out.composed += [(m["recipient"], m["subject"]) for m in messages]

    def _digest(
        self,
        recipient: RecipientConfig,
        subs: Sequence[SubscriptionConfig],
        frequency: str,
        start: dt.datetime,
        end: dt.datetime,
        events: list[EventRow],
        late: list[str],
        coming: Sequence[EventRow] = (),
    ) -> dict[str, Any]:
        zone = ZoneInfo(self.config.mail.timezone)
        products = sorted({e.product for e in events}, key=str.casefold)
        subject = (
            f"regtrack {frequency} digest: {len(events)} change{'s' if len(events) != 1 else ''}"
            f" ({', '.join(products[:3])}{'…' if len(products) > 3 else ''})"
        )
        links = self._unsubscribe(recipient, subs)
        context: dict[str, Any] = {
            "subject": subject,
            "recipient_name": recipient.name or recipient.email,
            "frequency": frequency,
            "count": len(events),
            **briefing(
                events,
                variations_in_full=any(s.variations == "full" for s in subs),
                public_url=self.config.web.public_url,
            ),
            "window": window_words(start, end, self.config.mail.timezone),
            "window_start": f"{start.astimezone(zone):%Y-%m-%d %H:%M}",
            "window_end": f"{end.astimezone(zone):%Y-%m-%d %H:%M %Z}",
            "late": late,
            # A weekly digest's "coming up": expected dates of its products, 90 days ahead.
            "coming": [event_view(e) | {"page": ""} for e in coming],
            "subscriptions": [_sub_name(recipient, s) for s in subs],
            **links,
        }
        message_id = stable_id(
            "digest",
            recipient.email,
            frequency,
            start.isoformat(),
            end.isoformat(),
            sorted(e.id for e in events),
        )
        return self._message(
            "digest",
            "digest",
            context,
            recipient.email,
            subject,
            message_id,
            context["unsubscribe_url"],
        )

    def _coming(self, end: dt.datetime) -> list[EventRow]:
        """Expected dates still waiting, in the 90 days after a weekly window."""
        return upcoming(self.store.expected_dates(), end.date(), 90)

    def _tracking(self, now: dt.datetime, out: Round, *, dry_run: bool) -> None:
        """One "now tracking" summary per person and newly followed product, with its history."""
        for recipient in self.config.recipients:
            with self.store.reading() as read:
                done = read.tracked_products(recipient.email)
            for sub in recipient.subscriptions:
                for product_id in sorted(self._products(sub) - done):
                    events = self.store.events(product_id=product_id)
                    if not events:
                        continue
                    done.add(product_id)
                    product, aliases = self.store.find_product(events[0].product)
                    subject = f"regtrack now tracks {product.name} for you"
                    links = self._unsubscribe(recipient, [sub])
                    context: dict[str, Any] = {
                        "subject": subject,
                        "recipient_name": recipient.name or recipient.email,
                        "product": {
                            "name": product.name,
                            "aliases": _aliases(product.name, aliases),
                        },
                        # Where it stands now at each body first, then its history.
                        "status": status_lines(current(events, substance=product.name)),
                        "events": [event_view(e) for e in events],
                        "subscription": _sub_name(recipient, sub),
                        **links,
                    }
                    message = self._message(
                        "tracking",
                        "tracking",
                        context,
                        recipient.email,
                        subject,
                        stable_id("tracking", recipient.email, product_id),
                        links["unsubscribe_url"],
                    )
                    if dry_run:
                        out.previews.append(preview(message["content"]))
                        continue
                    with self.store.transaction() as tx:
                        tx.enqueue([message], now)
                        tx.record_tracking(recipient.email, product_id)
                    out.composed.append((recipient.email, subject))

    def _resolve_all(self) -> None:
        """Each subscription's products, resolved once per round (not per event)."""
        self._resolved = {
            id(s): self._resolve(s) for r in self.config.recipients for s in r.subscriptions
        }

    def _products(self, sub: SubscriptionConfig) -> set[int]:
        resolved = getattr(self, "_resolved", {})
        return resolved[id(sub)] if id(sub) in resolved else self._resolve(sub)

    def _resolve(self, sub: SubscriptionConfig) -> set[int]:
        ids = set()
        for name in sub.products:
            try:
                product, _ = self.store.find_product(name)
            except ProductNotFoundError:
                continue  # not seen in any source yet: followed as soon as it is
            if product.id is not None:
                ids.add(product.id)
        return ids

    def _unsubscribe(
        self, recipient: RecipientConfig, subs: Sequence[SubscriptionConfig]
    ) -> dict[str, str]:
        address = self.config.mail.sender.split("<")[-1].rstrip(">").strip()
        names = ", ".join(_sub_name(recipient, s) for s in subs)
        subject = quote(f"unsubscribe {names}")
        return {
            "unsubscribe_address": address,
            "unsubscribe_url": f"mailto:{address}?subject={subject}",
        }

    def _message(
        self,
        purpose: str,
        template: str,
        context: dict[str, Any],
        recipient: str,
        subject: str,
        message_id: str,
        unsubscribe: str | None,
    ) -> dict[str, Any]:
        email = self.renderer.message(
            template,
            context,
            sender=self.config.mail.sender,
            recipient=recipient,
            subject=subject,
            message_id=message_id,
            unsubscribe=f"<{unsubscribe}>" if unsubscribe else None,
        )
        return {
            "message_id": message_id,
            "purpose": purpose,
            "recipient": recipient,
            "subject": subject,
            "content": email.as_bytes(),
        }


def _sub_name(recipient: RecipientConfig, sub: SubscriptionConfig) -> str:
    if sub.name:
        return sub.name
    what = "everything" if sub.everything else ", ".join(sub.products or sub.agencies or sub.kinds)
    return f"{recipient.email}: {what} ({sub.frequency})"


def _aliases(name: str, aliases: Iterable[Any]) -> str:
    return ", ".join(sorted({a.name for a in aliases if a.name.casefold() != name.casefold()}))


def _to_channel(message: dict[str, Any], url: str) -> dict[str, Any]:
    """The same message for one of the recipient's chat channels (its own Message-ID, so the
    outbox claims and retries it on its own)."""
    return message | {
        "message_id": stable_id(message["message_id"], url),
        "recipient": f"channel:{url}",
    }


def _covers(sub: SubscriptionConfig, event: EventRow) -> bool:
    """Whether a subscription follows the body of a late-published event (for its summary)."""
    return sub.everything or event.agency in sub.agencies


__all__ = ["FREQUENCIES", "Alerts", "Round", "matches", "windows"]
