"""MHRA events: grants (authorisations with every PL number), and conditional authorisation or
conversion to full inferred from announcements and SmPC wording. Pure.
"""

from __future__ import annotations

import datetime as dt
import re
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
from ...names import strip_salts


def names(fields: Mapping[str, Any]) -> tuple[ProductName, ...]:
    out: list[ProductName] = []
    substances = fields.get("substances") or []
    for ingredient in [fields.get("ingredient"), fields.get("name"), *substances]:
        if ingredient:
            text = str(ingredient).lower()
            out.append(ProductName(text, NameKind.INN))
            if (bare := strip_salts(text)) and bare != text:
                out.append(ProductName(bare, NameKind.SUBSTANCE))
    brand = fields.get("brand") or _brand(fields.get("product_name"))
    if brand:
        out.append(ProductName(brand, NameKind.BRAND, "UK"))
    return tuple(out)


def _brand(name: str | None) -> str | None:
    match = re.match(r"^(.+?)\s+\d", name or "")
    return match[1].strip() if match else None


def history(obs: Observation, result: ParseResult) -> list[EventDraft]:
    f = obs.fields
    if f["record"] == "grant":
        return [_grant(obs)]
    if f["record"] == "announcement":
        return [_announcement(obs)]
    return [_smpc(obs, conditional=True)] if f.get("conditional") else []


def changes(before: Mapping[str, Any], obs: Observation, result: ParseResult) -> list[EventDraft]:
    f = obs.fields
    if f["record"] != "smpc" or f.get("conditional") is None or before.get("conditional") is None:
        return []
    if before["conditional"] and not f["conditional"]:
        return [_smpc(obs, conditional=False)]
    if f["conditional"] and not before["conditional"]:
        return [_smpc(obs, conditional=True)]
    return []


def _grant(obs: Observation) -> EventDraft:
    f = obs.fields
    evidence = (
        f"MHRA marketing authorisations granted: {', '.join(f['pl_numbers'])} granted "
        f"{dt.date.fromisoformat(f['grant_date']):%d/%m/%Y} to {f['holder']}: "
        f"{'; '.join(f['names'])} ({f['ingredient']}, {f['legal_status']}, "
        f"{'/'.join(f['territory'])})"
    )
    details = {
        "pl_numbers": f["pl_numbers"],
        "territory": f["territory"],
        "holder": f["holder"],
        "legal_status": f["legal_status"],
        "conditional": None,
    }
    return _draft(
        EventKind.AUTHORISATION, obs, f["grant_date"], DateKind.DECISION, evidence, details
    )


def _announcement(obs: Observation) -> EventDraft:
    f = obs.fields
    kind = EventKind.CONVERSION_TO_FULL if f["verdict"] == "conversion" else EventKind.AUTHORISATION
    details: dict[str, Any] = {"inferred": True, "announcement": f.get("title")}
    if f.get("route"):
        details["route"] = f["route"]  # International Recognition A or B, ILAP, …
    if kind == EventKind.AUTHORISATION:
        details["conditional"] = f["verdict"] == "conditional"
    # A press release is dated by its publication, close to the decision but not it.
    date = f.get("published")
    return _draft(kind, obs, date, DateKind.PUBLICATION, f["sentence"], details, approximate=True)


def _smpc(obs: Observation, *, conditional: bool) -> EventDraft:
    f = obs.fields
    kind = EventKind.AUTHORISATION if conditional else EventKind.CONVERSION_TO_FULL
    said = "says" if conditional else "no longer says"
    evidence = (
        f"MHRA SmPC of {f['product_name']} ({f.get('created')}) {said} "
        "'conditional marketing authorisation'"
    )
    details = {"inferred": True, "conditional": conditional, "pl_numbers": f.get("pl_numbers")}
    # The SmPC's date bounds the change; it is not the decision's date.
    return _draft(
        kind,
        obs,
        f.get("created"),
        DateKind.PUBLICATION,
        evidence,
        details,
        approximate=True,
    )


def _draft(
    kind: EventKind,
    obs: Observation,
    day: str | None,
    date_kind: DateKind,
    evidence: str,
    details: dict[str, Any],
    *,
    approximate: bool = False,
    discriminator: str = "",
) -> EventDraft:
    f = obs.fields
    reference = f["pl_numbers"][0] if f.get("pl_numbers") else f["reference"]
    return EventDraft(
        kind=kind,
        reference=reference,
        names=obs.names,
        event_date=dt.date.fromisoformat(day) if day else None,
        date_kind=date_kind if day else DateKind.DETECTED,
        evidence=evidence,
        details=details if day else {**details, "date_missing": True},
        date_approximate=approximate and day is not None,
        discriminator=discriminator,
        record=obs.reference,
    )


def merge(before: Mapping[str, Any], obs: Observation) -> Observation:
    """A grant's row says all there is: what it says replaces what was known."""
    return obs
