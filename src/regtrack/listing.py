"""Event lists for programs and people: JSON, JSON lines, CSV and aligned tables.

Takes rows the store returned and writes them out; reads nothing and writes nothing else.
JSON lines and CSV are written a row at a time, so `regtrack events` over a whole register
holds one batch of rows in memory, not all of them.
"""

from __future__ import annotations

import csv
import json
import typing
from collections.abc import Iterable, Sequence
from typing import Any, BinaryIO, TextIO

import orjson
from pydantic import BaseModel, create_model

from .model import KIND_WORDS, OUTCOME_WORDS, EventKind
from .store import PUBLIC_FIELDS, EventRow

#: An event as programs read it: the fields of `events --format jsonl|csv|xlsx` and of the
#: web API's events. Their types are the store's row's (`EventRow`), not declared again.
FIELDS = PUBLIC_FIELDS
_TYPES = typing.get_type_hints(EventRow)
_PUBLIC: dict[str, Any] = {name: (_TYPES[name], ...) for name in FIELDS}
#: The same, as a response model (the web API's schema).
PublicEvent: type[BaseModel] = create_model("PublicEvent", **_PUBLIC)
_DATES = ("event_date", "published_at", "detected_at")
TABLE_HEADER = ("DATE", "AGENCY", "PRODUCT", "BRAND", "EVENT", "REFERENCE", "NOTES")


def event_dict(row: EventRow) -> dict[str, Any]:
    """One event as JSON-ready data (`PublicEvent`), details as an object, dates in ISO 8601."""
    out = {name: getattr(row, name) for name in FIELDS}
    for name in _DATES:
        if out[name] is not None:
            out[name] = out[name].isoformat()
    return out


def describe(row: EventRow) -> str:
    """The kind in plain words with its outcome: 'authorisation (conditional)'."""
    words = KIND_WORDS.get(EventKind(row.kind), row.kind)
    d = row.details
    notes = []
    if row.kind == EventKind.AUTHORISATION:
        if d.get("conditional"):
            notes.append("conditional")
        if d.get("exceptional"):
            notes.append("exceptional circumstances")
        if d.get("accelerated"):
            notes.append("accelerated")
    outcome = OUTCOME_WORDS.get(str(d["outcome"]), str(d["outcome"])) if d.get("outcome") else ""
    if row.kind in (EventKind.HTA_STAGE, EventKind.HTA_STATUS):
        # A stage with what its document recommends: "final draft guidance: recommended".
        stage = str(d.get("stage") or d.get("status") or "").lower()
        notes.append(f"{stage}: {outcome}" if outcome and stage else stage or outcome)
    elif outcome:
        notes.append(outcome)
    if row.kind == EventKind.UNDER_EVALUATION and d.get("area"):
        notes.append(str(d["area"]))
    if d.get("reverses"):  # a later stage reversing the one before it
        notes.append(f"reversing {OUTCOME_WORDS.get(str(d['reverses']), d['reverses'])}")
    if d.get("reason"):
        notes.append(str(d["reason"]))
    # The initial procedure (0000) of an authorisation says nothing a reader needs.
    if d.get("procedure") and str(d["procedure"]).strip("0"):
        notes.append(str(d["procedure"]))
    elif d.get("submission") and row.kind != EventKind.AUTHORISATION:
        # FDA supplements by their number: two on one day are two rows a reader can tell apart.
        notes.append(str(d["submission"]))
    if d.get("re_examination"):
        notes.append("re-examination")
    notes = [note for note in notes if note]
    return f"{words} ({', '.join(notes)})" if notes else words


#: A status change as a sentence reads it: "shows Etaplex withdrawn on …".
_STATUS_WORDS = {
    EventKind.AUTHORISATION: "authorised",
    EventKind.TENTATIVE_APPROVAL: "tentatively approved",
    EventKind.CONVERSION_TO_FULL: "switched to full authorisation",
    EventKind.REFUSAL: "refused",
    EventKind.APPLICATION_WITHDRAWN: "with its application withdrawn",
    EventKind.SUSPENSION: "suspended",
}


def late_news(row: EventRow) -> str | None:
    """For a status change a body published long after its date (news, marked late), both
    dates in one sentence: "EMA's register of 29 January 2026 shows Etaplex withdrawn on
    15 January 2024 (published late)". None for anything else."""
    if row.backfill or not row.details.get("late") or row.event_date is None:
        return None
    kind = EventKind(row.kind)
    if kind == EventKind.WITHDRAWAL:
        what = str(row.details.get("reason") or "withdrawn")
    else:
        what = _STATUS_WORDS.get(kind) or describe(row)
    shown = f"'s register of {_day(row.published_at)} shows" if row.published_at else " shows"
    name = row.brand or row.product
    return f"{row.agency}{shown} {name} {what} on {_day(row.event_date)} (published late)"


def _day(day: Any) -> str:
    return f"{day.day} {day:%B %Y}"


def date_text(row: EventRow) -> str:
    if row.event_date is None:
        return f"{row.detected_at:%Y-%m-%d}*"
    return row.event_date.isoformat() + ("~" if row.date_approximate else "")


def marks(row: EventRow) -> str:
    out = [row.date_kind if row.event_date else "date not published: detected"]
    if row.details.get("no_later_than"):
        out = ["no later than"]  # the document's own date: the event is undated
    elif row.date_approximate:
        out.append("approx.")
    if row.details.get("inferred"):
        out.append("inferred")
    if row.backfill:
        out.append("history")  # known from the body's past, not news when regtrack saw it
    elif row.details.get("late"):
        out.append("published late")  # news: it changed the status, however old its date
    return ", ".join(out)


def write_events(rows: Iterable[EventRow], fmt: str, out: TextIO) -> None:
    """Write events in `fmt` as they come (a table needs them all for its widths)."""
    if fmt in ("jsonl", "json", "csv"):
        write_public((event_dict(row) for row in rows), fmt, out)
    else:
        body = [
            (date_text(r), r.agency, r.product, r.brand or "", describe(r), r.reference, marks(r))
            for r in rows
        ]
        out.write(table(TABLE_HEADER, body) + "\n")


def write_public(events: Iterable[dict[str, Any]], fmt: str, out: TextIO) -> None:
    """Write events as programs read them (`event_dict`, or the store's `iter_public`) as
    JSON lines, a JSON array or CSV, as they come."""
    if fmt == "jsonl":
        for data in events:
            out.write(orjson.dumps(data, option=orjson.OPT_APPEND_NEWLINE).decode())
    elif fmt == "json":
        out.write("[")
        for number, data in enumerate(events):
            out.write(("," if number else "") + "\n  " + orjson.dumps(data).decode())
        out.write("\n]\n")
    else:
        # Excel reads UTF-8 only after a byte-order mark, and yes/no better than True/False.
        out.write("\ufeff")
        writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\r\n")
        writer.writeheader()
        for data in events:
            writer.writerow(cells(data))


def cells(data: dict[str, Any]) -> dict[str, Any]:
    """An event's values as spreadsheet cells: yes/no, details as JSON text, and text that a
    spreadsheet would run as a formula (= + - @) neutralised with a leading apostrophe."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, bool):
            value = "yes" if value else "no"
        elif key == "details":
            value = json.dumps(value, ensure_ascii=False)
        if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
            value = "'" + value
        out[key] = "" if value is None else value
    return out


def write_xlsx(rows: Iterable[EventRow], out: BinaryIO) -> None:
    """The CSV's twin as an Excel workbook (openpyxl, written row by row)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("events")
    sheet.append(list(FIELDS))
    for row in rows:
        sheet.append(list(cells(event_dict(row)).values()))
    book.save(out)


def render_events(rows: Iterable[EventRow], fmt: str) -> str:
    """`write_events` into a string."""
    import io

    buffer = io.StringIO()
    write_events(rows, fmt, buffer)
    return buffer.getvalue().rstrip("\n")


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain aligned text table: no dependency, cheap to import."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]
    return "\n".join(lines)
