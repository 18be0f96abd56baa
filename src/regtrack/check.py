"""`regtrack check`: the statements a document makes about regulatory and HTA status, each
judged against the ledger. Rules you can read: a body is named by these words, a claim by
these patterns (negations first), a verdict by the events stored. Pure: sentences and events
in, verdicts out.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .listing import describe
from .model import EventKind
from .store import EventRow

#: Words that name each body in a sentence.
BODIES: dict[str, re.Pattern[str]] = {
    "EMA": re.compile(r"\b(EMA|European Medicines Agency|European Commission|EU|European Union"
                      r"|in Europe)\b"),
    "MHRA": re.compile(r"\b(MHRA|Medicines and Healthcare products Regulatory Agency|UK"
                       r"|United Kingdom|Great Britain)\b"),
    "FDA": re.compile(r"\b(FDA|Food and Drug Administration|US|USA|United States)\b"),
    "NICE": re.compile(r"\b(NICE|National Institute for Health and Care Excellence|England)\b"),
    "SMC": re.compile(r"\b(SMC|Scottish Medicines Consortium|Scotland)\b"),
}  # fmt: skip
HTA = ("NICE", "SMC")
REGULATORS = ("EMA", "MHRA", "FDA")

_NOT = r"(?:not|n't|never|yet to be|still not)"
#: (claim, pattern) in the order they are tried: negations and the specific before the plain.
CLAIMS: list[tuple[str, re.Pattern[str]]] = [
    ("not_appraised", re.compile(rf"\b{_NOT}\s+(?:yet\s+)?(?:been\s+)?(?:appraised|assessed"
                                 r"|evaluated)|\bno\s+(?:NICE|SMC)?\s*(?:appraisal|advice)",
                                 re.I)),
    ("not_available_nhs", re.compile(rf"\b{_NOT}\s+(?:routinely\s+)?available\s+on\s+the\s+NHS",
                                     re.I)),
    ("not_recommended", re.compile(rf"\b{_NOT}\s+(?:been\s+)?(?:recommended|accepted)"
                                   r"|\b(?:does|did)\s+not\s+recommend|\bdoesn't\s+recommend",
                                   re.I)),
    ("not_licensed", re.compile(rf"\b{_NOT}\s+(?:yet\s+)?(?:been\s+)?(?:licen[sc]ed|authori[sz]ed"
                                rf"|approved)|\bunlicen[sc]ed\b", re.I)),
    ("under_review", re.compile(r"\bunder\s+(?:review|evaluation|assessment)\b|\bbeing\s+"
                                r"(?:reviewed|assessed|evaluated)\b|\bawaiting\b", re.I)),
    ("conditional", re.compile(r"\bconditional(?:ly)?\s+(?:marketing\s+)?(?:authori[sz]|licen"
                               r"|approv)|\baccelerated\s+approval\b|\b(?:licen[cs]e|authori[sz]"
                               r"ation|approval)\s+is\s+(?:still\s+)?conditional\b", re.I)),
    ("recommended_restricted", re.compile(r"\brecommended\b.{0,80}\b(?:only\s+if|with\s+"
                                          r"restrictions?|restricted)\b|\baccepted\b.{0,40}?"
                                          r"\bfor\s+restricted\s+use\b", re.I)),
    ("recommended", re.compile(r"\b(?:is|are|was|been|has\s+been)\s+recommended\b|\baccepted\b"
                               r".{0,40}?\bfor\s+use\b|\brecommends?\b", re.I)),
    ("authorised", re.compile(r"\b(?:licen[sc]ed|authori[sz]ed|approved|full\s+(?:marketing\s+)?"
                              r"authori[sz]ation)\b", re.I)),
]  # fmt: skip
#: A claim's words only mean a status when the sentence speaks of the product.
_MONTHS = {m: i for i, m in enumerate(["january", "february", "march", "april", "may", "june",
           "july", "august", "september", "october", "november", "december"], start=1)}  # fmt: skip
_DATED = re.compile(r"\b(?:in|on|since)\s+(?:(\d{1,2})\s+)?(" + "|".join(_MONTHS) +
                    r")?\s*(\d{4})\b", re.I)  # fmt: skip
POSITIVE = {"recommended", "recommended_restricted", "accepted", "cancer_drugs_fund", "interim"}


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
    dated: tuple[int, int | None] | None = None  # (year, month) the sentence gives


@dataclass
class Found:
    """What a document says and what changed since it was written."""

    verdicts: list[Verdict] = field(default_factory=list)
    unmentioned: list[EventRow] = field(default_factory=list)
    #: When the document was written, as judged (given, or the date it states).
    written: dt.date | None = None


_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")


def products_in(text: str, names: Mapping[str, str]) -> set[str]:
    """The products a text names by any alias (runs of up to four words, matched as the
    store matches names: case, accents, marks and punctuation aside)."""
    from .names import normalise

    words = _WORD.findall(text)
    found = set()
    for size in range(1, 5):
        for start in range(len(words) - size + 1):
            norm = normalise(" ".join(words[start : start + size]))
            if norm in names:
                found.add(names[norm])
    return found


def claims_in(sentence: str) -> list[tuple[str, str]]:
    """(body, claim) pairs one sentence states: every body it names, the first claim that
    fits ("not appraised by NICE or the SMC" is one claim about two bodies)."""
    bodies = [b for b, pattern in BODIES.items() if pattern.search(sentence)]
    if not bodies:
        return []
    # The claim the sentence makes first; at one place, the more specific pattern.
    found = [
        (match.start(), rank, name)
        for rank, (name, pattern) in enumerate(CLAIMS)
        if (match := pattern.search(sentence))
    ]
    if not found:
        return []
    claim = min(found)[2]
    out = []
    for body in bodies:
        kind = claim
        if body in HTA and claim == "not_licensed":
            kind = "not_recommended"  # "not approved by NICE": not recommended
        if body in HTA and claim == "authorised":
            kind = "recommended"  # "approved by NICE": recommended
        if body in REGULATORS and claim in ("not_appraised", "not_recommended"):
            continue
        out.append((body, kind))
    return out


#: A sentence in the present tense states a status now, whatever dates it also gives.
_PRESENT = re.compile(r"\b(?:is|are|remains?|has\s+(?:a|an|not)|currently|still|now)\b", re.I)


def dated(sentence: str) -> tuple[int, int | None] | None:
    """The (year, month) a dated historical claim gives: "In December 2020 the FDA
    approved…"; None for a sentence that (also) states a status in the present tense."""
    if _PRESENT.search(sentence):
        return None
    match = _DATED.search(sentence)
    if not match:
        return None
    month = _MONTHS.get((match[2] or "").lower())
    return int(match[3]), month


def judge(
    sentences: Iterable[str],
    events: Sequence[EventRow],
    product_names: Mapping[str, str],
    *,
    written: dt.date | None = None,
) -> Found:
    """Each claim against the events of the products it speaks of. `product_names`: a
    normalised alias -> the product's name, for the products the document is about."""
    found = Found(written=written)
    for sentence in sentences:
        named = sorted(products_in(sentence, product_names))
        if not named and len(set(product_names.values())) == 1:
            named = list(set(product_names.values()))  # a leaflet about one medicine
        if not named:
            continue
        for agency, claim in claims_in(sentence):
            mine = [e for e in events if e.product in named and e.agency == agency]
            verdict = _verdict(claim, mine, dated(sentence), written)
            verdict.sentence, verdict.products, verdict.agency = sentence, named, agency
            found.verdicts.append(verdict)
    if written is not None:
        mentioned = {v.event.id for v in found.verdicts if v.event is not None}
        found.unmentioned = [
            e for e in events
            if not e.backfill or e.event_date is not None
            if (e.event_date or e.detected_at.date()) > written and e.id not in mentioned
            and e.kind not in (EventKind.VARIATION, EventKind.RECORD_REMOVED)
        ]  # fmt: skip
    return found


def _day(e: EventRow) -> dt.date:
    return e.event_date or e.detected_at.date()


def _verdict(
    claim: str, rows: list[EventRow], when: tuple[int, int | None] | None, written: dt.date | None
) -> Verdict:
    v = Verdict("", [], "", claim, "unknown", dated=when)
    if not rows:
        v.reason = "regtrack has nothing from this body for this product"
        return v
    rows = sorted(rows, key=lambda e: (_day(e), e.id))
    grants = [e for e in rows if e.kind == EventKind.AUTHORISATION]
    ends = [e for e in rows if e.kind in (EventKind.WITHDRAWAL, EventKind.SUSPENSION)
            and not e.details.get("products")]  # fmt: skip
    conversions = [e for e in rows if e.kind == EventKind.CONVERSION_TO_FULL]
    decisions = [e for e in rows if e.kind == EventKind.HTA_DECISION]
    if when is not None and claim in ("authorised", "conditional", "recommended",
                                      "recommended_restricted"):  # fmt: skip
        year, month = when
        match = next((e for e in grants + conversions + decisions if e.event_date
                      and e.event_date.year == year and month in (None, e.event_date.month)),
                     None)  # fmt: skip
        if match is not None:  # a dated historical claim the ledger confirms
            return _set(v, "current", match, "the ledger has this event")

    def outdated(event: EventRow, why: str) -> Verdict:
        return _set(v, "outdated", event, why)

    if claim == "conditional":
        if conversions:
            return outdated(conversions[-1], "converted to full authorisation")
        if ends:
            return outdated(ends[-1], "the authorisation ended")
        conditional = [
            e for e in grants if e.details.get("conditional") or e.details.get("accelerated")
        ]
        return _set(v, "current", conditional[-1], "") if conditional else _unknown(v)
    if claim == "authorised":
        if ends and (not grants or _day(ends[-1]) >= _day(grants[-1])):
            return outdated(ends[-1], "the authorisation ended")
        return _set(v, "current", grants[-1], "") if grants else _unknown(v)
    if claim in ("not_licensed", "under_review"):
        decided = grants + [e for e in rows if e.kind == EventKind.REFUSAL]
        if decided:
            return outdated(decided[0], "the body decided")
        return _set(v, "current", None, "") if claim == "under_review" and rows else _unknown(v)
    # HTA claims
    if not decisions:
        pending = claim in ("not_appraised", "not_available_nhs", "not_recommended")
        return _set(v, "current", None, "no decision published yet") if pending else _unknown(v)
    latest = decisions[-1]
    outcome = str(latest.details.get("outcome"))
    positive = [d for d in decisions if str(d.details.get("outcome")) in POSITIVE]
    if claim in ("not_appraised", "not_available_nhs", "not_recommended"):
        if claim == "not_appraised":
            return outdated(decisions[0], "the body published its decision")
        if positive:
            return outdated(positive[0], "the body recommended it")
        return _set(v, "current", latest, "")
    wanted = {"recommended": {"recommended", "accepted", "cancer_drugs_fund", "interim"},
              "recommended_restricted": {"recommended_restricted"}}[claim]  # fmt: skip
    if outcome in wanted or any(str(d.details.get("outcome")) in wanted for d in positive):
        return _set(v, "current", latest, "")
    return outdated(latest, f"the latest decision: {describe(latest)}")


def _set(v: Verdict, verdict: str, event: EventRow | None, reason: str) -> Verdict:
    v.verdict, v.event, v.reason = verdict, event, reason
    if verdict == "outdated" and event is not None:
        v.since = _day(event)
    return v


def _unknown(v: Verdict) -> Verdict:
    v.reason = "the ledger has no event that bears on this claim"
    return v
