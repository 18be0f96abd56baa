"""Reports computed from events: the current status per body, what was known on a date, and
the lag between bodies. Pure: rows in, data out.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

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
    #: The event is undated: `since` is the date of the document that first showed it.
    no_later_than: bool = False
    #: The body published the change long after its date (news marked late): when it did.
    published: dt.date | None = None

    def __str__(self) -> str:
        if self.since is None:
            return self.text
        if self.no_later_than:
            return f"{self.text} no later than {self.since.isoformat()}"
        text = f"{self.text} since {self.since.isoformat()}{'~' if self.approximate else ''}"
        return f"{text}, published {self.published.isoformat()}" if self.published else text


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


@dataclass(frozen=True)
class Authorisation:
    """One marketing authorisation (a body and its reference) with its brand and status."""

    agency: str
    reference: str
    brand: str | None
    status: Status

    def __str__(self) -> str:
        return f"{self.brand + ' ' if self.brand else ''}{self.status} ({self.reference})"


@dataclass(frozen=True)
class BodyStatus:
    """Where a product stands with one body: its authorisations (regulators), or the HTA
    decisions on its substance."""

    parts: tuple[str, ...]
    authorisations: tuple[Authorisation, ...] = ()

    def __str__(self) -> str:
        return "; ".join(self.parts)


def authorisations(rows: Iterable[EventRow]) -> list[Authorisation]:
    """Each regulator's authorisations in these events, one per (body, reference), each with
    the status its own events give: a substance's withdrawn brand never speaks for another."""
    groups: dict[tuple[str, str], list[EventRow]] = {}
    for row in rows:
        if row.agency in REGULATORS:
            groups.setdefault((row.agency, row.reference), []).append(row)
    out = []
    for (agency, reference), group in groups.items():
        status = _regulator(group, agency)
        if status is not None:
            brand = next((r.brand for r in reversed(group) if r.brand), None)
            out.append(Authorisation(agency, reference, brand, status))
    return sorted(out, key=lambda a: (a.agency, a.status.since or dt.date.max, a.reference))


def current(
    rows: Sequence[EventRow], *, brand: str | None = None, substance: str | None = None
) -> dict[str, BodyStatus]:
    """The current status per body. With a `brand`, that brand's authorisations one by one
    and the substance's others counted by status; without, every authorisation."""
    out: dict[str, BodyStatus] = {}
    found = authorisations(rows)
    for agency in REGULATORS:
        mine = [a for a in found if a.agency == agency]
        if not mine:
            continue
        if brand is None:
            shown, others = mine, []
        else:
            shown = [a for a in mine if same_brand(a.brand, brand)]
            others = [a for a in mine if not same_brand(a.brand, brand)]
        parts = [str(a) for a in shown] or [f"no {brand} authorisation"]
        counts: dict[str, int] = {}
        for other in others:
            word = _short(other.status.text)
            counts[word] = counts.get(word, 0) + 1
        if counts:
            ranked = sorted(counts.items(), key=lambda kv: -kv[1])
            total = sum(counts.values())
            what = f"{substance or 'substance'} medicine{'s' if total > 1 else ''}"
            parts.append(
                f"{total} other {what}: " + ", ".join(f"{n} {word}" for word, n in ranked)
                if len(ranked) > 1
                else f"{total} other {what} {ranked[0][0]}"
            )
        out[agency] = BodyStatus(tuple(parts), tuple(shown))
    for agency in ("NICE", "SMC"):
        status = _hta([r for r in rows if r.agency == agency])
        if status is not None:
            out[agency] = BodyStatus((str(status),))
    return out


def _short(text: str) -> str:
    """A status as a count reads it: '5 withdrawn', '10 authorised'."""
    if text.startswith("authorisation ended ("):
        return text.removeprefix("authorisation ended (").removesuffix(")")
    return {
        "conditional authorisation": "conditionally authorised",
        "full authorisation": "fully authorised",
        "regular approval": "approved",
        "accelerated approval": "approved (accelerated)",
    }.get(text, text)


def status_line(statuses: Mapping[str, BodyStatus]) -> str:
    return " · ".join(f"{agency}: {statuses[agency]}" for agency in BODIES if agency in statuses)


def status_lines(statuses: Mapping[str, BodyStatus]) -> list[str]:
    """One line per body: 'EMA   Nexpovio full authorisation since 2022-07-18 (…)'."""
    return [f"{agency:<5} {statuses[agency]}" for agency in BODIES if agency in statuses]


def same_brand(a: str | None, b: str | None) -> bool:
    from .names import normalise

    return a is not None and b is not None and normalise(a) == normalise(b)


def brand_named(rows: Iterable[EventRow], name: str) -> str | None:
    """The brand `name` is, as the events write it; None for an INN or a code."""
    return next((r.brand for r in rows if same_brand(r.brand, name)), None)


def for_brand(rows: Sequence[EventRow], brand: str) -> list[EventRow]:
    """A brand's own events at the regulators, and every HTA decision on its substance (NICE
    and SMC appraise technologies). A regulator's events that name no brand are kept only
    where that regulator's events name none at all."""
    branded = {r.agency for r in rows if r.brand}
    return [
        r
        for r in rows
        if r.agency not in REGULATORS
        or same_brand(r.brand, brand)
        or (r.brand is None and r.agency not in branded)
    ]


def brands(rows: Iterable[EventRow]) -> list[str]:
    """The distinct brands of these events, as first written."""
    from .names import normalise

    seen: dict[str, str] = {}
    for row in rows:
        if row.brand:
            seen.setdefault(normalise(row.brand), row.brand)
    return sorted(seen.values(), key=str.casefold)


def _regulator(rows: list[EventRow], agency: str) -> Status | None:
    state: Status | None = None
    for row in sorted(rows, key=lambda r: (effective_day(r), r.id)):
        state = _regulator_step(state, row, agency)
    return state


def _regulator_step(state: Status | None, row: EventRow, agency: str) -> Status | None:
    """The status after one more event, with the date the body published it when late."""
    after = _regulator_status(state, row, agency)
    if after is state or after is None:
        return after
    late = row.details.get("late") and not row.backfill and row.published_at
    return replace(after, published=row.published_at) if late else after


def _regulator_status(state: Status | None, row: EventRow, agency: str) -> Status | None:
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
    elif d.get("scope") == "indication":
        pass  # one accelerated indication converted or withdrawn: not the authorisation's
    elif kind == EventKind.CONVERSION_TO_FULL:
        state = Status("regular approval" if agency == "FDA" else "full authorisation", day, approx)
    elif kind == EventKind.TENTATIVE_APPROVAL and state is None:
        state = Status("tentative approval", day, approx)
    elif kind == EventKind.WITHDRAWAL and not d.get("products"):
        ended = f"authorisation ended ({d.get('reason', 'withdrawn')})"
        state = Status(ended, day, approx, bool(d.get("no_later_than")))
    elif kind == EventKind.REFUSAL:
        state = Status("refused", day, approx)
    elif kind == EventKind.SUSPENSION:
        state = Status("suspended", day, approx)
    elif kind == EventKind.OPINION and state is None:
        state = Status(f"CHMP opinion {d.get('outcome') or ''}".strip(), day, approx)
    elif kind == EventKind.UNDER_EVALUATION and state is None:
        state = Status("under evaluation by the CHMP", day, approx)
    return state


def _hta(rows: list[EventRow]) -> Status | None:
    latest: dict[str, EventRow] = {}
    for row in sorted(rows, key=lambda r: (effective_day(r), r.id)):
        if row.kind == EventKind.HTA_DECISION:
            latest[row.reference] = row
    if not latest:
        stages = [r for r in rows if r.kind == EventKind.HTA_STAGE and r.event_date]
        if stages:  # the furthest stage reached, with what its document recommends if read
            last = max(stages, key=lambda r: (effective_day(r), "outcome" in r.details, r.id))
            said = OUTCOME_WORDS.get(str(last.details.get("outcome")))
            stage = ": ".join(filter(None, (str(last.details.get("stage")), said)))
            return Status(f"{stage} ({last.reference})", last.event_date)
        pending = [r for r in rows if r.kind in (EventKind.HTA_STATUS, EventKind.EXPECTED_DATE)]
        if pending:
            last = pending[-1]
            return Status(f"in progress ({last.reference})", last.event_date, last.date_approximate)
        return None
    # Each appraisal with its own date: TA974 was published a week after TA970.
    ordered = sorted(latest.items(), key=lambda kv: effective_day(kv[1]))
    parts = [
        f"{OUTCOME_WORDS.get(str(r.details.get('outcome')), 'decision published')} "
        f"since {effective_day(r).isoformat()} ({ref})"
        for ref, r in ordered
    ]
    return Status(" / ".join(parts), None)


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
