"""The Commission's Union Register product page (the legal record of EU decisions) and the EPAR
page: exact decision dates and numbers, and a check of status and the conditional flag. Pure.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ...errors import ShapeError
from ...model import DateKind, EventDraft, EventKind, NameKind, Observation, ProductName
from .. import pages

_DATASET = re.compile(r"var\s+(dataSet_\w+)\s*=\s*")
_PRODUCT = re.compile(r"EMEA/([HV])/C/(\d{6})")
#: Renewals closer together than this are the annual renewals of a conditional authorisation.
ANNUAL = dt.timedelta(days=460)


def register_page(text: str, url: str) -> Observation:
    data = _datasets(text, url)
    info = {item.get("type"): item for item in data["dataSet_product_information"]}
    procedures = []
    product = None
    for proc in data["dataSet_proc"]:
        number = str(proc.get("ema_number") or "")
        match = _PRODUCT.search(number)
        if match and product is None:
            product = f"EMEA/{match[1]}/C/{match[2]}"
        decision = proc.get("decision") or {}
        suffix = (
            number.split(f"{product}/", 1)[1]
            if product and number.startswith(f"{product}/")
            else number
        )
        procedures.append(
            {
                "type": proc.get("type"),
                "ema_number": number or None,
                "procedure": suffix or None,
                "decision_number": decision.get("number"),
                "decision_date": decision.get("date"),
            }
        )
    if product is None:
        raise ShapeError(f"{url}: Union Register page without an EMEA/H/C product number")
    procedures.sort(key=lambda p: p["decision_date"] or "9999")
    name = (info.get("name") or {}).get("value")
    inn = (info.get("inn") or {}).get("value")
    union = {
        "eu_number": (info.get("eu_num") or {}).get("value"),
        "status": ((info.get("name") or {}).get("meta") or {}).get("status_name"),
        "procedures": procedures,
    }
    names = tuple(
        n
        for n in (
            ProductName(inn, NameKind.INN) if inn else None,
            ProductName(name, NameKind.BRAND, "EU") if name else None,
        )
        if n
    )
    return Observation(product, names, {"reference": product, "name": name, "union": union})


def epar_page(text: str, url: str) -> Observation:
    """An EPAR page: status marker, key facts, the conditional wording (layout unverified)."""
    page = pages.soup(text)
    marker = page.find(attrs={"data-medicine-status": True})
    facts = {
        dt_.get_text(" ", strip=True).rstrip(":"): dd.get_text(" ", strip=True)
        for dt_ in page.find_all("dt")
        if (dd := dt_.find_next_sibling("dd")) is not None
    }
    number = facts.get("EMA product number")
    if marker is None or not number:
        raise ShapeError(
            f"{url}: EPAR page without its data-medicine-status marker or 'EMA product number' "
            "(layout changed?)"
        )
    heading = page.find("h1")
    name = heading.get_text(" ", strip=True) if heading else None
    epar = {
        "status": str(marker["data-medicine-status"]).lower(),
        "conditional": "conditional marketing authorisation" in page.get_text(" ").lower(),
        "eu_number": facts.get("EU number"),
        "authorisation_issued": facts.get("Marketing authorisation issued"),
    }
    names = (ProductName(name, NameKind.BRAND, "EU"),) if name else ()
    return Observation(number, names, {"reference": number, "name": name, "epar": epar})


def _datasets(text: str, url: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    decoder = json.JSONDecoder()
    for match in _DATASET.finditer(text):
        try:
            value, _ = decoder.raw_decode(text, match.end())
        except json.JSONDecodeError as err:
            raise ShapeError(f"{url}: {match[1]} is not JSON: {err}") from err
        if isinstance(value, list):
            found[match[1]] = value
    missing = [n for n in ("dataSet_product_information", "dataSet_proc") if n not in found]
    if missing:
        raise ShapeError(
            f"{url}: Union Register page without {', '.join(missing)} (layout changed?)"
        )
    return found


# --- events ---------------------------------------------------------------------------------


def events(before: Mapping[str, Any], obs: Observation) -> list[EventDraft]:
    """Dated events for the Commission decisions not seen before, and the conversion to full
    authorisation when the run of annual renewals and the report say it happened."""
    union = obs.fields["union"]
    seen = {p["ema_number"] for p in (before.get("union") or {}).get("procedures", [])}
    renewals = _annual_renewals(union["procedures"])
    # The first reading of a product's page is its history; news has come from the report.
    first = "union" not in before
    out = [
        replace(_procedure(obs, p, conditional=bool(renewals)), history=first)
        for p in union["procedures"]
        if p["ema_number"] not in seen and p["decision_date"]
    ]
    if before.get("conditional") is False and renewals:
        end = _conversion_decision(union["procedures"], renewals[-1])
        if end is not None:
            out.append(_conversion(obs, end, renewals))
    return out


def _procedure(obs: Observation, proc: Mapping[str, Any], *, conditional: bool) -> EventDraft:
    kind_text = (proc["type"] or "").lower()
    details: dict[str, Any] = {
        "decision_number": proc["decision_number"],
        "procedure": proc["procedure"],
    }
    if "authorisation" in kind_text and "transfer" not in kind_text:
        kind, discriminator = EventKind.AUTHORISATION, "authorisation"
        # Only conditional authorisations are renewed every year.
        details["conditional"] = conditional or None
    elif "withdrawal" in kind_text:
        kind, discriminator = EventKind.WITHDRAWAL, "withdrawal"
        details["reason"] = "withdrawn"
    else:
        kind, discriminator = EventKind.VARIATION, proc["procedure"] or proc["ema_number"]
        details["procedure_type"] = proc["type"]
    return EventDraft(
        kind=kind,
        reference=obs.reference,
        names=obs.names,
        event_date=dt.date.fromisoformat(proc["decision_date"]),
        date_kind=DateKind.DECISION,
        evidence=f"EC Union Register: {proc['type']} {proc['ema_number']}, Commission decision "
        f"C{proc['decision_number']} of {proc['decision_date']}",
        details=details,
        discriminator=discriminator,
    )


def _annual_renewals(procedures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    dated = [p for p in procedures if p["decision_date"]]
    start = next((p for p in dated if "authorisation" in (p["type"] or "").lower()), None)
    run, previous = [], dt.date.fromisoformat(start["decision_date"]) if start else None
    for proc in dated:
        renewal = "renewal" in (proc["type"] or "").lower() or str(proc["procedure"]).startswith(
            "R/"
        )
        day = dt.date.fromisoformat(proc["decision_date"])
        if renewal and previous is not None and day - previous <= ANNUAL:
            run.append(proc)
            previous = day
    return run


def _conversion_decision(
    procedures: list[dict[str, Any]], last: Mapping[str, Any]
) -> dict[str, Any] | None:
    after = dt.date.fromisoformat(last["decision_date"])
    for proc in procedures:
        day = dt.date.fromisoformat(proc["decision_date"]) if proc["decision_date"] else None
        if day and after < day <= after + ANNUAL and str(proc["procedure"]).startswith("II/"):
            return proc
    return None


def _conversion(
    obs: Observation, proc: Mapping[str, Any], renewals: list[dict[str, Any]]
) -> EventDraft:
    last = renewals[-1]
    return EventDraft(
        kind=EventKind.CONVERSION_TO_FULL,
        reference=obs.reference,
        names=obs.names,
        event_date=dt.date.fromisoformat(proc["decision_date"]),
        date_kind=DateKind.DECISION,
        evidence=f"EC Union Register: {len(renewals)} annual renewal(s) of a conditional "
        f"authorisation, the last {last['ema_number']} of {last['decision_date']}; ended by "
        f"{proc['type']} {proc['ema_number']}, Commission decision C{proc['decision_number']} "
        f"of {proc['decision_date']}",
        details={
            "decision_number": proc["decision_number"],
            "procedure": proc["procedure"],
            "conditional": False,
            "inferred": True,
        },
    )
