"""SMC's monthly decisions release ("Media release: SMC decisions April 2026", published by
Healthcare Improvement Scotland): one page a month naming each medicine and its decision.
Pure; read as text, like SMC's advice pages.

It names no SMC ID: each medicine it names is a record of that release, keyed "SMC decisions
<YYYY-MM>: <inn>", and an `hta_announced` event (the decision as announced, dated the day the
release says it was published). The advice page is the record of the decision itself (its
SMC ID, its restriction): the two are kept apart, so the status per body is the advice's.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Any

from ...errors import ShapeError
from .. import pages

KIND = "smc-decisions-release"
_TITLE = re.compile(r"SMC decisions\s+([A-Z][a-z]+ \d{4})", re.IGNORECASE)
#: "has today (Monday, April 13) published advice on six medicines"
_PUBLISHED = re.compile(r"\((?:[A-Z][a-z]+day),?\s+([A-Z][a-z]+)\s+(\d{1,2})\)")
#: "Osimertinib (Tagrisso®) was accepted …", "Pembrolizumab (Keytruda®) with
#: chemoradiotherapy was accepted …", "Dostarlimab (Jemperli®) was not recommended, …"
_NAMED = re.compile(
    r"^(?P<inn>[A-Z][A-Za-z-]+(?: [a-z][a-z-]+)?)\s+\((?P<brand>[^()]{2,40}?)\)"
    r"(?P<rest>[^.]{0,200}?)\s+(?:was|were|has been|have been)\s+"
    r"(?P<verdict>not recommended|accepted for restricted use|accepted on an interim basis"
    r"|accepted for use on an interim basis|accepted)\b"
)
OUTCOMES = {
    "not recommended": "not_recommended",
    "accepted for restricted use": "recommended_restricted",
    "accepted on an interim basis": "interim",
    "accepted for use on an interim basis": "interim",
    "accepted": "accepted",
}


def release_url(template: str, day: dt.date) -> str:
    """The release of `day`'s month: {month} (april) and {year} filled in."""
    return template.format(month=calendar.month_name[day.month].lower(), year=day.year)


def is_release(content: bytes) -> bool:
    """Whether a saved page is a decisions release (its title), for replaying it."""
    return _TITLE.search(pages.decode(content[:50_000])) is not None


def read(content: bytes, url: str) -> tuple[dt.date | None, list[dict[str, Any]]]:
    """The day the release was published and the medicines it names, each with its decision."""
    text = pages.decode(content)
    rows = pages.lines(pages.soup(text) if pages.is_html(text) else text)
    whole = "\n".join(rows)
    title = _TITLE.search(whole)
    month = pages.month_year(title[1].title()) if title else None
    if title is None or month is None:
        raise ShapeError(f"{url}: no 'SMC decisions <month> <year>' title (not the release?)")
    said = _PUBLISHED.search(whole)
    published = None
    if said is not None and said[1].lower() == calendar.month_name[month.month].lower():
        published = pages.long_date(f"{said[2]} {said[1]} {month.year}")
    found = []
    for row in rows:
        named = _NAMED.match(row)
        if named is None:
            continue
        brand = named["brand"].replace("®", "").replace("™", "").strip()
        inn = named["inn"].lower()
        found.append({
            "record": "release", "reference": f"SMC decisions {month:%Y-%m}: {inn}",
            "medicine": f"{inn} ({brand})", "inn": inn, "brand": brand,
            "outcome": OUTCOMES[named["verdict"].lower()], "sentence": row[:500],
            "published": published.isoformat() if published else None,
            "release": title[0], "url": url,
        })  # fmt: skip
    if not found:
        raise ShapeError(
            f"{url}: a decisions release naming no medicine as 'Name (Brand) was accepted / "
            "not recommended' (layout changed?)"
        )
    return published, found
