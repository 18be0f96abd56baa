"""Alerting: when digests fall due (windows), what each window holds, and storing what
`compose` says in the outbox; `delivery` sends it, `operators` is the operator's channel.

Nothing lost: a message is stored (outbox) in the transaction that records its window, and
marked sent only after the server took it. Nothing twice: Message-IDs derive from content,
events already sent at a frequency are recorded, and a message whose delivery a crash left
uncertain is not resent without the operator.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from . import compose
from .compose import Followed, Following, Window
from .config import WEEKDAYS, Config, MailConfig
from .emails import Renderer, preview
from .errors import ProductNotFoundError
from .store import EventFilter, Store
from .upcoming import upcoming

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
    """The alerting half of regtrack, built by the CLI from config, store and renderer: reads
    what a round needs, has `compose` say it, and stores the messages in the outbox."""

    def __init__(self, config: Config, store: Store, renderer: Renderer) -> None:
        self.config = config
        self.store = store
        self.renderer = renderer

    def digest_round(
        self, now: dt.datetime, frequencies: Iterable[str] = FREQUENCIES, *, dry_run: bool = False
    ) -> Round:
        out = Round()
        people = self.following()
        self._tracking(now, people, out, dry_run=dry_run)
        used = {s.frequency for r in self.config.recipients for s in r.subscriptions}
        for frequency in [f for f in frequencies if f in used]:
            with self.store.reading() as read:
                last = read.last_window_end(frequency)
            for start, end in windows(frequency, last, now, self.config.mail):
                self._window(frequency, start, end, people, out, dry_run=dry_run)
        return out

    def preview(
        self, email: str, frequency: str, now: dt.datetime
    ) -> tuple[dt.datetime, list[str]]:
        """What `email`'s next `frequency` digest would hold if its window closed now: the
        news since the last window of that frequency (or one period back), rendered, stored
        nowhere. The window's start, and the messages as text."""
        with self.store.reading() as read:
            last = read.last_window_end(frequency)
        start = last or now - PERIODS[frequency]
        people = [p for p in self.following() if p.recipient.email.casefold() == email.casefold()]
        out = Round()
        self._window(frequency, start, now, people, out, dry_run=True)
        return start, out.previews

    def following(self) -> list[Following]:
        """Who follows what, each subscription's products found once (a product not yet seen
        in any source is followed as soon as it is)."""
        found: dict[str, int | None] = {}
        for name in {
            n for r in self.config.recipients for s in r.subscriptions for n in s.products
        }:
            try:
                found[name] = self.store.find_product(name)[0].id
            except ProductNotFoundError:
                found[name] = None
        return [
            Following(r, tuple(
                Followed(s, frozenset(i for n in s.products if (i := found[n]) is not None))
                for s in r.subscriptions))
            for r in self.config.recipients
        ]  # fmt: skip

    def window(self, frequency: str, start: dt.datetime, end: dt.datetime) -> Window:
        """What a window holds: its news not yet sent at `frequency`, the history published
        in it (not for immediate mail), and for a weekly one the expected dates ahead."""
        seen = EventFilter(detected_after=start - GRACE, detected_by=end, backfill=False)
        candidates = self.store.events(seen)
        with self.store.reading() as read:
            done = read.notified(frequency, [e.id for e in candidates])
        history = []
        if frequency != "immediate":
            late = EventFilter(detected_after=start - GRACE, detected_by=end, backfill=True)
            history = self.store.events(late)
        coming = []
        if frequency == "weekly":
            coming = upcoming(self.store.expected_dates(), end.date(), 90)
        news = [e for e in candidates if e.id not in done]
        return Window(frequency, start, end, news, history, coming, grace=GRACE)

    def _window(
        self,
        frequency: str,
        start: dt.datetime,
        end: dt.datetime,
        people: list[Following],
        out: Round,
        *,
        dry_run: bool,
    ) -> None:
        window = self.window(frequency, start, end)
        messages = compose.digests(self.config, self.renderer, window, people)
        out.windows.append((frequency, start, end))
        if dry_run:
            out.previews += [preview(m.content) for m in messages]
            return
        with self.store.transaction() as tx:
            tx.enqueue(messages, end)
            tx.record_notified(frequency, [e.id for e in window.events])
            tx.record_run(frequency, start, end, len(messages))
        out.composed += [(m.recipient, m.subject) for m in messages]

    def _tracking(
        self, now: dt.datetime, people: list[Following], out: Round, *, dry_run: bool
    ) -> None:
        """One "now tracking" summary per person and newly followed product, with its history."""
        for person in people:
            recipient = person.recipient
            with self.store.reading() as read:
                done = read.tracked_products(recipient.email)
            for followed in person.follows:
                for product_id in sorted(followed.products - done):
                    events = self.store.events(EventFilter(product_id=product_id))
                    if not events:
                        continue
                    done.add(product_id)
                    product, aliases = self.store.find_product(events[0].product)
                    message = compose.tracking(
                        self.config, self.renderer, recipient, followed.sub, product, aliases,
                        events,
                    )  # fmt: skip
                    if dry_run:
                        out.previews.append(preview(message.content))
                        continue
                    with self.store.transaction() as tx:
                        tx.enqueue([message], now)
                        tx.record_tracking(recipient.email, product_id)
                    out.composed.append((recipient.email, message.subject))


__all__ = ["FREQUENCIES", "Alerts", "Round", "windows"]
