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


#: How long before its provisional date a stage may come and still be the one expected.
EARLY = dt.timedelta(days=60)


def upcoming(rows: Iterable[EventRow], today: dt.date, days: int) -> list[EventRow]:
    """Expected dates still waiting for their decision, from any overdue ones to `days`
    ahead, soonest first. An expected date is settled (and left out) once its record has a
    decision dated on or after the opinion or date it was expected from. A NICE project
    (GID-…) is published as guidance under another reference (TA…): its expected dates are
    settled by a NICE decision on the same product published since the project's first
    dated event (its status or a stage); a stage its schedule expects ("draft guidance
    consultation"), also by that stage reached. A date that moved shows only as it is now."""
    rows = list(rows)
    facts = _Facts(rows)
    waiting = [
        row for row in rows
        if row.kind == EventKind.EXPECTED_DATE and row.event_date is not None
        and not facts.settled(row) and row.event_date <= today + dt.timedelta(days=days)
    ]  # fmt: skip
    latest: dict[tuple[str, str, str], EventRow] = {}
    for row in sorted(waiting, key=lambda r: (r.detected_at, r.id)):
        latest[(row.agency, row.reference, str(row.details.get("expected") or ""))] = row
    return sorted(latest.values(), key=lambda r: (r.event_date or today, r.agency))


class _Facts:
    """What settles expected dates, gathered once from the rows."""

    def __init__(self, rows: list[EventRow]) -> None:
        self.decided: dict[tuple[str, str], list[dt.date]] = {}
        self.began: dict[tuple[str, str], dt.date] = {}
        self.reached: dict[tuple[str, str, str], list[dt.date]] = {}
        for row in rows:
            key = (row.agency, row.reference)
            if row.kind != EventKind.EXPECTED_DATE and row.event_date:
                self.began[key] = min(self.began.get(key, row.event_date), row.event_date)
            if row.kind == EventKind.HTA_STAGE and row.event_date:
                stage = (row.agency, row.reference, str(row.details.get("stage")))
                self.reached.setdefault(stage, []).append(row.event_date)
            if row.kind in _SETTLES and row.event_date:
                self.decided.setdefault(key, []).append(row.event_date)
                if row.agency == "NICE":
                    product = ("NICE", f"product {row.product_id}")
                    self.decided.setdefault(product, []).append(row.event_date)

    def settled(self, row: EventRow) -> bool:
        assert row.event_date is not None
        basis = row.details.get("opinion_date")
        since = dt.date.fromisoformat(basis) if basis else row.detected_at.date()
        keys = [(row.agency, row.reference)]
        if row.agency == "NICE" and row.reference.startswith("GID-"):
            keys.append(("NICE", f"product {row.product_id}"))
            since = min(since, self.began.get(keys[0], since))
        if any(day >= since for key in keys for day in self.decided.get(key, [])):
            return True
        stage = (row.agency, row.reference, str(row.details.get("expected")))
        return any(day >= row.event_date - EARLY for day in self.reached.get(stage, []))
