"""What a digest says, as data for its templates: status changes first, then the rest by
product and body, variations of one product in one line, the window in words. Pure: events
in, view models out; no SQL, no rendering.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from .listing import date_text, describe, late_news, marks
from .model import EventKind
from .store import EventRow

#: Kinds that change where a product stands: they open a digest.
STATUS_KINDS = frozenset(
    {
        EventKind.AUTHORISATION,
        EventKind.CONVERSION_TO_FULL,
        EventKind.REFUSAL,
        EventKind.WITHDRAWAL,
        EventKind.APPLICATION_WITHDRAWN,
        EventKind.SUSPENSION,
        EventKind.TENTATIVE_APPROVAL,
        EventKind.HTA_DECISION,
        EventKind.HTA_ANNOUNCED,
        EventKind.HTA_STAGE,
        EventKind.UNDER_EVALUATION,
        EventKind.EXPECTED_DATE,
    }
)


def event_view(e: EventRow) -> dict[str, Any]:
    """One event as a digest row shows it."""
    return {
        "date": date_text(e),
        "agency": e.agency,
        "product": e.product,
        "brand": e.brand or "",
        "kind": describe(e),
        "reference": e.reference,
        "evidence": e.evidence.split("\n")[-1],
        "late": late_news(e) or "",
        "found": f"{e.detected_at:%Y-%m-%d}",
        "url": e.link or e.source_url,
        "marks": marks(e),
        "highlight": e.kind == EventKind.CONVERSION_TO_FULL or bool(e.details.get("reverses")),
    }


def label(e: EventRow) -> str:
    """What tells one variation from another: its procedure (IB/0002) or submission."""
    return str(e.details.get("procedure") or e.details.get("submission") or e.discriminator)


def briefing(
    events: Sequence[EventRow],
    *,
    variations_in_full: bool = False,
    public_url: str | None = None,
) -> dict[str, Any]:
    """Status changes first (each naming its product and body), then the other changes by
    product and body; a product's variations at one body are one line unless asked in full.
    With the web page's `public_url`, each product links to its page."""
    from urllib.parse import quote

    def page(product: str) -> str:
        return f"{public_url.rstrip('/')}/products/{quote(product)}" if public_url else ""

    ordered = sorted(events, key=lambda e: (e.event_date or e.detected_at.date(), e.id))
    status = [event_view(e) | {"page": page(e.product)} for e in ordered if e.kind in STATUS_KINDS]
    rest = [e for e in ordered if e.kind not in STATUS_KINDS]
    products = []
    for product in sorted({e.product for e in rest}, key=str.casefold):
        groups = []
        for agency in sorted({e.agency for e in rest if e.product == product}):
            mine = [e for e in rest if e.product == product and e.agency == agency]
            varied = [e for e in mine if e.kind == EventKind.VARIATION]
            shown = mine if variations_in_full or len(varied) < 2 else [
                e for e in mine if e.kind != EventKind.VARIATION
            ]  # fmt: skip
            summary = (
                ""
                if variations_in_full or len(varied) < 2
                else f"{len(varied)} variations: {', '.join(label(e) for e in varied)}"
            )
            groups.append(
                {"agency": agency, "events": [event_view(e) for e in shown], "variations": summary}
            )
        products.append({"name": product, "aliases": "", "agencies": groups, "page": page(product)})
    return {"status_changes": status, "products": products}


def late_history(events: Iterable[EventRow], since: dt.datetime) -> list[str]:
    """One line per body that published older decisions late in a window."""
    counts: dict[str, int] = {}
    for e in events:
        if e.backfill and e.details.get("late"):
            counts[e.agency] = counts.get(e.agency, 0) + 1
    return [
        f"{agency} published {n} older decision{'s' if n > 1 else ''}; "
        f"regtrack events --history --agency {agency} --since {since:%Y-%m-%d}"
        for agency, n in sorted(counts.items())
    ]


def window_words(start: dt.datetime, end: dt.datetime, zone: str) -> str:
    """A window as a person reads it: 'since yesterday 07:00 (to today 07:00 GMT)'."""
    tz = ZoneInfo(zone)
    s, e = start.astimezone(tz), end.astimezone(tz)
    days = (e.date() - s.date()).days
    minutes = int((end - start).total_seconds() // 60)
    if minutes < 60:
        span = "the last minute" if minutes < 2 else f"the last {minutes} minutes"
        return f"in {span} (since {s:%H:%M:%S}, to {e:%H:%M:%S %Z})"
    if days == 0:
        since = f"since {s:%H:%M} today"
    elif days == 1:
        since = f"since yesterday {s:%H:%M}"
    elif days < 7:
        since = f"since {s:%A} {s:%H:%M}"
    else:
        since = f"since {s.day} {s:%B %Y %H:%M}"
    return f"{since} (to {e:%H:%M %Z} on {e.day} {e:%B %Y})"
