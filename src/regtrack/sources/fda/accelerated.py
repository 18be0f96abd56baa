"""CDER's list of accelerated approvals based on a surrogate endpoint (a PDF, one row per
accelerated indication): whether each was converted to traditional approval, or withdrawn,
and when. The US conditional-to-full switch, as FDA itself tabulates it.

Pure: bytes in, rows out (pdfplumber reads the tables); events in `history` and `changes`.
A header that changed, or a file with no rows, is a ShapeError: never "removed" records.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Mapping
from typing import Any

from ...errors import ShapeError
from ...model import PARTIAL, DateKind, EventDraft, EventKind, NameKind, Observation, ProductName

KIND = "fda-cder-accelerated-pdf"
#: The columns as CDER heads them (whitespace folded).
COLUMNS = (
    "Application Number", "Proprietary Name", "Established Name", "Applicant",
    "FDA Received Date", "Accelerated Approval Date",
    "Total Time to Accelerated Approval (Months)", "Accelerated Approval Indication",
    "Conversion-Withdrawal Status", "Full Approval Conversion- Withdrawal Date",
)  # fmt: skip
FIELDS = ("application", "brand", "substance", "applicant", "received", "approved", "months",
          "indication", "status", "status_date")  # fmt: skip
#: CDER's statuses -> regtrack's words for them.
STATUSES = {
    "converted": "converted",
    "not yet converted": "ongoing",
    "not converted - application withdrawn": "application withdrawn",
    "not converted - indication withdrawn": "indication withdrawn",
}
#: "BLA 125514 Supplement 136", "NDA 216387 Original 2"; a trailing number is a footnote mark
#: ("Supplement 59 4", "NDA 209115 5 Supplement 4").
_APPLICATION = re.compile(
    r"^(NDA|BLA)\s*(\d+)(?:\s\d)?(?:\s+(Supplement|Original)\s+(\d+)(?:\s+\d+)?)?$", re.I
)
_AS_OF = re.compile(r"As of ([A-Z][a-z]+ \d{1,2}, \d{4})")


def read(content: bytes) -> tuple[dt.datetime | None, list[dict[str, Any]]]:
    """The list's date ("As of March 31, 2024") and its rows."""
    import pdfplumber

    try:
        with pdfplumber.open(io.BytesIO(content)) as pdf:
            tables = [t for page in pdf.pages for t in page.extract_tables()]
            first = (pdf.pages[0].extract_text() or "") if pdf.pages else ""
    except Exception as err:  # pdfminer raises many kinds on a damaged file
        raise ShapeError(f"CDER accelerated approvals PDF cannot be read: {err!r}") from err
    header = False
    out = []
    for table in tables:
        for cells in table:
            values = [" ".join((c or "").split()) for c in cells]
            if sum(v in COLUMNS for v in values) >= 3:  # a header row, maybe changed
                if tuple(values[: len(COLUMNS)]) != COLUMNS:
                    raise ShapeError(f"CDER accelerated approvals columns changed: {values}")
                header = True
            elif header and _APPLICATION.match(values[0] if values else ""):
                out.append(_row(dict(zip(FIELDS, values, strict=False))))
    if not header or not out:
        raise ShapeError("no accelerated approvals table (header 'Application Number' ...)")
    found = _AS_OF.search(first)
    as_of = dt.datetime.strptime(found[1], "%B %d, %Y").replace(tzinfo=dt.UTC) if found else None
    return as_of, out


def _row(row: dict[str, Any]) -> dict[str, Any]:
    match = _APPLICATION.match(row["application"])
    assert match is not None
    status = row.get("status", "").casefold()
    if status and status not in STATUSES:
        raise ShapeError(f"CDER accelerated approvals: unknown status {row['status']!r}")
    return row | {
        "reference": f"{match[1].upper()}{int(match[2]):06d}",
        "submission": _submission(match[3], match[4]),
        "brand": _letters(row.get("brand", "")),
        "status": STATUSES.get(status, "ongoing"),
        "approved": _date(row.get("approved")),
        "status_date": _date(row.get("status_date")),
    }


def _submission(word: str | None, number: str | None) -> str:
    if not word or not number:
        return "ORIG-1"
    return f"{'SUPPL' if word.casefold() == 'supplement' else 'ORIG'}-{int(number)}"


def _letters(text: str) -> str:
    """A name the PDF spaced letter by letter ("U K O N I Q") as one word."""
    words = text.split()
    return "".join(words) if len(words) > 2 and all(len(w) == 1 for w in words) else text


def _date(text: str | None) -> str | None:
    try:
        return dt.datetime.strptime(text or "", "%m/%d/%Y").date().isoformat()
    except ValueError:
        return None


def observation(row: dict[str, Any]) -> Observation:
    """One accelerated indication: its own record (the application and submission), partial
    (an application absent from this list has not vanished from anything)."""
    names = tuple(
        ProductName(row[f], kind) for f, kind in (("brand", NameKind.BRAND),
                                                  ("substance", NameKind.INN)) if row.get(f)
    )  # fmt: skip
    record = f"{row['reference']} accelerated {row['submission']}"
    appl_no = row["reference"][3:]
    return Observation(record, names, {PARTIAL: True, "appl_no": appl_no, "accelerated": row})


def history(obs: Observation) -> list[EventDraft]:
    return _events(obs)


def changes(before: Mapping[str, Any], obs: Observation) -> list[EventDraft]:
    was = (before.get("accelerated") or {}).get("status")
    return _events(obs) if was != obs.fields["accelerated"]["status"] else []


def _events(obs: Observation) -> list[EventDraft]:
    """Converted: the switch to traditional approval (of the application, when its original
    approval was the accelerated one; else of that indication). Withdrawn: the indication, or
    the whole application."""
    row = obs.fields["accelerated"]
    status, day = row["status"], row["status_date"]
    if status == "ongoing":
        return []
    whole = row["submission"].startswith("ORIG") or status == "application withdrawn"
    kind = EventKind.CONVERSION_TO_FULL if status == "converted" else EventKind.WITHDRAWAL
    details: dict[str, Any] = {
        "accelerated_approval": row["approved"], "submission": row["submission"],
        "indication": row["indication"], "scope": "application" if whole else "indication",
    }  # fmt: skip
    if kind == EventKind.WITHDRAWAL:
        details["reason"] = "accelerated approval withdrawn"
    quoted = (f"CDER accelerated approvals: {row['application']} {row['brand']} "
              f"({row['substance']}), accelerated {row['approved']}, "
              f"'{row['indication']}': {status}, {day or 'no date given'}")  # fmt: skip
    return [
        EventDraft(
            kind=kind,
            reference=row["reference"],
            names=obs.names,
            event_date=dt.date.fromisoformat(day) if day else None,
            date_kind=DateKind.DECISION,
            evidence=quoted,
            details=details,
            # A conversion keyed by its day, as the data files key a confirmatory approval:
            # the two reports of one switch are one event with both pieces of evidence.
            discriminator=f"{kind.value} {day or row['submission']}"
            if kind == EventKind.CONVERSION_TO_FULL
            else f"{kind.value} {row['submission']}",
            record=obs.reference,
        )
    ]
