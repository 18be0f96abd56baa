"""SMC events: HTA decisions on advice, and expected publication of advice in progress.

Pure functions of SMC records (see `documents`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ...model import (
    DateKind,
    EventDraft,
    EventKind,
    NameKind,
    Observation,
    ParseResult,
    ProductName,
)
from ...names import inn_and_brand
from .. import pages


def names(medicine: str | None) -> tuple[ProductName, ...]:
    """'pembrolizumab (Keytruda®)' -> pembrolizumab, Keytruda (UK)."""
    inn, brand = inn_and_brand(medicine or "")
    out = [ProductName(inn, NameKind.INN)] if inn else []
    if brand:
        out.append(ProductName(brand, NameKind.BRAND, "UK"))
    return tuple(out)


def history(obs: Observation, result: ParseResult) -> list[EventDraft]:
    f = obs.fields
    if f.get("record") == "release":
        return [_announced(obs)]
    events = []
    if f.get("published") or f.get("outcome"):
        events.append(_decision(obs))
    if f.get("due"):
        events.append(_expected(obs))
    return events


def changes(before: Mapping[str, Any], obs: Observation, result: ParseResult) -> list[EventDraft]:
    f = obs.fields
    if f.get("record") == "release":
        return []  # a release read again says nothing new
    events = []
    decided = f.get("outcome") != before.get("outcome") and f.get("outcome")
    if decided or (f.get("published") and not before.get("published")):
        events.append(_decision(obs))
    if f.get("due") and f.get("due") != before.get("due"):
        events.append(_expected(obs))
    return events


def merge(before: Mapping[str, Any], obs: Observation) -> Observation:
    """A listing says less than the advice page: what it leaves out is kept."""
    fields = {**before, **{k: v for k, v in obs.fields.items() if v is not None}}
    if fields.get("published"):
        fields["due"] = None
    return Observation(obs.reference, obs.names, fields)


def _decision(obs: Observation) -> EventDraft:
    f = obs.fields
    details = {
        "outcome": f.get("outcome"),
        "qualifier": f.get("qualifier"),
        "submission_type": f.get("submission_type"),
        "restriction": f.get("restriction"),
        "indication": f.get("indication"),
    }
    evidence = f.get("decision") or f"SMC {f['reference']}: {f.get('medicine')} advice published"
    if f.get("restriction"):
        evidence += f" SMC restriction: {f['restriction']}"
    day = f.get("published")
    return EventDraft(
        kind=EventKind.HTA_DECISION,
        reference=f["reference"],
        names=obs.names,
        event_date=dt.date.fromisoformat(day) if day else None,
        date_kind=DateKind.PUBLICATION if day else DateKind.DETECTED,
        evidence=evidence,
        details=details if day else {**details, "date_missing": True},
        published_at=dt.date.fromisoformat(day) if day else None,
    )


def _expected(obs: Observation) -> EventDraft:
    f = obs.fields
    day = pages.quarter(f["due"]) or pages.long_date(f["due"])
    return EventDraft(
        kind=EventKind.EXPECTED_DATE,
        reference=f["reference"],
        names=obs.names,
        event_date=day,
        date_kind=DateKind.PUBLICATION if day else DateKind.DETECTED,
        evidence=f"SMC {f['reference']}: {f.get('medicine')}, publication due date {f['due']}",
        details={"text": f["due"], "submission_type": f.get("submission_type")},
        # A quarter is dated by its first day, so the date is approximate.
        date_approximate=day is not None and pages.quarter(f["due"]) is not None,
        discriminator=f"expected {f['due']}",
    )


def _announced(obs: Observation) -> EventDraft:
    """A decision as the month's release announces it: news of the day; the advice page that
    follows is the record (SMC ID, restriction)."""
    f = obs.fields
    day = dt.date.fromisoformat(f["published"]) if f.get("published") else None
    return EventDraft(
        kind=EventKind.HTA_ANNOUNCED,
        reference=obs.reference,
        names=obs.names,
        event_date=day,
        date_kind=DateKind.PUBLICATION if day else DateKind.DETECTED,
        evidence=f"{f.get('release')}: {f['sentence']}",
        details={"outcome": f["outcome"], "release": f.get("release")},
        discriminator="announced",
    )
