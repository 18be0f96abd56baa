"""Reports computed from events: the current status per body, what was known on a date, and
the lag between bodies. Pure: rows in, data out.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .model import OUTCOME_WORDS, Agency, EventKind
from .store import EventRow

BODIES = [a.value for a in Agency]
REGULATORS = ("EMA", "FDA", "MHRA")


@dataclass(frozen=True)
class Status:
    """Where one product stands with one body, and since when."""

    text: str
    since: dt.date | None = None
    approximate: bool = False

    def __str__(self) -> str:
        if self.since is None:
            return self.text
        return f"{self.text} since {self.since.isoformat()}{'~' if self.approximate else ''}"


def effective_day(row: EventRow) -> dt.date:
    return row.event_date or row.detected_at.date()


def as_of(rows: Iterable[EventRow], day: dt.date) -> list[EventRow]:
    """What was known on `day`: news by when regtrack detected it, history (backfill) by when
    the body decided or published it, since regtrack had not been watching then."""
    out = []
    for row in rows:
        when = (row.published_at or row.event_date) if row.backfill else row.detected_at.date()
        if (when or row.detected_at.date()) <= day:
            out.append(row)
    return out


def current(rows: Sequence[EventRow]) -> dict[str, Status]:
    """The current status per body from its events (oldest first)."""
    out: dict[str, Status] = {}
    for agency in REGULATORS:
        status = _regulator([r for r in rows if r.agency == agency], agency)
        if status is not None:
            out[agency] = status
    for agency in ("NICE", "SMC"):
        status = _hta([r for r in rows if r.agency == agency])
        if status is not None:
            out[agency] = status
    return out


def status_line(statuses: dict[str, Status]) -> str:
    return " · ".join(f"{agency} {statuses[agency]}" for agency in BODIES if agency in statuses)


def _regulator(rows: list[EventRow], agency: str) -> Status | None:
    state: Status | None = None
    for row in sorted(rows, key=lambda r: (effective_day(r), r.id)):
        kind, d = row.kind, row.details
        day, approx = row.event_date, row.date_approximate
        first = state is None or state.text.startswith(("CHMP opinion", "tentative"))
        if kind == EventKind.AUTHORISATION and first:
            if d.get("conditional"):
                word = "conditional authorisation"
            elif d.get("accelerated"):
                word = "accelerated approval"
            else:
                word = "approved" if agency == "FDA" else "authorised"
            state = Status(word, day, approx)
        elif kind == EventKind.CONVERSION_TO_FULL:
            state = Status(
                "regular approval" if agency == "FDA" else "full authorisation", day, approx
            )
        elif kind == EventKind.TENTATIVE_APPROVAL and state is None:
            state = Status("tentative approval", day, approx)
        elif kind == EventKind.WITHDRAWAL and not d.get("products"):
            state = Status(f"authorisation ended ({d.get('reason', 'withdrawn')})", day, approx)
        elif kind == EventKind.REFUSAL:
            state = Status("refused", day, approx)
        elif kind == EventKind.SUSPENSION:
            state = Status("suspended", day, approx)
        elif kind == EventKind.OPINION and state is None:
            state = Status(f"CHMP opinion {d.get('outcome') or ''}".strip(), day, approx)
    return state


def _hta(rows: list[EventRow]) -> Status | None:
    latest: dict[str, EventRow] = {}
    for row in sorted(rows, key=lambda r: (effective_day(r), r.id)):
        if row.kind == EventKind.HTA_DECISION:
            latest[row.reference] = row
    if not latest:
        pending = [r for r in rows if r.kind in (EventKind.HTA_STATUS, EventKind.EXPECTED_DATE)]
        if pending:
            last = pending[-1]
            return Status(f"in progress ({last.reference})", last.event_date, last.date_approximate)
        return None
    parts = [
        f"{OUTCOME_WORDS.get(str(r.details.get('outcome')), 'decision published')} ({ref})"
        for ref, r in sorted(latest.items(), key=lambda kv: effective_day(kv[1]))
    ]
    first = min(effective_day(r) for r in latest.values())
    return Status(" / ".join(parts), first)


@dataclass
class Lag:
    product: str
    first: tuple[str, dt.date]
    days: dict[str, int]


def lags(by_product: Mapping[str, Sequence[EventRow]]) -> tuple[list[Lag], dict[str, float]]:
    """For products known to several bodies: days from the first approval anywhere to each
    body's first decision (authorisation for regulators, a published decision for HTA)."""
    out = []
    for product, rows in sorted(by_product.items()):
        firsts: dict[str, dt.date] = {}
        for row in rows:
            decided = (row.agency in REGULATORS and row.kind == EventKind.AUTHORISATION) or (
                row.agency in ("NICE", "SMC") and row.kind == EventKind.HTA_DECISION
                and row.details.get("outcome") != "terminated"
            )  # fmt: skip
            if (
                decided
                and row.event_date
                and (row.agency not in firsts or row.event_date < firsts[row.agency])
            ):
                firsts[row.agency] = row.event_date
        approvals = {a: d for a, d in firsts.items() if a in REGULATORS}
        if len(firsts) < 2 or not approvals:
            continue
        agency, first = min(approvals.items(), key=lambda kv: kv[1])
        out.append(Lag(product, (agency, first), {a: (d - first).days for a, d in firsts.items()}))
    medians = {
        body: statistics.median(values)
        for body in BODIES
        if (values := [lag.days[body] for lag in out if body in lag.days])
    }
    return out, medians
