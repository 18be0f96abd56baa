"""Rendering events for people and programs: tables, JSON, JSON lines, CSV, Markdown.

Takes rows the store returned; reads nothing and writes nothing itself.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from .model import KIND_WORDS, Alias, EventKind, Product
from .store import EventRow

FIELDS = (
    "id", "agency", "kind", "product", "reference", "event_date", "date_kind",
    "date_approximate", "published_at", "detected_at", "source", "source_url", "snapshot_id",
    "evidence", "details", "backfill",
)  # fmt: skip


def event_dict(row: EventRow) -> dict[str, Any]:
    """One event as JSON-ready data, details as an object."""
    data = row.model_dump(mode="json")
    return {name: data.get(name) for name in FIELDS}


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
    for key in ("outcome", "reason", "procedure"):
        if d.get(key):
            notes.append(str(d[key]))
    if d.get("re_examination"):
        notes.append("re-examination")
    return f"{words} ({', '.join(notes)})" if notes else words


def date_text(row: EventRow) -> str:
    if row.event_date is None:
        return f"{row.detected_at:%Y-%m-%d}*"
    return row.event_date.isoformat() + ("~" if row.date_approximate else "")


def marks(row: EventRow) -> str:
    out = [row.date_kind if row.event_date else "date not published: detected"]
    if row.date_approximate:
        out.append("approx.")
    if row.details.get("inferred"):
        out.append("inferred")
    if row.backfill:
        out.append("backfill")
    return ", ".join(out)


def render_events(rows: Sequence[EventRow], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([event_dict(r) for r in rows], indent=2, ensure_ascii=False)
    if fmt == "jsonl":
        return "\n".join(json.dumps(event_dict(r), ensure_ascii=False) for r in rows)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        for r in rows:
            data = event_dict(r)
            writer.writerow(data | {"details": json.dumps(data["details"], ensure_ascii=False)})
        return buffer.getvalue().rstrip("\n")
    header = ("DATE", "AGENCY", "PRODUCT", "EVENT", "REFERENCE", "NOTES")
    return table(header, [
        (date_text(r), r.agency, r.product, describe(r), r.reference, marks(r)) for r in rows
    ])  # fmt: skip


def render_timeline(
    product: Product, aliases: Sequence[Alias], rows: Sequence[EventRow], fmt: str
) -> str:
    names = sorted({a.name for a in aliases if a.name.casefold() != product.name.casefold()})
    if fmt == "json":
        return json.dumps(
            {"product": product.name, "aliases": names, "events": [event_dict(r) for r in rows]},
            indent=2,
            ensure_ascii=False,
        )
    title = f"{product.name}" + (f" (also: {', '.join(names)})" if names else "")
    header = ("DATE", "BODY", "EVENT", "REFERENCE", "NOTES")
    body = [(date_text(r), r.agency, describe(r), r.reference, marks(r)) for r in rows]
    legend = "~ approximate date; * no date published, date regtrack detected it"
    if fmt == "md":
        lines = [f"# {_md(title)}", "", "| " + " | ".join(header) + " |"]
        lines.append("|" + "---|" * len(header))
        lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in body]
        lines += ["", f"_{legend}_", "", "## Evidence", ""]
        lines += [f"- {r.event_date or '-'} {r.agency} {describe(r)}: {_md(r.evidence)} "
                  f"([source]({r.source_url}))" for r in rows]  # fmt: skip
        return "\n".join(lines)
    if not rows:
        return f"{title}\nno events recorded"
    return f"{title}\n\n{table(header, body)}\n\n{legend}"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain aligned text table: no dependency, cheap to import."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in (header, *rows)]  # fmt: skip
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
