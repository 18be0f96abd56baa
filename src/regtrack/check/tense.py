"""When a sentence speaks: its tense (how things are now, or what happened), the dates in
it, and where its clauses part. Rules as data, each beside its example sentences (`rules`)."""

from __future__ import annotations

import re

from .rules import rule

# -- Tense: does a sentence say how things are now, or tell what happened?
#: Now: present and present perfect, "now", "currently", "today", "since".
PRESENT = rule(
    "present",
    r"\b(?:is|are|am|has|have|remains?|does|do|now|currently|today"
    r"|still|since|continues?)\b(?!['’])",
    ("Veklury is now authorized.",),
    ("The EC's decision follows the CHMP's positive opinion in December 2022.",),
)
#: The past: past simple and perfect, and words that place it there.
PAST = rule(
    "past",
    r"\b(?:was|were|had|originally|previously|initially|formerly|at\s+the\s+"
    r"time|then)\b",
    ("Vaxzevria was originally granted a conditional authorisation.",),
)
_MONTH_NAMES = ["january", "february", "march", "april", "may", "june", "july", "august",
                "september", "october", "november", "december"]  # fmt: skip
MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, start=1)} | {
    m[:3]: i for i, m in enumerate(_MONTH_NAMES, start=1)
}
_MONTH = "(" + "|".join(MONTHS) + r")\.?"
#: Dates in a sentence, each (day, month, year) by its groups: "on 29 January 2021", "October
#: 2012", "(November 2016)", "in 2019", "on 11 January" (dated, with no year to compare).
DATES: tuple[tuple[re.Pattern[str], tuple[int | None, int, int | None]], ...] = (
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH}(?:,?\s+(\d{{4}}))?\b", re.I),
     (1, 2, 3)),
    (re.compile(rf"\b{_MONTH}\s+(\d{{1,2}}),?\s+(\d{{4}})\b", re.I), (2, 1, 3)),
    (re.compile(rf"\b{_MONTH}\s+(\d{{4}})\b", re.I), (None, 1, 2)),
)  # fmt: skip
YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")
#: Where a sentence's clauses part: a claim and its body, tense and date are read in one.
CLAUSES = re.compile(r";|:\s|\s[–—-]\s|,\s+(?:and\s+)?(?:but|while|whereas|although|however)\b")
