"""SMC documents -> advice records: advice pages, the listing JSON, the HTML listing.

Pure. SMC's HTML is unverified, so pages are read as text: the decision sentence ending
"within NHSScotland", its qualifier, and the "Medicine details" labels. A page with neither a
decision nor a publication due date is a ShapeError, never an event.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urljoin

from ...errors import ShapeError
from .. import pages

_ID = re.compile(r"\b(SMC\s?\d{3,5}|\d{1,4}/\d{2})\b", re.IGNORECASE)
_URL_ID = re.compile(r"-smc(\d{3,5})/?", re.IGNORECASE)
_DECISION = re.compile(
    r"(?P<subject>[^\n.]*?)\s+(?:is|are)\s+(?P<verdict>accepted for use on an interim basis[^\n]*?"
    r"|accepted on an interim basis[^\n]*?|accepted for restricted use|accepted for use"
    r"|not recommended for use|available (?:for use|to prescribers))"
    r"\s+(?:with)?in NHS\s?Scotland",
    re.IGNORECASE,
)
_QUALIFIERS = (
    ("in the absence of a submission", "non_submission"),
    ("reassessment", "ultra_orphan_reassessment"),
    ("ultra-orphan", "ultra_orphan_initial"),
    ("following a resubmission", "resubmission"),
    ("following an abbreviated submission", "abbreviated"),
    ("following a full submission", "full"),
    ("following an independent review panel", "independent_review_panel"),
)
_LISTING_ROW = re.compile(
    r"^(?P<id>SMC\d{3,5}|\d{1,4}/\d{2})\s+(?P<date>\d{2}/\d{2}/\d{4})\s+"
    r"(?P<medicine>[^()]+\([^()]*\))"
    r"(?:\s+(?P<type>Full|Abbreviated|Resubmission|Non submission|Independent Review Panel))?"
    r"(?:\s+(?P<indication>.+))?$"
)
LABELS = (
    "Medicine name",
    "SMC ID",
    "Indication",
    "Pharmaceutical company",
    "Submission type",
    "Status",
    "Date advice published",
    "Publication due date",
    "SMC meeting date",
)


def smc_id(value: str) -> str:
    """'SMC 2144', 'smc2144' -> 'SMC2144'; old style '1227/17' as it is."""
    value = value.strip()
    return re.sub(r"\s+", "", value).upper() if value.upper().startswith("SMC") else value


LISTING, ADVICE = "smc-listing", "smc-advice-page"


def kind_of(content: bytes) -> str:
    """Which kind of SMC document a saved file is (for replaying it)."""
    text = pages.decode(content)
    if text.lstrip()[:1] in ("{", "["):
        return LISTING
    rows = pages.lines(pages.soup(text) if pages.is_html(text) else text)
    if any(_LISTING_ROW.match(r) for r in rows[:80]) and not _DECISION.search(" ".join(rows)):
        return LISTING
    return ADVICE


def listing(
    content: bytes, url: str, base_url: str
) -> tuple[str, list[dict[str, Any]], str | None]:
    """(document kind, records, next listing page): the listing's JSON, or its HTML rows."""
    text = pages.decode(content)
    if text.lstrip()[:1] in ("{", "["):
        return _listing_json(text, url, base_url)
    page = pages.soup(text) if pages.is_html(text) else None
    rows = pages.lines(page if page is not None else text)
    found = _listing_rows(page, rows, base_url)
    if not found:
        raise ShapeError(f"{url}: an SMC listing with no rows 'SMC ID, date, medicine (brand)'")
    return "smc-listing-page", found, None


def read(content: bytes, url: str, base_url: str) -> tuple[str, list[dict[str, Any]], str | None]:
    """A saved file read as the kind of document it is (replays, tests)."""
    if kind_of(content) == LISTING:
        return listing(content, url, base_url)
    return ADVICE, [advice_page(content, url)], None


def advice_page(content: bytes, url: str) -> dict[str, Any]:
    text = pages.decode(content)
    return advice(pages.lines(pages.soup(text) if pages.is_html(text) else text), url)


def advice(rows: list[str], url: str) -> dict[str, Any]:
    labels = pages.labelled(rows, LABELS)
    found = labels.get("SMC ID") or (f"SMC{m[1]}" if (m := _URL_ID.search(url)) else None)
    if not found:
        raise ShapeError(f"{url}: no SMC ID (label 'SMC ID' or an smcNNNN address)")
    text = "\n".join(rows)
    decision = _DECISION.search(text)
    due = labels.get("Publication due date")
    if decision is None and not due:
        raise ShapeError(
            f"{url}: neither a decision sentence ending 'within NHSScotland' nor a "
            "'Publication due date' (layout changed?)"
        )
    # The words before the verdict, on its own line too ("ADVICE: following a full …").
    qualifier_text = (
        text[max(0, decision.start() - 400) : decision.start("verdict")] if decision else ""
    )
    qualifier = next((q for words, q in _QUALIFIERS if words in qualifier_text.lower()), None)
    restriction = re.search(r"SMC restriction:?\s*(.+)", text)
    name = labels.get("Medicine name") or (decision["subject"].strip() if decision else None)
    return {
        "reference": smc_id(found),
        "medicine": name,
        "outcome": _outcome(decision["verdict"]) if decision else None,
        "decision": decision[0].strip() if decision else None,
        "qualifier": qualifier,
        "restriction": restriction[1].strip() if restriction else None,
        "indication": labels.get("Indication"),
        "company": labels.get("Pharmaceutical company"),
        "submission_type": labels.get("Submission type"),
        "published": (
            d.isoformat() if (d := pages.long_date(labels.get("Date advice published"))) else None
        ),
        "due": due if not decision else None,
        "url": url,
    }


def _outcome(verdict: str) -> str:
    low = verdict.lower()
    if "interim" in low:
        return "interim"
    if low.startswith("available"):  # an ultra-orphan medicine's initial assessment
        return "available_pending_reassessment"
    if "restricted" in low:
        return "recommended_restricted"
    return "not_recommended" if low.startswith("not") else "accepted"


def _listing_json(
    text: str, url: str, base_url: str
) -> tuple[str, list[dict[str, Any]], str | None]:
    data = pages.load_json(text, "SMC listing JSON")
    results = pages.json_list(data, "SearchResults", "SMC listing JSON")
    if results and not any(isinstance(i, dict) and i.get("Heading") for i in results):
        raise ShapeError("SMC listing JSON items have no 'Heading' (shape changed?)")
    records = []
    for item in results:
        link = urljoin(base_url, ((item.get("Link") or {}).get("Url") or ""))
        found = _URL_ID.search(link)
        ident = f"SMC{found[1]}" if found else str(item.get("DrugId") or "")
        if not ident:
            raise ShapeError(f"SMC listing item without an SMC ID: {item.get('Heading')!r}")
        published = pages.long_date(item.get("PublishedDateText")) or _slash_date(
            item.get("PublishedDateText")
        )
        records.append(
            {
                "reference": smc_id(ident),
                "medicine": (item.get("Heading") or "").strip() or None,
                "indication": item.get("Indication"),
                "submission_type": item.get("SubmissionType"),
                "published": published.isoformat() if published else None,
                "due": item.get("AdviceDueDateText") or None if not published else None,
                "url": link or None,
            }
        )
    page = _page_number(url)
    pages_total = data.get("PageCount")
    more = isinstance(pages_total, int) and page is not None and page < pages_total
    return "smc-listing-json", records, _with_page(url, page + 1) if more and page else None


def _listing_rows(page: Any, rows: list[str], base_url: str) -> list[dict[str, Any]]:
    """Listing rows read as text; their links from the parsed page, when it is HTML."""
    links = {}
    if page is not None:
        for anchor in page.find_all("a", href=True):
            if m := _URL_ID.search(anchor["href"]):
                links[f"SMC{m[1]}"] = urljoin(base_url, anchor["href"])
    records = []
    for row in rows:
        if (m := _LISTING_ROW.match(row)) is None:
            continue
        ident = smc_id(m["id"])
        day = _slash_date(m["date"])
        records.append(
            {
                "reference": ident,
                "medicine": m["medicine"].strip(),
                "submission_type": m["type"],
                "indication": m["indication"],
                "published": day.isoformat() if day else None,
                "due": None,
                "url": links.get(ident),
            }
        )
    return records


def _slash_date(value: str | None) -> dt.date | None:
    """A listing's '07/10/2024', where the text may also be written out (then not this)."""
    return pages.day(value, "%d/%m/%Y", what="SMC listing date", optional=True)


def _page_number(url: str) -> int | None:
    found = re.search(r"current-page-0=(\d+)", url)
    return int(found[1]) if found else None


def _with_page(url: str, page: int) -> str:
    return re.sub(r"current-page-0=\d+", f"current-page-0={page}", url)
