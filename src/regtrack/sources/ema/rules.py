"""The EMA event table of SOURCES.md: which events a report row, or a change to it, means.

Pure functions of observations; every event quotes the cells that prove it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from ...model import DateKind, EventDraft, EventKind, Observation, ParseResult
from .columns import COLUMNS

AUTHORISED = "Authorised"
#: A CHMP opinion adopted, the Commission's decision still to come.
OPINION = "Opinion"
ENDED = {"Withdrawn": "withdrawn", "Lapsed": "lapsed", "Expired": "expired", "Revoked": "revoked"}
APPLICATION_WITHDRAWN = {"Application withdrawn", "Withdrawn from rolling review"}
PROCEDURE_TYPES = {
    "II": "type II variation", "X": "line extension", "R": "renewal", "T": "transfer",
    "N": "notification", "IB": "type IB variation", "IA": "type IA variation",
    "IAIN": "type IA variation", "PSUSA": "PSUR assessment", "VR": "variation (Art. 5)",
    "WS": "worksharing", "IG": "grouped variation", "A20": "referral (Art. 20)",
    "A31": "referral (Art. 31)", "S": "annual reassessment",
}  # fmt: skip
PROCEDURE_FIELDS = ("revision", "latest_procedure", "ec_decision_date")
RE_EXAMINATION = "Opinion under re-examination"
#: Statuses that can only follow a positive opinion.
_AFTER_POSITIVE = {AUTHORISED, "Suspended", *ENDED}


def opinion(obs: Observation, result: ParseResult) -> EventDraft:
    f = obs.fields
    outcome = (f.get("opinion_status") or "").lower() or None
    if outcome is None and f["status"] in _AFTER_POSITIVE:
        outcome = "positive"
    elif outcome is None and f["status"] == "Refused":
        outcome = "negative"
    re_exam = f["status"] == RE_EXAMINATION
    return _draft(
        EventKind.OPINION, obs, result, "opinion_date", DateKind.OPINION,
        ("status", "opinion_status", "opinion_date"),
        {"outcome": outcome, "re_examination": re_exam},
        discriminator=f"opinion {f['opinion_date']}{' re-examination' if re_exam else ''}",
    )  # fmt: skip


#: The European Commission decides within 67 days of a CHMP opinion (Regulation (EC) No
#: 726/2004: 15 days to send the draft decision, 52 for the standing committee).
COMMISSION_DAYS = 67


def expected_decision(obs: Observation, result: ParseResult) -> EventDraft | None:
    """A positive CHMP opinion that awaits the Commission: its decision is expected within
    67 days of the opinion (approximate); the authorisation, when it comes, follows it."""
    f = obs.fields
    outcome = (f.get("opinion_status") or "").lower()
    if f["status"] != OPINION or outcome != "positive" or not f.get("opinion_date"):
        return None
    due = dt.date.fromisoformat(f["opinion_date"]) + dt.timedelta(days=COMMISSION_DAYS)
    return EventDraft(
        kind=EventKind.EXPECTED_DATE,
        reference=obs.reference,
        names=obs.names,
        event_date=due,
        date_kind=DateKind.DECISION,
        evidence=evidence(obs, result, ("status", "opinion_status", "opinion_date"))
        + f"; the European Commission decides within {COMMISSION_DAYS} days of the opinion",
        details={"expected": "European Commission decision", "opinion_date": f["opinion_date"]},
        date_approximate=True,
        discriminator=f"expected decision {f['opinion_date']}",
    )


def authorisation(obs: Observation, result: ParseResult) -> EventDraft:
    f = obs.fields
    date_field = "authorisation_date" if f.get("authorisation_date") else "ec_decision_date"
    details = {
        "conditional": f.get("conditional"),
        "exceptional": f.get("exceptional"),
        "accelerated": None,
        "accelerated_assessment": f.get("accelerated_assessment"),
        "orphan": f.get("orphan"),
        # The report only tells the flags as they are now, not as they were at the time.
        "flags_as_of": _generated(result),
    }
    return _draft(
        EventKind.AUTHORISATION, obs, result, date_field, DateKind.DECISION,
        ("status", date_field, "conditional", "exceptional"), details,
    )  # fmt: skip


def status_events(
    obs: Observation, result: ParseResult, before: Mapping[str, Any] | None = None
) -> list[EventDraft]:
    """The event a terminal or special status carries, if any."""
    status = obs.fields["status"]
    if status == "Refused":
        kind, date_field, details = EventKind.REFUSAL, "refusal_date", {}
    elif status in APPLICATION_WITHDRAWN:
        kind, date_field = EventKind.APPLICATION_WITHDRAWN, "application_withdrawal_date"
        details = {"rolling_review": status == "Withdrawn from rolling review"}
    elif status in ENDED:
        kind, date_field, details = (
            EventKind.WITHDRAWAL,
            "withdrawal_date",
            {"reason": ENDED[status]},
        )
    elif status == "Suspended":
        kind, date_field, details = EventKind.SUSPENSION, "suspension_date", {}
    elif status == RE_EXAMINATION and before is not None:
        return [opinion(obs, result)]
    else:
        return []
    return [
        _draft(kind, obs, result, date_field, DateKind.DECISION, ("status", date_field), details)
    ]


def conversion(before: Mapping[str, Any], obs: Observation, result: ParseResult) -> EventDraft:
    """Conditional -> full. The report has no date for it: the EC decision date that moved
    together with the latest procedure is the best estimate, so it is marked approximate."""
    f = obs.fields
    moved = all(before.get(k) != f.get(k) for k in ("ec_decision_date", "latest_procedure"))
    return _draft(
        EventKind.CONVERSION_TO_FULL, obs, result,
        "ec_decision_date" if moved and f.get("ec_decision_date") else None, DateKind.DECISION,
        ("conditional", "ec_decision_date", "latest_procedure"),
        {"procedure": f.get("latest_procedure"), "conditional": False},
        before=before, approximate=True,
    )  # fmt: skip


def variation(before: Mapping[str, Any], obs: Observation, result: ParseResult) -> EventDraft:
    f = obs.fields
    procedure = f.get("latest_procedure") or ""
    match = re.match(r"A\d+|[A-Z]+", procedure.upper())
    prefix = match.group() if match else ""
    extends = f.get("indication") != before.get("indication") and prefix in ("II", "X", "WS")
    shown = (*PROCEDURE_FIELDS, "indication") if extends else PROCEDURE_FIELDS
    date_changed = f.get("ec_decision_date") != before.get("ec_decision_date")
    return _draft(
        EventKind.INDICATION_EXTENSION if extends else EventKind.VARIATION, obs, result,
        "ec_decision_date" if date_changed and f.get("ec_decision_date") else None,
        DateKind.DECISION, shown,
        {
            "procedure": procedure or None,
            "procedure_type": PROCEDURE_TYPES.get(prefix, "procedure"),
            "revision": f.get("revision"),
            # An indication text that changed under a type II procedure is read as an
            # extension; the report does not say so outright.
            "inferred": extends,
        },
        before=before,
        discriminator=procedure or f"revision {f.get('revision')}/{f.get('ec_decision_date')}",
    )  # fmt: skip


def _draft(
    kind: EventKind,
    obs: Observation,
    result: ParseResult,
    date_field: str | None,
    date_kind: DateKind,
    shown: tuple[str, ...],
    details: dict[str, Any],
    *,
    before: Mapping[str, Any] | None = None,
    approximate: bool = False,
    discriminator: str = "",
) -> EventDraft:
    value = obs.fields.get(date_field) if date_field else None
    if value is None:
        # No date in the register: the event is dated when regtrack saw it, and says so.
        details = {**details, "date_missing": True}
        date_kind = DateKind.DETECTED
    return EventDraft(
        kind=kind,
        reference=obs.reference,
        names=obs.names,
        event_date=dt.date.fromisoformat(value) if value else None,
        date_kind=date_kind,
        evidence=evidence(obs, result, shown, before),
        details=details,
        date_approximate=approximate and value is not None,
        discriminator=discriminator,
    )


def evidence(
    obs: Observation,
    result: ParseResult,
    shown: tuple[str, ...],
    before: Mapping[str, Any] | None = None,
) -> str:
    """The cells that prove an event, in the report's words: 'Conditional approval: Yes → No'."""
    parts = []
    for name in shown:
        new = _cell(obs.fields.get(name))
        if before is not None and before.get(name) != obs.fields.get(name):
            parts.append(f"{COLUMNS[name]}: {_cell(before.get(name))} → {new}")
        else:
            parts.append(f"{COLUMNS[name]}: {new}")
    source = "EMA medicines report"
    if result.generated_at:
        source += f" generated {result.generated_at:%d/%m/%Y %H:%M}"
    return f"{source}; {obs.reference} {obs.fields.get('name') or ''}: " + "; ".join(parts)


def _cell(value: Any) -> str:
    if value is None:
        return "(empty)"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return dt.date.fromisoformat(value).strftime("%d/%m/%Y")
    return str(value)


def _generated(result: ParseResult) -> str | None:
    return result.generated_at.date().isoformat() if result.generated_at else None
