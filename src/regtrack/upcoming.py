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
    decision dated on or after the opinion or date it was expected from. A NICE project
    (GID-…) is published as guidance under another reference (TA…): its expected date is
    settled by a NICE decision on the same product published since the project's first
    dated event (its status or a stage)."""
    rows = list(rows)
    decided: dict[tuple[str, str], list[dt.date]] = {}
    began: dict[tuple[str, str], dt.date] = {}
    for row in rows:
        if row.kind != EventKind.EXPECTED_DATE and row.event_date:
            key = (row.agency, row.reference)
            began[key] = min(began.get(key, row.event_date), row.event_date)
        if row.kind in _SETTLES and row.event_date:
            decided.setdefault((row.agency, row.reference), []).append(row.event_date)
            if row.agency == "NICE":
                decided.setdefault(("NICE", f"product {row.product_id}"), []).append(row.event_date)
    out = []
    for row in rows:
        if row.kind != EventKind.EXPECTED_DATE or row.event_date is None:
            continue
        basis = row.details.get("opinion_date")
        since = dt.date.fromisoformat(basis) if basis else row.detected_at.date()
        keys = [(row.agency, row.reference)]
        if row.agency == "NICE" and row.reference.startswith("GID-"):
            keys.append(("NICE", f"product {row.product_id}"))
            since = min(since, began.get(keys[0], since))
        if any(day >= since for key in keys for day in decided.get(key, [])):
            continue
        if row.event_date <= today + dt.timedelta(days=days):
            out.append(row)
    latest: dict[tuple[str, str], EventRow] = {}  # a date that moved: only its latest
    for row in sorted(out, key=lambda r: (r.detected_at, r.id)):
        latest[(row.agency, row.reference)] = row
    return sorted(latest.values(), key=lambda r: (r.event_date or today, r.agency))
