"""Rendering events for people and programs: tables, JSON, JSON lines, CSV, Markdown.

Takes rows the store returned; reads nothing and writes nothing itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .model import KIND_WORDS, OUTCOME_WORDS, Alias, EventKind, Product
from .store import EventRow

LANE_FILLS = ("#f4f7fb", "#e9eef5")
LANE_COLORS = {
    "EMA": "#1f5fa8",
    "FDA": "#c0392b",
    "MHRA": "#7b3fa0",
    "NICE": "#1e8449",
    "SMC": "#d68910",
}

FIELDS = (
    "id",
    "agency",
    "kind",
    "product",
    "reference",
    "event_date",
    "date_kind",
    "date_approximate",
    "published_at",
    "detected_at",
    "source",
    "source_url",
    "snapshot_id",
    "evidence",
    "details",
    "backfill",
)


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
    if d.get("outcome"):
        notes.append(OUTCOME_WORDS.get(str(d["outcome"]), str(d["outcome"])))
    if d.get("reason"):
        notes.append(str(d["reason"]))
    # The initial procedure (0000) of an authorisation says nothing a reader needs.
    if d.get("procedure") and str(d["procedure"]).strip("0"):
        notes.append(str(d["procedure"]))
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
    return table(
        header,
        [(date_text(r), r.agency, r.product, describe(r), r.reference, marks(r)) for r in rows],
    )


def render_timeline(
    product: Product,
    aliases: Sequence[Alias],
    rows: Sequence[EventRow],
    fmt: str,
    *,
    as_of: dt.date | None = None,
    templates: str | Path | None = None,
) -> str:
    """One product's history in `fmt`; `templates` is a folder overriding the bundled report
    templates file by file (html only)."""
    from .reports import current, status_line

    names = sorted({a.name for a in aliases if a.name.casefold() != product.name.casefold()})
    statuses = current(rows)
    if fmt == "json":
        return json.dumps(
            {
                "product": product.name,
                "aliases": names,
                "as_of": str(as_of) if as_of else None,
                "status": {body: str(s) for body, s in statuses.items()},
                "events": [event_dict(r) for r in rows],
            },
            indent=2,
            ensure_ascii=False,
        )
    if fmt == "csv":
        return render_events(rows, "csv")
    if fmt == "html":
        return _html(product.name, names, rows, statuses, as_of, templates)
    if fmt == "ics":
        return _ics(product.name, rows)
    title = f"{product.name}" + (f" (also: {', '.join(names)})" if names else "")
    if as_of:
        title += f", as known on {as_of}"
    if statuses:
        title += f"\n{status_line(statuses)}"
    header = ("DATE", "BODY", "EVENT", "REFERENCE", "NOTES")
    body = [(date_text(r), r.agency, describe(r), r.reference, marks(r)) for r in rows]
    legend = "~ approximate date; * no date published, date regtrack detected it"
    if fmt == "md":
        heading, *status = title.split("\n")
        lines = [f"# {_md(heading)}", "", *(f"**Status:** {_md(s)}" for s in status), ""]
        lines += ["| " + " | ".join(header) + " |"]
        lines.append("|" + "---|" * len(header))
        lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in body]
        lines += ["", f"_{legend}_", "", "## Evidence", ""]
        lines += [
            f"- {r.event_date or '-'} {r.agency} {describe(r)}: {_md(r.evidence)} "
            f"([source]({r.source_url}))"
            for r in rows
        ]
        return "\n".join(lines)
    if not rows:
        return f"{title}\nno events recorded"
    return f"{title}\n\n{table(header, body)}\n\n{legend}"


def _html(
    product: str,
    names: list[str],
    rows: Sequence[EventRow],
    statuses: dict[str, Any],
    as_of: dt.date | None,
    templates: str | Path | None = None,
) -> str:
    """A self-contained page: status, a swimlane per body drawn as inline SVG, the events."""
    from .reports import BODIES
    from .templating import environment

    env = environment("reports", templates)
    dated = [(r, r.event_date) for r in rows if r.event_date is not None]
    days = [day for _, day in dated] or [dt.date.today()]
    first, last = min(days), max(days)
    start, end = dt.date(first.year, 1, 1), dt.date(last.year + 1, 1, 1)
    width, left, lane_height = 1100, 80, 48

    def x(day: dt.date) -> float:
        return round(
            left + (width - left - 20) * (day - start).days / max(1, (end - start).days), 1
        )

    lanes: list[dict[str, Any]] = [
        {"name": b, "y": 10 + i * lane_height, "fill": LANE_FILLS[i % 2]}
        for i, b in enumerate(BODIES)
    ]
    lane_y = {str(lane["name"]): lane["y"] + lane_height / 2 for lane in lanes}
    dots = [
        {
            "x": x(day),
            "y": lane_y[r.agency],
            "color": LANE_COLORS[r.agency],
            "conversion": r.kind == EventKind.CONVERSION_TO_FULL,
            "title": f"{date_text(r)} {r.agency}: {describe(r)} ({r.reference})",
        }
        for r, day in dated
    ]
    ticks = [{"x": x(dt.date(y, 1, 1)), "label": str(y)} for y in range(start.year, end.year + 1)]
    svg = {
        "width": width,
        "height": 10 + len(lanes) * lane_height + 30,
        "lane_height": lane_height,
        "lanes": lanes,
        "dots": dots,
        "ticks": ticks,
    }
    table_rows = [
        {
            "date": date_text(r),
            "agency": r.agency,
            "kind": describe(r),
            "reference": r.reference,
            "marks": marks(r),
            "evidence": r.evidence,
            "url": r.source_url,
            "conversion": r.kind == EventKind.CONVERSION_TO_FULL,
        }
        for r in rows
    ]
    return str(
        env.get_template("timeline.html").render(
            product=product,
            aliases=", ".join(names),
            as_of=as_of,
            svg=svg,
            rows=table_rows,
            statuses=[(b, str(s)) for b, s in statuses.items()],
            generated=f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        )
    )


def _ics(product: str, rows: Sequence[EventRow]) -> str:
    """iCalendar: every dated event, past or expected, as an all-day event."""
    import icalendar

    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//regtrack//medicines decisions//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{product}: regulatory and HTA decisions")
    for row in rows:
        if row.event_date is None:
            continue
        entry = icalendar.Event()
        entry.add(
            "uid", f"{row.agency}-{row.reference}-{row.discriminator}@regtrack".replace(" ", "_")
        )
        entry.add("summary", f"{row.agency}: {describe(row)}, {product} ({row.reference})")
        entry.add("dtstart", row.event_date)
        entry.add("dtend", row.event_date + dt.timedelta(days=1))
        entry.add("dtstamp", row.detected_at)
        entry.add("description", f"{row.evidence}\n{marks(row)}")
        entry.add("url", row.source_url)
        if row.kind == EventKind.EXPECTED_DATE:
            entry.add("status", "TENTATIVE")
        calendar.add_component(entry)
    return str(calendar.to_ical().decode())


def render_atom(rows: Sequence[EventRow], *, title: str) -> str:
    """Atom 1.0 (RFC 4287): one entry per event, its evidence as the summary."""
    from xml.etree import ElementTree as ET

    ns = "http://www.w3.org/2005/Atom"
    ET.register_namespace("", ns)
    root = ET.Element(f"{{{ns}}}feed")
    updated = max((r.detected_at for r in rows), default=dt.datetime.now(dt.UTC))
    for tag, text in (
        ("id", "urn:regtrack:events"),
        ("title", title),
        ("updated", updated.isoformat()),
    ):
        ET.SubElement(root, f"{{{ns}}}{tag}").text = text
    ET.SubElement(ET.SubElement(root, f"{{{ns}}}author"), f"{{{ns}}}name").text = "regtrack"
    for row in rows:
        entry = ET.SubElement(root, f"{{{ns}}}entry")
        key = f"{row.agency}:{row.reference}:{row.discriminator}".replace(" ", "_")
        ET.SubElement(entry, f"{{{ns}}}id").text = f"urn:regtrack:event:{key}"
        ET.SubElement(
            entry, f"{{{ns}}}title"
        ).text = f"{row.product}: {row.agency} {describe(row)} ({row.reference}), {date_text(row)}"
        ET.SubElement(entry, f"{{{ns}}}updated").text = row.detected_at.isoformat()
        if row.event_date:
            ET.SubElement(
                entry, f"{{{ns}}}published"
            ).text = f"{row.event_date.isoformat()}T00:00:00Z"
        ET.SubElement(entry, f"{{{ns}}}summary").text = f"{row.evidence} [{marks(row)}]"
        ET.SubElement(entry, f"{{{ns}}}link", href=row.source_url)
        ET.SubElement(entry, f"{{{ns}}}category", term=row.kind)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain aligned text table: no dependency, cheap to import."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
