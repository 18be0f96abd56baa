"""NICE documents -> records: listing pages and search-API JSON, InDev JSON, in-development
pages, TA pages; one reader per kind of document (`kind_of` recognises a saved file). Pure.

Keyed on __NEXT_DATA__, ids, <time> and labels, never on the hashed class names that change
with every deploy. A page without its data or its labels is a ShapeError, never an event.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

from ...errors import ShapeError
from .. import pages
from . import guidance, records
from .guidance import classify

_TA_URL = re.compile(r"/guidance/((?:ta|hst)\d+)\b", re.IGNORECASE)
_DATED_ROW = re.compile(
    r"^(\d{1,2} [A-Z][a-z]+ \d{4}(?: - \d{1,2} [A-Z][a-z]+ \d{4})?)\s*\|?\s*(.+?)\s*\|?$"
)
PROJECT_LABELS = (
    "Status",
    "Process",
    "ID number",
    "Expected publication",
    "Expected publication date",
)


Read = tuple[str, list[dict[str, Any]], str | None]
LISTING, TA_PAGE, INDEV_PAGE, INDEV_JSON = (
    "nice-listing",
    "nice-ta-page",
    "nice-indev-page",
    "nice-indev-json",
)


def kind_of(content: bytes, url: str) -> str:
    """Which kind of NICE document a saved file is (for replaying it)."""
    text = pages.decode(content)
    if text.lstrip()[:1] in ("{", "["):
        return LISTING if '"documents"' in text[:100_000] else INDEV_JSON
    if not pages.is_html(text):
        return INDEV_PAGE  # an in-development page saved as text
    try:
        props = _props(pages.soup(text), url)
    except ShapeError:
        return TA_PAGE  # a page without its data: its reader says what is missing
    results = props.get("results")
    if isinstance(results, dict) and isinstance(results.get("documents"), list):
        return LISTING
    return INDEV_PAGE if next(_projects(props), None) or records.GID.search(url) else TA_PAGE


def read(content: bytes, url: str, base_url: str) -> Read:
    """A saved file read as the kind of document it is (replays, tests)."""
    readers = {LISTING: listing, TA_PAGE: ta_page, INDEV_PAGE: indev_page, INDEV_JSON: indev_json}
    return readers[kind_of(content, url)](content, url, base_url)


def page_kind(url: str) -> str:
    """The kind of page a listing's link leads to: an in-development project or a TA."""
    return INDEV_PAGE if records.GID.search(url) else TA_PAGE


def listing(content: bytes, url: str, base_url: str) -> Read:
    """(document kind, records, next page URL) of a listing: the search API's JSON, or a
    listing page's __NEXT_DATA__."""
    text = pages.decode(content)
    if text.lstrip()[:1] in ("{", "["):
        data = pages.load_json(text, "NICE JSON")
        if isinstance(data, dict) and isinstance(data.get("documents"), list):
            return "nice-search-api", *_listing(data, base_url)
        raise ShapeError("NICE listing JSON has no 'documents' list (not a search-API response)")
    results = _props(pages.soup(text), url).get("results")
    if isinstance(results, dict) and isinstance(results.get("documents"), list):
        return "nice-listing-page", *_listing(results, base_url)
    raise ShapeError(f"{url}: a NICE listing page without results.documents in its page data")


def ta_page(content: bytes, url: str, base_url: str) -> Read:
    page = pages.soup(pages.decode(content))
    _props(page, url)  # NICE's pages all carry their data: one without it changed layout
    return "nice-ta-page", [_ta_page(page, url, base_url)], None


def indev_page(content: bytes, url: str, base_url: str) -> Read:
    """An in-development page: its page data where it has some, and its labels."""
    text = pages.decode(content)
    if not pages.is_html(text):
        return "nice-indev-page-text", [_project_text(pages.lines(text), url, base_url)], None
    page = pages.soup(text)
    record = _project_text(pages.lines(page), url, base_url)
    project = next(_projects(_props(page, url)), None)
    if project is not None:
        from_data = records.project(project, base_url)
        record |= {k: v for k, v in from_data.items() if v is not None and k != "url"}
    found = guidance.from_panels(project or {}, base_url) or guidance.from_page(page, url)
    # Else its "Project documents" tab names them: read next (`documents_page`).
    tab = None if found else guidance.documents_tab(page, url, record["reference"])
    extra = {"guidance_documents": found or None, "documents_url": tab}
    return "nice-indev-page", [record | extra], None


def documents_page(content: bytes, url: str, base_url: str) -> Read:
    """A project's "Project documents" tab: the guidance documents of each stage (none yet
    is no error: an appraisal before its draft guidance has none)."""
    page = pages.soup(pages.decode(content))
    gid = records.GID.search(url)
    if gid is None:
        raise ShapeError(f"{url}: a NICE project documents page whose address names no project")
    data = page.find("script", id="__NEXT_DATA__")
    project = next(_projects(_props(page, url)), None) if data is not None else None
    # Every project has documents from its scoping on: a tab naming none changed layout.
    if not records.hal(project, "panel") and not page.find("a", href=re.compile("/documents/")):
        raise ShapeError(f"{url}: a project documents page with no documents (layout changed?)")
    found = guidance.from_panels(project or {}, base_url) or guidance.from_page(page, url)
    record = {"record": "project", "reference": gid[1].upper(), "guidance_documents": found or None}
    return guidance.DOCUMENTS, [record], None


def indev_json(content: bytes, url: str, base_url: str) -> Read:
    """The InDev API: its feed of projects, or one project."""
    data = pages.load_json(pages.decode(content), "NICE JSON")
    embedded = data.get("_embedded") if isinstance(data, dict) else None
    if isinstance(embedded, dict) and "nice.indev:indevelopment-project" in embedded:
        projects = [
            p for p in embedded["nice.indev:indevelopment-project"] if p.get("ProjectType") == "TA"
        ]
        return "nice-indev-projects", [records.project(p, base_url) for p in projects], None
    if isinstance(data, dict) and str(data.get("Reference", "")).upper().startswith("GID-"):
        found = {"guidance_documents": guidance.from_panels(data, base_url) or None}
        return "nice-indev-project", [records.project(data, base_url) | found], None
    raise ShapeError("NICE JSON is neither a search-API response nor an InDev project or feed")


def _props(page: Any, url: str) -> dict[str, Any]:
    props = (pages.next_data(page, url).get("props") or {}).get("pageProps") or {}
    return props if isinstance(props, dict) else {}


def _listing(data: dict[str, Any], base_url: str) -> tuple[list[dict[str, Any]], str | None]:
    # Documents that name no guidance at all are a renamed shape: they would otherwise all be
    # read as "not an appraisal" and the listing would pass as empty.
    keys = ("guidanceRef", "niceGuidanceType", "pathAndQuery")
    if data["documents"] and not any(
        isinstance(d, dict) and any(d.get(k) for k in keys) for d in data["documents"]
    ):
        raise ShapeError(f"NICE listing documents carry none of {', '.join(keys)} (shape changed?)")
    found = [
        records.listing_document(d, base_url) for d in data["documents"] if isinstance(d, dict)
    ]
    nxt = ((data.get("pagerLinks") or {}).get("next") or {}).get("fullUrl")
    return [r for r in found if r], urljoin(base_url, nxt) if nxt else None


def _projects(value: Any) -> Iterator[dict[str, Any]]:
    """Dicts anywhere in page props whose reference is a GID (the page data's shape is not
    documented: search for it rather than hard-code a path)."""
    if isinstance(value, dict):
        ref = value.get("reference") or value.get("Reference")
        if isinstance(ref, str) and ref.upper().startswith("GID-"):
            yield value
        for child in value.values():
            yield from _projects(child)
    elif isinstance(value, list):
        for child in value:
            yield from _projects(child)


def _project_text(rows: list[str], url: str, base_url: str) -> dict[str, Any]:
    """An in-development page read from its text: labels, schedule and timeline rows."""
    labels = pages.labelled(rows, PROJECT_LABELS)
    gid = records.GID.search(url) or next((m for r in rows if (m := records.GID.search(r))), None)
    if not gid:
        raise ShapeError(f"{url}: in-development page without a GID reference")
    if "Status" not in labels:
        raise ShapeError(f"{url}: in-development page without its 'Status' label (layout changed?)")
    timeline = [[m[1], m[2].strip(" |")[:300]] for r in rows if (m := _DATED_ROW.match(r))]
    scheduled = [[what, when] for what, when in _schedule(rows)
                 if not what.lower().startswith("expected publication")]  # fmt: skip
    expected = labels.get("Expected publication date") or labels.get("Expected publication")
    reference = gid[1].upper()
    return {
        "record": "project",
        "reference": reference,
        "title": None,
        "status": records.status_word(labels["Status"]),
        "process": labels.get("Process"),
        "id_number": labels.get("ID number"),
        "product_reference": None,
        "expected_publication": expected,
        "timeline": timeline or None,
        "schedule": scheduled or None,
        # Its own address when it names the project (a page replayed from a file is read
        # under the listing's: its link is then the project's page, not the listing).
        "url": url
        if url.startswith("http") and records.GID.search(url)
        else f"{base_url}/guidance/indevelopment/{reference.lower()}",
    }


_WHEN = r"\d{1,2} [A-Z][a-z]+ \d{4}(?: - \d{1,2} [A-Z][a-z]+ \d{4})?"
_SCHEDULED = re.compile(rf"^(?P<what>[A-Za-z][^|]*?)[\s|:]+(?P<when>{_WHEN})\s*\|?$")


def _schedule(rows: list[str]) -> list[tuple[str, str]]:
    """The 'Provisional Schedule' section's rows: "Draft guidance consultation 17 November
    2023 - 05 January 2024" on one line, or a label and its date on two."""
    starts = [i for i, r in enumerate(rows) if r.strip().lower() == "provisional schedule"]
    out: list[tuple[str, str]] = []
    label = None
    for row in rows[starts[0] + 1 : starts[0] + 30] if starts else []:
        one = _SCHEDULED.match(row)
        if one and label is None:
            out.append((one["what"].strip(), one["when"]))
        elif label is not None and re.fullmatch(_WHEN, row.strip()):
            out.append((label, row.strip()))
            label = None
        elif label is None:
            label = row.strip()
        else:
            break  # two labels running: the section has ended
    return out


def _ta_page(page: Any, url: str, base_url: str) -> dict[str, Any]:
    heading = page.find("h1")
    dates: dict[str, str] = {}
    for item in page.find_all("li"):
        time = item.find("time")
        label = item.get_text(" ", strip=True).split(":")[0].strip().lower()
        if (
            time is not None
            and time.get("datetime")
            and label in ("published", "last updated", "terminated")
        ):
            dates[label] = pages.iso_day(time["datetime"]) or str(time["datetime"])
    match = _TA_URL.search(url) or next(
        (
            m
            for li in page.find_all("li")
            if (m := re.fullmatch(r"\s*((?:TA|HST)\d+)\s*", li.get_text()))
        ),
        None,
    )
    if not match or not heading:
        raise ShapeError(f"{url}: no TA reference or no <h1> heading: not a NICE TA page")
    outcome, sentence = classify(_recommendations(page))
    if outcome is None and "terminated" in dates:
        outcome, sentence = "terminated", None
    if outcome is None:
        raise ShapeError(f"{url}: no recommendation sentence in section 1 and no 'Terminated' date")
    return {
        "record": "appraisal",
        "reference": match[1].upper(),
        "title": heading.get_text(" ", strip=True),
        "status": "Terminated" if outcome == "terminated" else "Published",
        "publication_date": dates.get("published") or dates.get("terminated"),
        "last_updated": dates.get("last updated"),
        "outcome": outcome,
        "decision": sentence,
        "url": url
        if url.startswith("http") and _TA_URL.search(url)
        else urljoin(base_url, f"/guidance/{match[1].lower()}"),
    }


def _recommendations(page: Any) -> str:
    """The text of section 1 ('1 Recommendations'), or of the whole page when not marked."""
    for heading in page.find_all(["h2", "h3"]):
        if re.match(r"^\s*1\.?\s+Recommendation", heading.get_text(" ", strip=True), re.I):
            parts = []
            for sibling in heading.find_all_next():
                if sibling.name in ("h2",) and sibling is not heading:
                    break
                if sibling.name in ("p", "li"):
                    parts.append(sibling.get_text(" ", strip=True))
            return " ".join(parts)
    return " ".join(pages.lines(page))
