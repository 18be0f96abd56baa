"""FDA events: every approved or tentatively approved submission, and discontinuations.

Pure functions of FDA observations (see `shape`). One event per submission whatever feed saw
it: the discriminator is the submission ('ORIG-1', 'SUPPL-12').
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any

from ...model import PARTIAL, DateKind, EventDraft, EventKind, Observation, ParseResult
from . import accelerated

ACCELERATED = 3  # Efficacy-Accelerated Approval
CONFIRMATORY = 4  # Efficacy-Accelerated Approval Confirmatory Study
NEW_USE = {ACCELERATED, 8, 9}  # accelerated new indication, New Indication, New Patient Population
DISCONTINUED = "Discontinued"


def history(obs: Observation, result: ParseResult) -> list[EventDraft]:
    if "accelerated" in obs.fields:
        return accelerated.history(obs)
    events = [
        e
        for key, sub in obs.fields["submissions"].items()
        for e in submission(obs, key, sub, result)
    ]
    products = obs.fields["products"].values()
    if products and all(p.get("status") == DISCONTINUED for p in products):
        events.append(_discontinued(obs, result, "discontinued", list(obs.fields["products"])))
    return events


def changes(before: Mapping[str, Any], obs: Observation, result: ParseResult) -> list[EventDraft]:
    if "accelerated" in obs.fields:
        return accelerated.changes(before, obs)
    events = []
    known = before.get("submissions") or {}
    for key, sub in obs.fields["submissions"].items():
        old = known.get(key)
        newly_typed = old is not None and old.get("action_types") is None and sub["action_types"]
        if old is None or old.get("status") != sub["status"] or newly_typed:
            events += submission(obs, key, sub, result)
    old_products = before.get("products") or {}
    for number, item in obs.fields["products"].items():
        was = (old_products.get(number) or {}).get("status")
        if item.get("status") == DISCONTINUED and was not in (None, DISCONTINUED):
            events.append(_discontinued(obs, result, f"discontinued {number}", [number]))
    return events


def merge(before: Mapping[str, Any], obs: Observation) -> Observation:
    """Union of what was known and what a feed says now: a submission or product one feed has
    not caught up with is kept, and action types only the data files give are not lost."""
    if "accelerated" in obs.fields:
        return obs  # a row of CDER's list says all there is of its indication
    fields = dict(obs.fields)
    for part in ("submissions", "products"):
        merged = {key: dict(value) for key, value in (before.get(part) or {}).items()}
        for key, value in obs.fields[part].items():
            old = merged.get(key, {})
            merged[key] = {k: v if v is not None else old.get(k) for k, v in value.items()}
        fields[part] = merged
    for key in ("appl_type", "sponsor"):
        fields[key] = fields.get(key) or before.get(key)
    if fields["appl_type"] and not obs.fields.get("appl_type"):
        fields["reference"] = f"{fields['appl_type']}{fields['appl_no']}"
    if not (before.get(PARTIAL) and obs.fields.get(PARTIAL)):
        fields.pop(PARTIAL, None)
    return Observation(obs.reference, obs.names, fields)


def submission(
    obs: Observation, key: str, sub: Mapping[str, Any], result: ParseResult
) -> list[EventDraft]:
    status, types = sub.get("status"), sub.get("action_types")
    kind_of_submission = key.split("-", 1)[0]
    # The application type is the reference's prefix (NDA212306): not repeated here.
    details: dict[str, Any] = {
        "submission": key,
        "class": sub["class"],
        "priority": sub["priority"],
    }
    if status == "TA":
        kind, discriminator = EventKind.TENTATIVE_APPROVAL, f"{key} TA"
    elif status != "AP":
        return []
    elif kind_of_submission == "ORIG":
        kind, discriminator = EventKind.AUTHORISATION, key
        # Only the data files since 2025 say whether an approval was accelerated.
        details["accelerated"] = None if types is None else ACCELERATED in types
    elif types and CONFIRMATORY in types:
        # Keyed as CDER's accelerated-approvals list keys the same switch, by its day: one
        # event from both, with the evidence of each (`accelerated`).
        kind = EventKind.CONVERSION_TO_FULL
        discriminator = f"{kind.value} {sub.get('date') or key}"
        details["accelerated"] = False
    elif types and NEW_USE & set(types):
        kind, discriminator = EventKind.INDICATION_EXTENSION, key
        details["accelerated"] = ACCELERATED in types
    else:
        kind, discriminator = EventKind.VARIATION, key
    if types is not None:
        details["action_types"] = types
    date = sub.get("date")
    return [
        EventDraft(
            kind=kind,
            reference=obs.fields["reference"],
            names=obs.names,
            event_date=dt.date.fromisoformat(date) if date else None,
            date_kind=DateKind.DECISION if date else DateKind.DETECTED,
            evidence=_evidence(obs, key, sub, result),
            details=details if date else {**details, "date_missing": True},
            discriminator=discriminator,
            record=obs.reference,
        )
    ]


def _discontinued(
    obs: Observation, result: ParseResult, discriminator: str, products: list[str]
) -> EventDraft:
    names = sorted({obs.fields["products"][n].get("name") or n for n in products})
    return EventDraft(
        kind=EventKind.WITHDRAWAL,
        reference=obs.fields["reference"],
        names=obs.names,
        event_date=None,
        date_kind=DateKind.DETECTED,
        evidence=f"{_origin(result)}: {obs.fields['reference']} product(s) {', '.join(products)}"
        f" ({', '.join(names)}): marketing status {DISCONTINUED}",
        details={"reason": "discontinued", "products": products, "date_missing": True},
        discriminator=discriminator,
        record=obs.reference,
    )


def _evidence(obs: Observation, key: str, sub: Mapping[str, Any], result: ParseResult) -> str:
    parts = [f"status {sub.get('status')} on {sub.get('date') or '(no date)'}"]
    if sub.get("class"):
        parts.append(f"class {sub['class']} ({sub.get('class_description') or ''})")
    if sub.get("priority"):
        parts.append(f"review priority {sub['priority']}")
    if sub.get("actions"):
        parts.append(f"action types: {'; '.join(sub['actions'])}")
    return f"{_origin(result)}: {obs.fields['reference']} {key}: " + "; ".join(parts)


def _origin(result: ParseResult) -> str:
    return _origin_of(result.generated_at, result.document_kind)


@functools.lru_cache(maxsize=8)
def _origin_of(generated_at: dt.datetime | None, document_kind: str) -> str:
    """Formatted once per document, not once per submission (165,000 in a release)."""
    when = f"{generated_at:%Y-%m-%d}" if generated_at else "undated"
    if document_kind == "fda-datafiles-zip":
        return f"Drugs@FDA data files (release of {when})"
    return f"openFDA drugsfda (data of {when})"
