"""`regtrack check`: the statements a document makes about regulatory and HTA status, each
judged against the ledger. Rules you can read (`rules`, each beside its example sentences):
which sentences are claims, which status and body each states, now or as history
(`claims`); a verdict from the events stored (`verdict`). Pure: sentences and events in,
verdicts out.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..model import EventKind
from ..store import EventRow
from .claims import Claim, claims_in
from .rules import BODIES, REGULATORS
from .verdict import Verdict, day, judge_claim

__all__ = ["Claim", "Found", "Verdict", "claims_in", "judge", "products_in"]


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
    return set(_mentions(text, names))  # as subjects


#: Words before a name that make it a partner, not the subject: "in combination with
#: doxorubicin", "compared with placebo", "after bortezomib".
_PARTNER = {"with", "plus", "versus", "vs", "than", "after", "following", "alongside", "besides"}
#: A document's own metadata lines ("SOURCE: https://…") are not its title.
_META = re.compile(r"^(?:[A-Z][A-Z-]+:\s|https?://)")


def _mentions(text: str, names: Mapping[str, str]) -> Counter[str]:
    """How often the text names each product as a subject (not as a partner)."""
    from ..names import normalise

    words = _WORD.findall(text)
    found: Counter[str] = Counter()
    for size in range(1, 5):
        for start in range(len(words) - size + 1):
            norm = normalise(" ".join(words[start : start + size]))
            if norm in names and not _PARTNER & {
                w.lower() for w in words[max(0, start - 2) : start]
            }:
                found[names[norm]] += 1
    return found


def near_names(text: str, names: Mapping[str, str]) -> dict[str, str]:
    """Words of the text one letter away from a name of eight letters or more ("Remesivir"
    for remdesivir: a press release's typo), as extra names of that product."""
    from ..names import normalise

    index: dict[tuple[str, int], list[str]] = {}
    for norm in names:
        if len(norm) >= 8 and norm.isalpha():
            index.setdefault((norm[0], len(norm)), []).append(norm)
    out = {}
    for word in {normalise(w) for w in _WORD.findall(text) if len(w) >= 7}:
        if word in names or not word:
            continue
        for size in (len(word) - 1, len(word), len(word) + 1):
            for norm in index.get((word[0], size), ()):
                if _one_edit(word, norm):
                    out[word] = names[norm]
    return out


def _one_edit(a: str, b: str) -> bool:
    """One letter inserted, deleted, changed, or two side by side swapped."""
    if len(a) > len(b):
        a, b = b, a
    i = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), len(a))
    if len(a) == len(b):
        return a[i + 1 :] == b[i + 1 :] or (a[i : i + 2] == b[i : i + 2][::-1]
                                            and a[i + 2 :] == b[i + 2 :])  # fmt: skip
    return a[i:] == b[i + 1 :]


def main_products(sentences: Sequence[str], names: Mapping[str, str]) -> set[str]:
    """What the document is about: the products its title names, and those it names about
    as often as the most named (a combination partner is not its subject)."""
    body = [s for s in sentences if not _META.match(s)]
    counts = _mentions("\n".join(body), names)
    if not counts:
        return set()
    top = max(counts.values())
    title = set(_mentions(" ".join(body[:2]), names))
    return title | {p for p, n in counts.items() if n * 2 >= top and not title}


def default_body(sentences: Sequence[str]) -> str | None:
    """The regulator a document speaks of most, for its sentences that name no body."""
    counts = Counter(
        rule.name
        for sentence in sentences
        for rule in BODIES
        if rule.name in REGULATORS
        for _ in rule.pattern.finditer(sentence)
    )
    ranked = counts.most_common(2)
    if not ranked or (len(ranked) > 1 and ranked[1][1] * 2 > ranked[0][1]):
        return None
    return ranked[0][0]


def judge(
    sentences: Iterable[str],
    events: Sequence[EventRow],
    product_names: Mapping[str, str],
    *,
    written: dt.date | None = None,
) -> Found:
    """Each claim against the events of the products it speaks of. `product_names`: a
    normalised alias -> the product's name, for the products the document is about."""
    sentences = list(sentences)
    found = Found(written=written)
    main = main_products(sentences, product_names) or set(product_names.values())
    body = default_body(sentences)
    own = _own_events(events, sentences)
    for sentence in sentences:
        named = sorted(products_in(sentence, product_names) & main)
        if not named and len(main) == 1:
            named = sorted(main)  # "the drug", "it": a document about one medicine
        if not named:
            continue
        for claim in claims_in(sentence, body):
            mine = [e for e in own if e.product in named and e.agency == claim.agency]
            verdict = judge_claim(claim, mine)
            verdict.sentence, verdict.products = sentence, named
            found.verdicts.append(verdict)
    if written is not None:
        found.unmentioned = _unmentioned(own, found.verdicts, written)
    return found


def _own_events(events: Sequence[EventRow], sentences: Sequence[str]) -> list[EventRow]:
    """At each regulator, the events of the brands the document names (a substance's other
    brands and generics never speak for it); all of them where it names none of that body's."""
    from ..names import normalise

    grams = {normalise(" ".join(w[i : i + n])) for s in sentences
             for w in [_WORD.findall(s)] for n in (1, 2, 3) for i in range(len(w))}  # fmt: skip
    brands: dict[str, set[str]] = {}
    for e in events:
        if e.brand and e.agency in REGULATORS:
            brands.setdefault(e.agency, set()).add(normalise(e.brand))
    named = {agency: b & grams for agency, b in brands.items()}
    return [
        e for e in events
        if not named.get(e.agency) or (e.brand is not None and normalise(e.brand)
                                       in named[e.agency])
    ]  # fmt: skip


def _unmentioned(
    events: Sequence[EventRow], verdicts: Sequence[Verdict], written: dt.date
) -> list[EventRow]:
    """What changed after `written` that the document does not state: neither an event a
    verdict names nor one a claim of the document states itself."""
    mentioned = {v.event.id for v in verdicts if v.event is not None}
    return [
        e for e in events
        if not e.backfill or e.event_date is not None
        if day(e) > written and e.id not in mentioned
        and not any(v.states(e) for v in verdicts)
        and e.kind not in (EventKind.VARIATION, EventKind.RECORD_REMOVED)
    ]  # fmt: skip
