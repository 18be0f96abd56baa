"""The guidance documents of an appraisal in development, read for what they recommend. Pure.

NICE puts each stage's document on the project: the draft guidance put to consultation
("Appraisal consultation document (PDF version)", "Draft guidance") and the final draft
guidance ("Final draft guidance", older: "Final appraisal document"), each in a panel named
by its stage ("Draft guidance: 2" for a second round). The InDev API lists them as panels of
resources; a project's documents page as links under the stage's heading. Each document's
section 1 ("1 Recommendations") says what the committee recommends, in the words a published
TA uses (`classify`). A draft "not recommended" that a later stage recommends, or
the other way round, is a reversal (see `rules`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

from ...errors import ShapeError
from .. import pages
from . import records
from .stages import stage_of

KIND = "nice-guidance-document"
DOCUMENTS = "nice-indev-documents"
#: A resource that is the stage's guidance itself, not its papers, slides or forms.
_GUIDANCE = re.compile(
    r"\b(?:(?:appraisal|evaluation) consultation document|draft guidance|final draft guidance"
    r"|final (?:appraisal|evaluation) (?:document|determination)|evaluation document)\b",
    re.IGNORECASE,
)
_NOT_GUIDANCE = re.compile(
    r"committee papers|slides|online commenting|comments|response|equality|scope|stakeholder"
    r"|notice|\.docx?\b",
    re.IGNORECASE,
)
_HEADINGS = ("h2", "h3", "h4")
#: Section 1's heading: "1 Recommendations", older "1 Appraisal committee's preliminary
#: recommendations", "1 Guidance"; then section 2's ("2 Information about …") ends it.
_SECTION_1 = re.compile(r"^\s*1\.?\s+(?:[A-Za-z' ]*recommendations|guidance)\s*$", re.I | re.M)
_SECTION_2 = re.compile(r"^\s*2\.?\s+[A-Z][a-z]", re.M)
_FIRST_PAGES = 8
_POSITIVE = frozenset({"recommended", "recommended_restricted", "cancer_drugs_fund"})


def is_guidance(title: str, mime: str | None = "application/pdf") -> bool:
    """Whether a resource is a stage's guidance document (a PDF), not its papers."""
    return (
        bool(_GUIDANCE.search(title))
        and not _NOT_GUIDANCE.search(title)
        and (mime or "").lower() == "application/pdf"
    )


def from_panels(project: Mapping[str, Any], base_url: str) -> list[list[str | None]]:
    """[panel title, URL, published day] of each guidance document a project's panels list
    (the InDev API's PascalCase HAL, or the camelCase copy NICE's pages carry), oldest first."""
    found = []
    for panel in records.hal(project, "panel"):
        get = records.getter(panel)
        title = str(get("title") or "").strip()
        if stage_of(title) is None or str(get("panelType") or "History") != "History":
            continue
        for resource in records.hal(panel, "resource"):
            res = records.getter(resource)
            file = records.getter(next(iter(records.embedded(resource, "file")), {}))
            links = file("_links") or file("links") or {}
            href = next((ln.get("href") for ln in records.getter(links)("self") or []
                         if isinstance(ln, Mapping) and ln.get("href")), None)  # fmt: skip
            if href and is_guidance(str(res("title") or ""), file("mimeType")):
                day = pages.iso_day(str(res("publishedDate") or "")[:10])
                found.append([title, urljoin(base_url + "/", href.lstrip("/")), day])
    return sorted(found, key=lambda d: (d[2] or "", str(d[1])))


def from_page(page: Any, url: str) -> list[list[str | None]]:
    """[panel title, URL, None] of each guidance document a project's page links to, under
    the heading of its stage (the documents page: "Draft guidance" then its PDFs)."""
    found = []
    for anchor in page.find_all("a", href=True):
        text, href = anchor.get_text(" ", strip=True), str(anchor["href"])
        # A document's own address (/documents/129), not its notice page (html-content-2).
        if "/documents/" not in href or "html-content" in href or not is_guidance(text):
            continue
        heading = anchor.find_previous(_HEADINGS)
        title = heading.get_text(" ", strip=True) if heading is not None else text
        found.append([title if stage_of(title) else text, urljoin(url, anchor["href"]), None])
    return found


def documents_tab(page: Any, url: str, reference: str) -> str | None:
    """The address of a project page's "Project documents" tab (…/gid-ta11401/documents)."""
    tail = f"/{reference.lower()}/documents"
    for anchor in page.find_all("a", href=True):
        href = str(anchor["href"]).split("?")[0].rstrip("/")
        if href.lower().endswith(tail):
            return urljoin(url, href)
    return None


def read(content: bytes, url: str, base_url: str, name: str | None = None) -> dict[str, Any]:
    """A guidance document -> the project's record of it: {"reference", "guidance": {url:
    {stage, outcome, decision}}}. The project is the GID in its address, or in a replayed
    file's name (gid-ta11401_draft-guidance.pdf, stored under the project's documents)."""
    gid = records.GID.search(url)
    if gid is None and (gid := records.GID.search(name or "")):
        url = f"{base_url}/guidance/{gid[1].upper()}/documents/{name}"
    if gid is None:
        raise ShapeError(f"{url}: a NICE guidance document whose address names no project (GID)")
    text = _text(content, url)
    start = _SECTION_1.search(text)
    if start is None:
        raise ShapeError(
            f"{url}: no section '1 Recommendations' in its first pages (not guidance?)"
        )
    end = _SECTION_2.search(text, start.end())
    section = " ".join(text[start.end() : end.start() if end else start.end() + 6000].split())
    outcome, sentence = classify(section)
    if outcome is None:
        raise ShapeError(f"{url}: section 1 holds no recommendation sentence")
    stage = next((s for line in text[: start.start()].splitlines() if (s := stage_of(line))), None)
    reference = gid[1].upper()
    entry = {"stage": stage, "outcome": outcome, "decision": sentence}
    return {"record": "project", "reference": reference, "guidance": {url: entry}}


_SENTENCE = re.compile(r"(?<=[.;])\s+(?=(?:\d+\.\d+\s+)?[A-Z])")


def classify(text: str) -> tuple[str | None, str | None]:
    """NICE's decision in its own words -> outcome, with the decisive sentence as evidence."""
    for sentence in _SENTENCE.split(text):
        low = sentence.lower()
        if "unable to make a recommendation" in low or "cannot make a recommendation" in low:
            return "terminated", sentence.strip()
        if "minded not to recommend" in low:  # an older draft's words
            return "not_recommended", sentence.strip()
        if "minded to recommend" in low:
            low = low.replace("minded to recommend", "is recommended")
        if "recommended" not in low:
            continue
        if "cancer drugs fund" in low:
            return "cancer_drugs_fund", sentence.strip()
        if "not recommended" in low:
            return "not_recommended", sentence.strip()
        if "research" in low and "only" in low:
            return "research_only", sentence.strip()
        if re.search(r"\b(?:is|are) recommended\b", low):
            restricted = " only if" in low or "only for" in low or "only in" in low
            return ("recommended_restricted" if restricted else "recommended"), sentence.strip()
    return None, None


def reversal(before: str | None, after: str | None) -> bool:
    """Whether a later stage turns a "not recommended" into a recommendation, or back."""
    if before is None or after is None:
        return False
    return (before in _POSITIVE) != (after in _POSITIVE) and "not_recommended" in (before, after)


def _text(content: bytes, url: str) -> str:
    import pdfplumber

    if not content.lstrip()[:5].startswith(b"%PDF"):
        raise ShapeError(f"{url}: a NICE guidance document that is not a PDF")
    try:
        with pdfplumber.open(io.BytesIO(content)) as pdf:
            return "\n".join(p.extract_text() or "" for p in pdf.pages[:_FIRST_PAGES])
    except Exception as err:  # pdfminer raises many kinds on a damaged file
        raise ShapeError(f"{url}: NICE guidance PDF cannot be read: {err!r}") from err
