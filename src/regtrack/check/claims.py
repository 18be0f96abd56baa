"""One sentence -> the status claims it makes: which status, about which body, said as how
things are now or as history, with the date it gives. Pure; the rules are `rules`' data."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from . import general
from . import rules as r
from . import tense as t

#: Claims a more specific one in the same clause makes redundant: "licensed under conditional
#: marketing authorisation" is a claim of conditional authorisation, "revoked its conditional
#: authorisation" one of withdrawal, "received an application for conditional authorisation"
#: one of review.
_IMPLIED = {
    "authorised": {"conditional", "full", "withdrawn", "under_review", "opinion_positive",
                   "opinion_negative", "not_licensed"},
    "conditional": {"withdrawn", "under_review", "application_withdrawn"},
    "full": {"withdrawn", "under_review", "application_withdrawn"},
    "under_review": {"application_withdrawn"},
}  # fmt: skip


@dataclass(frozen=True)
class Claim:
    """One status a sentence states about one body."""

    agency: str
    claim: str
    #: Told as history ("was granted … in 2016"), not as how things are now.
    history: bool = False
    #: The (year, month) the sentence gives for it; year None for "on 11 January".
    when: tuple[int | None, int | None] | None = None


def is_claim_sentence(sentence: str) -> bool:
    """A heading, a question, a condition or a sentence about medicines in general states
    nothing about a product's status."""
    from ..documents import is_heading

    return not is_heading(sentence) and not any(
        rule.pattern.search(sentence) for rule in general.NOT_CLAIMS
    )


def claims_in(sentence: str, default_body: str | None = None) -> list[Claim]:
    """The claims of one sentence, in the order the sentence makes them. `default_body`: the
    regulator the document is about, for a sentence that names none ("Blenrep is approved as
    monotherapy…" in a press release on the European Commission's decision)."""
    if not is_claim_sentence(sentence):
        return []
    clauses = _clauses(sentence)
    bodies = _bodies(sentence)
    found: list[tuple[int, int, str]] = []
    for rule in r.CLAIMS:
        for match in rule.pattern.finditer(sentence):
            if not any(match.start() < end and start < match.end() for start, end, _ in found):
                found.append((match.start(), match.end(), rule.name))
    found.sort()
    # A sentence on whether a medicine is available in the UK ("not yet widely available in
    # the UK, because it has not been approved") speaks of NICE and the SMC, not the licence,
    # unless it names a regulator.
    availability = not r.NAMED_REGULATOR.search(sentence) and bool(
        r.NHS.search(sentence) or any(name == "not_available_nhs" for *_, name in found)
    )
    out: list[Claim] = []
    for start, end, name in found:
        clause = next(c for c in clauses if c[0] <= start < c[1])
        rivals = {n for s, _, n in found if clause[0] <= s < clause[1]}
        if rivals & _IMPLIED.get(name, set()):
            continue
        hta = availability or name == "not_available_nhs"
        for agency in _agencies(sentence, name, (start, end), bodies, default_body, hta=hta):
            claim = _for_body(name, agency)
            if claim is None:
                continue
            text = sentence[clause[0] : clause[1]]
            made = Claim(agency, claim, _history(text, start - clause[0]),
                         _when(text, start - clause[0]))  # fmt: skip
            if all((c.agency, c.claim) != (agency, claim) for c in out):
                out.append(made)
    return out


def _clauses(sentence: str) -> list[tuple[int, int]]:
    cuts = [0, *[m.end() for m in t.CLAUSES.finditer(sentence)], len(sentence)]
    return [(a, b) for a, b in itertools.pairwise(cuts) if b > a] or [(0, len(sentence))]


def _bodies(sentence: str) -> list[tuple[int, int, str]]:
    """Each body named, where: "the UK's MHRA" is one mention of the MHRA."""
    spans = [
        (m.start(), m.end(), rule.name)
        for rule in r.BODIES
        for m in rule.pattern.finditer(sentence)
        # "EC" and "US" only in capitals: "ec" and "us" are words
        if not (m.group(0).lower() in ("ec", "us", "eu") and not m.group(0).isupper())
    ]
    return sorted(spans)


def _agencies(
    sentence: str,
    claim: str,
    span: tuple[int, int],
    bodies: list[tuple[int, int, str]],
    default: str | None,
    *,
    hta: bool = False,
) -> list[str]:
    """The bodies a claim is about: the nearest named, with those joined to it by "and",
    "or" or a comma; with `hta` (the NHS's availability), the UK's are NICE and the SMC, not
    the licence."""
    if not bodies:
        if r.NHS.search(sentence) and claim in ("not_licensed", "not_available_nhs"):
            return list(r.HTA)
        return [default] if default and claim not in r.HTA_ONLY else []

    def distance(body: tuple[int, int, str]) -> int:
        # A body named just after the claim is the one it is about ("not available on the
        # NHS in England", "approved by NICE") before one named earlier in the sentence.
        return body[0] - span[1] if body[0] >= span[1] else span[0] - body[1] + 10

    nearest = min(bodies, key=distance)
    chosen = {nearest[2]}
    ordered = sorted(bodies)
    at = ordered.index(nearest)
    for step in (-1, 1):  # walk the coordination both ways: "by NICE or the SMC"
        i = at
        while 0 <= i + step < len(ordered):
            a, b = sorted((ordered[i], ordered[i + step]))
            gap = re.sub(r"\([^)]*\)", "", sentence[a[1] : b[0]])
            if len(gap) > 30 or not re.search(r"\b(?:and|or|nor)\b|[,/]|^\W*$", gap):
                break
            chosen.add(ordered[i + step][2])
            i += step
    if hta and "MHRA" in chosen:
        chosen = (chosen - {"MHRA"}) | set(r.HTA)
    return [b for b in ("EMA", "MHRA", "FDA", "NICE", "SMC") if b in chosen]


def _for_body(claim: str, agency: str) -> str | None:
    if agency in r.HTA:
        return r.FOR_HTA.get(claim, claim)
    return None if claim in r.HTA_ONLY else claim


def _history(clause: str, at: int) -> bool:
    """Told as history: past words before the claim and no present ones, or a date of its
    own with no present word ("In October 2012 the Commission granted…", "follows the CHMP's
    positive opinion in December 2022")."""
    before = clause[: at + 40]
    if t.PRESENT.pattern.search(before):
        return False
    if t.PAST.pattern.search(before):
        return True
    return any(when[0] or when[1] for _, when in _dates(clause))


def _when(clause: str, at: int) -> tuple[int | None, int | None] | None:
    """The date nearest the claim in its clause."""
    dates = _dates(clause)
    if not dates:
        return None
    return min(dates, key=lambda d: abs(d[0] - at))[1]


def _dates(text: str) -> list[tuple[int, tuple[int | None, int | None]]]:
    out: list[tuple[int, tuple[int | None, int | None]]] = []
    taken: list[tuple[int, int]] = []
    for pattern, (_, month_group, year_group) in t.DATES:
        for m in pattern.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in taken):
                continue
            year = m.group(year_group) if year_group else None
            month = t.MONTHS.get(m.group(month_group).lower().rstrip("."))
            out.append((m.start(), (int(year) if year else None, month)))
            taken.append((m.start(), m.end()))
    for m in t.YEAR.finditer(text):
        if not any(a <= m.start() < b for a, b in taken):
            out.append((m.start(), (int(m.group(1)), None)))
    return out


def examples() -> Iterable[tuple[r.Rule, str, bool]]:
    """Every rule's example sentences, with whether the rule must fire on each."""
    for group in (r.BODIES, r.CLAIMS, general.NOT_CLAIMS, (t.PRESENT, t.PAST)):
        for rule in group:
            yield from ((rule, s, True) for s in rule.fires)
            yield from ((rule, s, False) for s in rule.quiet)
