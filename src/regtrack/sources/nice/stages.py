"""The stages of a NICE appraisal people watch, read from its project's timeline. Pure.

NICE's timeline rows name them in its own words: "Draft guidance" (or "Draft guidance: 2" for
a second round) dated by its consultation's range, "Final draft guidance" (older appraisals:
"Final appraisal document", "Final appraisal determination"; the abbreviations FDG and FAD),
sometimes after a status ("In progress. Draft guidance released"). Consultees may appeal
against final draft guidance within 15 working days of it being issued; the end of that
window is counted here over weekdays (bank holidays would move it later: it is approximate).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .. import pages

DRAFT, FINAL = "draft guidance consultation", "final draft guidance"
APPEAL_WORKING_DAYS = 15

_STATUS_PREFIX = re.compile(
    r"^(?:in progress|awaiting development|suspended|discontinued|terminated|complete)\.\s*",
    re.IGNORECASE,
)
_STAGES = (
    (FINAL, re.compile(r"^(?:final draft guidance|final (?:appraisal|evaluation) (?:document|"
                       r"determination)|FDG|FAD)\b", re.IGNORECASE)),
    (DRAFT, re.compile(r"^(?:draft guidance|draft evaluation document|(?:appraisal|evaluation) "
                       r"consultation(?: document)?)\b", re.IGNORECASE)),
)  # fmt: skip
_ROUND = re.compile(r":\s*(\d+)\b")


@dataclass(frozen=True)
class Stage:
    name: str  # DRAFT or FINAL
    day: dt.date  # the row's date, or the first day of its range
    closes: dt.date | None  # a consultation's last day; the appeal window's (approximate)
    text: str  # the timeline row as NICE wrote it
    round: int | None = None  # "Draft guidance: 2" -> 2

    @property
    def key(self) -> str:
        return f"stage {self.name} {self.day.isoformat()}"


def stages(timeline: Iterable[Sequence[str]] | None) -> list[Stage]:
    """The stages named in a project's timeline rows ([when, what]), oldest first."""
    found = []
    for when, what in timeline or []:
        text = _STATUS_PREFIX.sub("", what.strip())
        name = stage_of(text)
        first, _, last = when.partition(" - ")
        day = pages.long_date(first)
        if name is None or day is None:
            continue
        closes = pages.long_date(last) if last else None
        if name == FINAL:
            closes = working_days_after(day, APPEAL_WORKING_DAYS)
        found.append(Stage(name, day, closes, what.strip(), round_of(text)))
    return sorted(found, key=lambda s: s.day)


def scheduled(schedule: Iterable[Sequence[str]] | None) -> list[Stage]:
    """The stages a project's provisional schedule expects ("Draft guidance: 1 | 21 February
    2023 - 14 March 2023"), as stages not yet reached."""
    found = []
    for what, when in schedule or []:
        name = stage_of(what)
        first, _, last = when.partition(" - ")
        day = pages.long_date(first)
        if name is not None and day is not None:
            closes = pages.long_date(last) if last else None
            found.append(Stage(name, day, closes, f"{what.strip()} {when.strip()}", round_of(what)))
    return found


def stage_of(title: str) -> str | None:
    """The stage a title names ("Draft guidance: 2", "Final appraisal document"), or None."""
    return next((name for name, pattern in _STAGES if pattern.match(title.strip())), None)


def round_of(title: str | None) -> int | None:
    """The round a stage's title numbers: "Draft guidance: 2" -> 2."""
    numbered = _ROUND.search((title or "")[:30])
    return int(numbered[1]) if numbered else None


def working_days_after(day: dt.date, count: int) -> dt.date:
    """The `count`th weekday after `day`."""
    while count:
        day += dt.timedelta(days=1)
        count -= day.weekday() < 5
    return day
