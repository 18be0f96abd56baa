"""What's coming: expected dates (an EMA opinion's Commission decision, NICE and SMC
expected publication) still waiting for the decision that settles them. Pure: rows in,
rows out; `regtrack upcoming`, the web page's /upcoming and weekly digests read it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from .model import EventKind
from .store import EventRow

#: What settles an expected date: the decision it was waiting for.
_SETTLES = (EventKind.AUTHORISATION, EventKind.REFUSAL, EventKind.APPLICATION_WITHDRAWN,
            EventKind.HTA_DECISION)  # fmt: skip


def upcoming(rows: Iterable[EventRow], today: dt.date, days: int) -> list[EventRow]:
    """Expected dates still waiting for their decision, from any overdue ones to `days`
    ahead, soonest first. An expected date is settled (and left out) once its record has a
    decision dated on or after the opinion or date it was expected from."""
    rows = list(rows)
    decided: dict[tuple[str, str], list[dt.date]] = {}
    for row in rows:
        if row.kind in _SETTLES and row.event_date:
            decided.setdefault((row.agency, row.reference), []).append(row.event_date)
    out = []
    for row in rows:
        if row.kind != EventKind.EXPECTED_DATE or row.event_date is None:
            continue
        basis = row.details.get("opinion_date")
        since = dt.date.fromisoformat(basis) if basis else row.detected_at.date()
        if any(day >= since for day in decided.get((row.agency, row.reference), [])):
            continue
        if row.event_date <= today + dt.timedelta(days=days):
            out.append(row)
    latest: dict[tuple[str, str], EventRow] = {}  # a date that moved: only its latest
    for row in sorted(out, key=lambda r: (r.detected_at, r.id)):
        latest[(row.agency, row.reference)] = row
    return sorted(latest.values(), key=lambda r: (r.event_date or today, r.agency))
