"""NICE records: appraisals from listings and search-API documents, projects from InDev data.

Pure. One fields dict per appraisal (keyed on its TA reference) or in-development project
(keyed on its GID reference); titles give the product ("Selinexor with dexamethasone for …").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ...model import NameKind, Observation, ProductName
from ...names import inn_and_brand
from .. import pages

TA_TYPES = {"Technology appraisal guidance", "Highly specialised technologies guidance"}
_TA_REF = re.compile(r"^(TA|HST)\d+$", re.IGNORECASE)
GID = re.compile(r"(GID-[A-Z]+\d+)", re.IGNORECASE)
_STATUS_WORDS = {
    "inprogress": "In progress",
    "impactedbycovid19": "Impacted by COVID-19",
    "topicselection": "Topic selection",
    "awaitingdevelopment": "Awaiting development",
}
_TITLE_HEAD = re.compile(r"^(.+?)\s+(?:for|in|to)\s+\w", re.IGNORECASE)
_PARTNERS = re.compile(r"\s+(?:with|and|plus|in combination with|or|then)\s+|,\s*", re.IGNORECASE)


def status_word(value: str | None) -> str | None:
    """'InProgress' -> 'In progress'; other words as NICE prints them."""
    if not value:
        return None
    return _STATUS_WORDS.get(re.sub(r"[^a-z0-9]", "", value.lower()), value.strip())


def listing_document(doc: Mapping[str, Any], base_url: str) -> dict[str, Any] | None:
    """An appraisal or TA project from a listing / search-API document; None for other guidance."""
    types = set(doc.get("niceGuidanceType") or [])
    ref = (doc.get("guidanceRef") or "").strip().upper()
    path = doc.get("pathAndQuery") or ""
    gid = GID.search(path)
    is_ta = bool(types & TA_TYPES) or bool(_TA_REF.match(ref)) or "gid-ta" in path.lower()
    if not is_ta:
        return None
    status = status_word((doc.get("guidanceStatus") or [None])[0])
    title = (doc.get("title") or "").strip()
    if _TA_REF.match(ref):
        return {
            "record": "appraisal",
            "reference": ref,
            "title": title,
            "status": status,
            "publication_date": pages.iso_day(doc.get("publicationDate")),
            "last_updated": pages.iso_day(doc.get("lastUpdated")),
            "url": f"{base_url}{path}" if path.startswith("/") else path or None,
        }
    if gid:
        return project(
            {"Reference": gid[1].upper(), "Title": title, "Status": status}, base_url, path
        )
    return None


def project(data: Mapping[str, Any], base_url: str, path: str | None = None) -> dict[str, Any]:
    """An in-development project from InDev JSON (PascalCase) or page props (camelCase)."""
    get = getter(data)
    reference = str(get("reference") or "").upper()
    schedule = hal(data, "provisional-schedule") or get("provisionalSchedule")
    timeline = hal(data, "timeline") or get("timeline")
    expected, scheduled = None, []
    for item in schedule or []:
        item_get = getter(item)
        what, when = str(item_get("column1") or "").strip(), str(item_get("column2") or "").strip()
        if "expected publication" in what.lower():
            expected = when or None
        elif what and when:
            scheduled.append([what, when])
    events = []
    for item in timeline or []:
        item_get = getter(item)
        when, what = item_get("column1"), item_get("column2")
        if when and what:
            events.append([str(when).strip(), str(what).strip()[:300]])
    return {
        "record": "project",
        "reference": reference,
        "title": (get("title") or "").strip() or None,
        "status": status_word(get("status")),
        "process": get("process"),
        "id_number": str(get("idNumber")) if get("idNumber") else None,
        "product_reference": get("productReference"),
        "expected_publication": expected or get("expectedPublicationDate"),
        "timeline": events or None,
        "schedule": scheduled or None,
        "url": f"{base_url}{path or '/guidance/indevelopment/' + reference.lower()}",
    }


def names(title: str | None) -> tuple[ProductName, ...]:
    """The technology a title names first: 'Semaglutide (Wegovy) for managing …' -> semaglutide,
    Wegovy. Combination partners are not aliases of it."""
    text = re.sub(r"\[ID\d+\]", "", title or "").strip()
    head = _TITLE_HEAD.match(text)
    first = _PARTNERS.split(head[1] if head else text)[0].strip()
    inn, brand = inn_and_brand(first)
    out = [ProductName(inn.lower(), NameKind.INN)] if inn else []
    if brand:
        out.append(ProductName(brand, NameKind.BRAND, "UK"))
    return tuple(out)


def observation(fields: dict[str, Any]) -> Observation:
    found = names(fields.get("title"))
    return Observation(
        fields["reference"], found or (ProductName(fields["reference"], NameKind.CODE),), fields
    )


def getter(data: Any) -> Any:
    lowered = {str(k).lower(): v for k, v in data.items()} if isinstance(data, Mapping) else {}
    return lambda key: lowered.get(key.lower())


def hal(node: Any, kind: str) -> list[Mapping[str, Any]]:
    """The items of one of InDev's HAL lists on a node: its '<kind>-list', then its items."""
    return [item for held in embedded(node, f"{kind}-list") for item in embedded(held, kind)]


def embedded(node: Any, kind: str) -> list[Mapping[str, Any]]:
    """node._embedded['nice.indev:<kind>'] as the API sends it (or embedded.niceIndev<Kind>,
    the camelCase copy NICE's pages carry), as a list."""
    held = node.get("_embedded") or node.get("embedded") if isinstance(node, Mapping) else None
    if not isinstance(held, Mapping):
        return []
    camel = "niceIndev" + "".join(part.capitalize() for part in kind.split("-"))
    items = held.get(f"nice.indev:{kind}") or held.get(camel)
    items = [items] if isinstance(items, Mapping) else items
    return [item for item in items or [] if isinstance(item, Mapping)]
