"""Rendering one product's timeline (table, JSON, CSV, Markdown, HTML, iCalendar); event
lists are `listing`, the Atom feed of events `atom`.

Takes rows the store returned; reads nothing and writes nothing itself.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .listing import date_text, describe, event_dict, marks, render_events, table
from .model import Alias, EventKind, Product
from .store import EventRow

LANE_FILLS = ("#f4f7fb", "#e9eef5")
LANE_COLORS = {
    "EMA": "#1f5fa8",
    "FDA": "#c0392b",
    "MHRA": "#7b3fa0",
    "NICE": "#1e8449",
    "SMC": "#d68910",
}


#: Most characters a cell of the timeline table shows, so a row fits 120 columns.
WIDTHS = {"BRAND": 12, "EVENT": 44, "REFERENCE": 16, "NOTES": 20}


def render_timeline(
    product: Product,
    aliases: Sequence[Alias],
    rows: Sequence[EventRow],
    fmt: str,
    *,
    as_of: dt.date | None = None,
    templates: str | Path | None = None,
    brand: str | None = None,
    links: Sequence[tuple[str, str]] = (),
) -> str:
    """One product's history in `fmt`. `brand`: the product was asked for by this brand
    name, so its status is that brand's own and the substance's other brands are listed;
    `templates` is a folder overriding the bundled report templates (html only)."""
    from .reports import brands, current, for_brand, same_brand, status_line, status_lines

    names = sorted({a.name for a in aliases if a.name.casefold() != product.name.casefold()})
    others = [b for b in brands(rows) if not same_brand(b, brand)]
    # The brand's own authorisations one by one, the substance's others counted.
    statuses = current(rows, brand=brand, substance=product.name)
    if brand is not None:
        rows = for_brand(rows, brand)
    heading = f"{brand} ({product.name})" if brand else product.name
    if fmt == "json":
        return json.dumps(
            {
                "product": product.name,
                "brand": brand,
                "other_brands": others if brand else [],
                "brands": brands(rows) if not brand else [brand],
                "aliases": names,
                "as_of": str(as_of) if as_of else None,
                "status": {body: str(s) for body, s in statuses.items()},
                "authorisations": [
                    {"agency": a.agency, "reference": a.reference, "brand": a.brand,
                     "status": a.status.text, "since": str(a.status.since or "") or None}
                    for s in statuses.values() for a in s.authorisations
                ],
                "events": [event_dict(r) for r in rows],
            },
            indent=2,
            ensure_ascii=False,
        )  # fmt: skip
    if fmt == "csv":
        return render_events(rows, "csv")
    if fmt == "xlsx":
        raise ValueError("xlsx is binary: use listing.write_xlsx")
    also = [n for n in names if not same_brand(n, brand)]
    lines = [heading + (f" (also: {', '.join(also)})" if also and not brand else "")]
    if brand and others:
        lines.append(f"Other {product.name} brands: {', '.join(others)}")
    if as_of:
        lines[0] += f", as known on {as_of}"
    status = status_line(statuses) if statuses else ""
    if fmt == "html":
        return _html(
            heading, also, rows, statuses, as_of, templates, others if brand else [], links
        )
    if fmt == "ics":
        return _ics(product.name, rows)
    header = ("DATE", "BODY", "BRAND", "EVENT", "REFERENCE", "NOTES")
    body = [
        (date_text(r), r.agency, r.brand or "", describe(r), r.reference, marks(r)) for r in rows
    ]
    legend = "~ approximate date; * no date published, date regtrack detected it"
    if fmt == "md":
        out = [f"# {_md(lines[0])}", "", *(f"_{_md(line)}_" for line in lines[1:])]
        out += [f"**Status:** {_md(status)}", ""] if status else []
        out += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(_md(c) for c in row) + " |" for row in body]
        out += ["", f"_{legend}_", "", "## Evidence", ""]
        out += [
            f"- {r.event_date or '-'} {r.agency} {_md(describe(r))}: {_md(r.evidence)} "
            f"([source](<{_link(r.link or r.source_url)}>))"
            for r in rows
        ]
        return "\n".join(out)
    title = "\n".join([*lines, *status_lines(statuses)])
    if not rows:
        return f"{title}\nno events recorded"
    shown = [
        tuple(_cut(c, WIDTHS.get(h)) for c, h in zip(row, header, strict=True)) for row in body
    ]
    return f"{title}\n\n{table(header, shown)}\n\n{legend}"


def _switch(row: EventRow) -> bool:
    """An event the HTML timeline marks: a conversion to full authorisation, or an HTA stage
    reversing the one before it (draft not recommended, final draft recommended)."""
    return row.kind == EventKind.CONVERSION_TO_FULL or bool(row.details.get("reverses"))


def _cut(text: str, width: int | None) -> str:
    return text if width is None or len(text) <= width else text[: width - 1] + "…"


def _link(url: str) -> str:
    """A link target Markdown cannot be broken out of."""
    return url.replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")


def _twice(dated: Sequence[tuple[EventRow, dt.date]]) -> set[tuple[str, dt.date]]:
    """The (body, day)s with more than one event."""
    counts: dict[tuple[str, dt.date], int] = {}
    for r, day in dated:
        counts[(r.agency, day)] = counts.get((r.agency, day), 0) + 1
    return {key for key, n in counts.items() if n > 1}


def _html(
    product: str,
    names: list[str],
    rows: Sequence[EventRow],
    statuses: dict[str, Any],
    as_of: dt.date | None,
    templates: str | Path | None = None,
    other_brands: Sequence[str] = (),
    links: Sequence[tuple[str, str]] = (),
) -> str:
    """A self-contained page: status, a swimlane per body drawn as inline SVG (scaled to the
    page's width, a legend of bodies and kinds, empty lanes saying so), the events."""
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

    polled = {r.agency for r in rows}
    lanes: list[dict[str, Any]] = [
        {
            "name": b,
            "y": 10 + i * lane_height,
            "fill": LANE_FILLS[i % 2],
            "empty": None if b in polled else "no events recorded",
        }
        for i, b in enumerate(BODIES)
    ]
    lane_y = {str(lane["name"]): lane["y"] + lane_height / 2 for lane in lanes}
    # Events of one body on one day stand one above the other in its lane, not on one another.
    shared = _twice(dated)
    seen: dict[tuple[str, dt.date], int] = {}
    dots = []
    for r, day in dated:
        n = seen[(r.agency, day)] = seen.get((r.agency, day), -1) + 1
        shift = (-10 if n % 2 == 0 else 10) if (r.agency, day) in shared else 0
        dots.append(
            {
                "x": x(day) + 6 * (n // 2),
                "y": lane_y[r.agency] + shift,
                "color": LANE_COLORS[r.agency],
                "switch": _switch(r),
                "title": f"{date_text(r)} {r.agency}: {describe(r)} ({r.reference})",
            }
        )
    # The closing boundary has a line but no label: a label there would run off the page.
    ticks = [
        {"x": x(dt.date(y, 1, 1)), "label": str(y) if y < end.year else ""}
        for y in range(start.year, end.year + 1)
    ]
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
            "brand": r.brand or "",
            "kind": describe(r),
            "reference": r.reference,
            "marks": marks(r),
            "evidence": r.evidence,
            "url": r.link or r.source_url,
            "switch": _switch(r),
        }
        for r in rows
    ]
    return str(
        env.get_template("timeline.html").render(
            product=product,
            aliases=", ".join(names),
            other_brands=", ".join(other_brands),
            links=list(links),
            legend=[(b, LANE_COLORS[b]) for b in BODIES],
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
        entry.add("url", row.link or row.source_url)
        if row.kind == EventKind.EXPECTED_DATE:
            entry.add("status", "TENTATIVE")
        calendar.add_component(entry)
    return str(calendar.to_ical().decode())


def _md(text: str) -> str:
    """Text as Markdown shows it literally: markup characters escaped, one line."""
    for char in "\\`*_[]<>#|":
        text = text.replace(char, "\\" + char)
    return text.replace("\n", " ")
