"""MHRA announcements from the GOV.UK Search API: press releases and news stories that say a
medicine was approved, conditionally approved, or moved to a full authorisation. Pure.

What they say is inferred from their words, so every event from here is marked inferred.
"""

from __future__ import annotations

import re
from typing import Any

from ...errors import ShapeError
from ..pages import json_list, load_json

_APPROVES = re.compile(
    r"\b(?:approves?|approved|authoris(?:es|ed)|grants?|granted)\b", re.IGNORECASE
)
_CONVERTS = re.compile(
    r"\b(?:full|standard) marketing authorisation\b|\bconverted\b|\bno longer conditional\b",
    re.IGNORECASE,
)
_CONDITIONAL = re.compile(r"\bconditional(?:ly)?\b", re.IGNORECASE)
#: 'selinexor (Nexpovio)': a medicine named with its brand, the surest subject.
_NAMED = re.compile(r"\b(?P<name>[A-Za-z][\w-]{3,})\s+\((?P<brand>[A-Z][^)]*)\)")
_AFTER_VERB = re.compile(
    r"\b(?:approves?|authoris(?:es|ed)|grants?)\s+(?P<name>[A-Za-z][\w-]+)", re.IGNORECASE
)
_BEFORE_VERB = re.compile(r"^(?P<name>[A-Z][\w-]+)\s+(?:is\s+|has been\s+)?(?:approved|authorised)")
_NOT_NAMES = {"the", "first", "new", "conditional", "marketing", "a", "an", "full", "approval",
              "procedure", "pathway", "route", "recognition", "orbis", "consortium"}  # fmt: skip
#: The route of a grant, as GOV.UK's pages name it; the first that matches. Recognition A and
#: B are the International Recognition Procedure's two timetables (60 and 110 days).
_ROUTES = (
    (re.compile(r"\brecognition (?:route |procedure )?A\b", re.I), "International Recognition A"),
    (re.compile(r"\brecognition (?:route |procedure )?B\b", re.I), "International Recognition B"),
    (re.compile(r"\binternational recognition\b|\bIRP\b", re.I), "International Recognition"),
    (re.compile(r"\bInnovative Licensing and Access Pathway\b|\bILAP\b", re.I), "ILAP"),
    (re.compile(r"\bProject Orbis\b", re.I), "Project Orbis"),
    (re.compile(r"\bAccess Consortium\b", re.I), "Access Consortium"),
    (re.compile(r"\bDecision Reliance\b|\bEC ?DRP\b", re.I), "EC Decision Reliance"),
    (re.compile(r"\bnational (?:route|procedure|assessment)\b", re.I), "national"),
)


def read(content: bytes) -> list[dict[str, Any]]:
    what = "GOV.UK Search API response"
    results = json_list(load_json(content, what), "results", what)
    # Results that lost their titles would all read as "not about an approval": a changed shape.
    if results and not any(isinstance(i, dict) and i.get("title") for i in results):
        raise ShapeError(f"{what}: results have no 'title' (shape changed?)")
    out = []
    for item in results:
        if not isinstance(item, dict) or not item.get("link"):
            raise ShapeError("GOV.UK Search API result without a link")
        text = f"{item.get('title') or ''}. {item.get('description') or ''}"
        verdict = classify(text)
        if verdict is None:
            continue  # not about an approval
        name, brand = _subject(text)
        out.append(
            {
                "record": "announcement",
                "reference": item["link"],
                "title": item.get("title"),
                "sentence": _sentence(text),
                "published": (item.get("public_timestamp") or "")[:10] or None,
                "verdict": verdict,
                "name": name,
                "brand": brand,
                "route": route(text),
            }
        )
    return out


def classify(text: str) -> str | None:
    """'conversion', 'conditional' or 'authorisation' for an approval announcement, else None."""
    if not _APPROVES.search(text):
        return None
    if _CONVERTS.search(text) and _CONDITIONAL.search(text):
        return "conversion"
    return "conditional" if _CONDITIONAL.search(text) else "authorisation"


def route(text: str) -> str | None:
    """The route a grant took, when its announcement names one; None when it does not (no
    route is assumed, national included)."""
    return next((name for pattern, name in _ROUTES if pattern.search(text)), None)


def _subject(text: str) -> tuple[str | None, str | None]:
    for named in _NAMED.finditer(text):  # not "Procedure (Recognition A)"
        if named["name"].lower() not in _NOT_NAMES:
            return named["name"].lower(), named["brand"].strip()
    before = _BEFORE_VERB.match(text)
    if before and before["name"].lower() not in _NOT_NAMES | {"mhra"}:
        return before["name"].lower(), None
    for match in _AFTER_VERB.finditer(text):
        if match["name"].lower() not in _NOT_NAMES:
            return match["name"].lower(), None
    return None, None


def _sentence(text: str) -> str:
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        if _APPROVES.search(sentence):
            return sentence.strip()
    return text.strip()
