"""A claim judged against one product's events at one body: current, outdated (since when,
by which event) or unknown, and what is true now in words. Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from ..listing import describe
from ..model import OUTCOME_WORDS, EventKind
from ..store import EventRow
from .claims import Claim

POSITIVE = {"recommended", "recommended_restricted", "accepted", "cancer_drugs_fund", "interim"}
_GRANTS = (EventKind.AUTHORISATION, EventKind.CONVERSION_TO_FULL, EventKind.INDICATION_EXTENSION)
#: The events a claim told as history is confirmed by.
_CONFIRMS = {
    "conditional": (EventKind.AUTHORISATION, EventKind.INDICATION_EXTENSION),
    "authorised": _GRANTS, "full": _GRANTS,
    "opinion_positive": (EventKind.OPINION,), "opinion_negative": (EventKind.OPINION,
                                                                    EventKind.REFUSAL),
    "withdrawn": (EventKind.WITHDRAWAL, EventKind.SUSPENSION), "refused": (EventKind.REFUSAL,),
    "application_withdrawn": (EventKind.APPLICATION_WITHDRAWN,),
}  # fmt: skip
#: The events a claim states (of its month, when it gives one).
_STATED = _CONFIRMS | {"recommended": (EventKind.HTA_DECISION,),
                       "recommended_restricted": (EventKind.HTA_DECISION,)}  # fmt: skip
#: Where a product stands with a regulator, as each claim reads it.
_STATES_FOR = {
    "conditional": {"conditional"},
    "full": {"full"},
    "authorised": {"conditional", "full"},
    "withdrawn": {"ended"},
    "opinion_positive": {"opinion_positive"},
    "opinion_negative": {"opinion_negative", "refused"},
    "not_licensed": {"opinion_positive", "opinion_negative", "refused", "application_withdrawn",
                     "under_review"},
    "under_review": {"under_review"},
    "application_withdrawn": {"application_withdrawn"},
}  # fmt: skip


@dataclass
class Verdict:
    """One claim a sentence makes about one body, judged."""

    sentence: str
    products: list[str]
    agency: str
    claim: str
    verdict: str  # current, outdated, unknown
    since: dt.date | None = None
    event: EventRow | None = None
    reason: str = ""
    history: bool = False
    #: The (year, month) the sentence gives.
    when: tuple[int | None, int | None] | None = None
    #: What is true now, in words: "full authorisation since 2022-07-18 (II/0009)".
    now: str = ""

    def states(self, e: EventRow) -> bool:
        """Does the sentence itself state event `e` ("licensed under conditional marketing
        authorisation by the EMA" states the EMA's authorisation; "In December 2020 the FDA
        approved…" the FDA's decision of that month)?"""
        if e.agency != self.agency or e.kind not in _STATED.get(self.claim, ()):
            return False
        if self.when and self.when[0] and e.event_date:
            return e.event_date.year == self.when[0] and self.when[1] in (None, e.event_date.month)
        return e.kind != EventKind.INDICATION_EXTENSION


def day(e: EventRow) -> dt.date:
    return e.event_date or e.detected_at.date()


@dataclass(frozen=True)
class Standing:
    """Where a product stands with a regulator now, and the event that put it there."""

    state: str | None
    event: EventRow | None

    @property
    def words(self) -> str:
        if self.event is None:
            return "nothing in the ledger"
        e = self.event
        what = {
            "conditional": "conditional authorisation", "full": "full authorisation",
            "ended": f"authorisation ended ({e.details.get('reason') or describe(e)})",
            "refused": "refused", "application_withdrawn": "application withdrawn",
            "opinion_positive": "positive CHMP opinion", "opinion_negative": "negative opinion",
        }.get(self.state or "", describe(e))  # fmt: skip
        if e.kind == EventKind.AUTHORISATION and e.details.get("flags_as_of"):
            return f"{what} (the register of {e.details['flags_as_of']})"
        label = e.details.get("procedure") or e.details.get("submission")
        label = f" ({label})" if label and str(label).strip("0") else ""
        return f"{what} since {day(e).isoformat()}{label}"


def standing(rows: Sequence[EventRow]) -> Standing:
    """Each authorisation's state by its own events; the product's is the latest that is
    authorised, else the latest of any (a generic's approval never speaks for the brand)."""
    by_reference: dict[str, Standing] = {}
    for e in sorted(rows, key=lambda e: (day(e), e.id)):
        state, was = None, by_reference.get(e.reference, Standing(None, None)).state
        d = e.details
        if e.kind == EventKind.AUTHORISATION and was in (None, "opinion_positive", "under_review"):
            conditional = d.get("conditional") or d.get("accelerated")
            state = "conditional" if conditional else "full"
        elif e.kind == EventKind.CONVERSION_TO_FULL:
            state = "full"
        elif e.kind in (EventKind.WITHDRAWAL, EventKind.SUSPENSION) and not d.get("products"):
            state = "ended"
        elif e.kind == EventKind.REFUSAL:
            state = "refused"
        elif e.kind == EventKind.APPLICATION_WITHDRAWN:
            state = "application_withdrawn"
        elif e.kind == EventKind.OPINION and was in (None, "opinion_positive", "opinion_negative"):
            state = "opinion_negative" if d.get("outcome") == "negative" else "opinion_positive"
        if state is not None:
            by_reference[e.reference] = Standing(state, e)
    found = sorted(by_reference.values(), key=lambda s: (day(s.event), s.event.id) if s.event
                   else (dt.date.min, 0))  # fmt: skip
    authorised = [s for s in found if s.state in ("conditional", "full")]
    return (authorised or found or [Standing(None, None)])[-1]


def judge_claim(claim: Claim, rows: Sequence[EventRow]) -> Verdict:
    """`claim` against the events of its body for the products the sentence speaks of."""
    v = Verdict("", [], claim.agency, claim.claim, "unknown", history=claim.history,
                when=claim.when)  # fmt: skip
    if not rows:
        v.reason = "regtrack has nothing from this body for this product"
        return v
    rows = sorted(rows, key=lambda e: (day(e), e.id))
    if claim.agency in ("NICE", "SMC"):
        return _hta(v, rows)
    now = standing(rows)
    v.now = now.words
    if claim.history:
        return _history(v, claim, rows, now)
    wanted = _STATES_FOR.get(claim.claim, set())
    if now.state in wanted:
        return _set(v, "current", now.event if claim.claim != "not_licensed" else None, "")
    if now.state is None:
        return _set(v, "unknown", None, "the ledger has no event that bears on this claim")
    mismatch = {
        # a claim of full authorisation, or of withdrawal, that the ledger does not (yet) show
        "full": {"conditional"}, "withdrawn": {"conditional", "full"},
        "authorised": {"opinion_positive", "opinion_negative", "under_review"},
    }.get(claim.claim, set())  # fmt: skip
    if now.state in mismatch:
        return _set(v, "unknown", now.event, f"the ledger shows {now.words}")
    return _set(v, "outdated", now.event, f"now {now.words}")


def _history(v: Verdict, claim: Claim, rows: list[EventRow], now: Standing) -> Verdict:
    """History is confirmed by an event of its month (or year), or consistent with the
    ledger; it never becomes outdated."""
    kinds = _CONFIRMS.get(claim.claim, ())
    mine = [e for e in rows if e.kind in kinds]
    if claim.when and claim.when[0]:
        year, month = claim.when
        dated = [e for e in mine if e.event_date and e.event_date.year == year
                 and month in (None, e.event_date.month)]  # fmt: skip
        if dated:
            return _set(v, "current", dated[0], "the ledger has this event")
    if claim.claim == "under_review" and rows:
        return _set(v, "current", rows[0], "history: the ledger's first event followed it")
    if mine:
        when = f"; the ledger dates it {day(mine[0])}" if claim.when else ""
        return _set(v, "current", mine[0], f"history, consistent with the ledger{when}")
    return _set(v, "unknown", None, "history the ledger has no event for")


def _hta(v: Verdict, rows: list[EventRow]) -> Verdict:
    decisions = [e for e in rows if e.kind == EventKind.HTA_DECISION]
    claim = v.claim
    if not decisions:
        pending = claim in ("not_appraised", "not_available_nhs", "not_recommended")
        return _set(v, "current", None, "no decision published yet") if pending else _unknown(v)
    latest = decisions[-1]
    outcome = str(latest.details.get("outcome"))
    v.now = f"{OUTCOME_WORDS.get(outcome, outcome)} since {day(latest)} ({latest.reference})"
    positive = [d for d in decisions if str(d.details.get("outcome")) in POSITIVE]
    if claim in ("not_appraised", "not_available_nhs", "not_recommended"):
        first = decisions[0] if claim == "not_appraised" else next(iter(positive), None)
        if first is None:
            return _set(v, "current", latest, "")
        said = OUTCOME_WORDS.get(str(first.details.get("outcome")), "decision published")
        v.now = f"{said} since {day(first)} ({first.reference})"
        return _set(v, "outdated", first, "the body published its decision")
    wanted = {
        "recommended": {"recommended", "accepted", "cancer_drugs_fund", "interim"},
        "recommended_restricted": {"recommended_restricted", "interim"},
    }.get(claim, set())
    if outcome in wanted or any(str(d.details.get("outcome")) in wanted for d in positive):
        return _set(v, "current", latest, "")
    return _set(v, "outdated", latest, f"the latest decision: {describe(latest)}")


def _set(v: Verdict, verdict: str, event: EventRow | None, reason: str) -> Verdict:
    v.verdict, v.event, v.reason = verdict, event, reason
    if verdict == "outdated" and event is not None:
        v.since = None if event.details.get("flags_as_of") else day(event)
    return v


def _unknown(v: Verdict) -> Verdict:
    v.reason = "the ledger has no event that bears on this claim"
    return v
