"""The Atom feed of events (RFC 4287), as a feed reader shows it. Takes rows the store
returned; reads nothing and writes nothing itself."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from .listing import date_text, describe, late_news, marks
from .store import EventRow


def render_atom(rows: Sequence[EventRow], *, title: str, self_url: str | None = None) -> str:
    """Atom 1.0 (RFC 4287): one entry per event, dated when regtrack detected it (what a
    reader calls new), the body's own date and the evidence in its content."""
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
    if self_url:
        ET.SubElement(root, f"{{{ns}}}link", rel="self", href=self_url)
    ET.SubElement(ET.SubElement(root, f"{{{ns}}}author"), f"{{{ns}}}name").text = "regtrack"
    for row in rows:
        entry = ET.SubElement(root, f"{{{ns}}}entry")
        key = f"{row.agency}:{row.reference}:{row.discriminator}".replace(" ", "_")
        ET.SubElement(entry, f"{{{ns}}}id").text = f"urn:regtrack:event:{key}"
        brand = f" ({row.brand})" if row.brand else ""
        what = f"{row.agency} {describe(row)} ({row.reference}), {date_text(row)}"
        ET.SubElement(entry, f"{{{ns}}}title").text = f"{row.product}{brand}: {what}"
        ET.SubElement(entry, f"{{{ns}}}updated").text = row.detected_at.isoformat()
        ET.SubElement(entry, f"{{{ns}}}published").text = row.detected_at.isoformat()
        dated = f"{row.date_kind} {date_text(row)}" if row.event_date else "no date published"
        late = late_news(row)
        ET.SubElement(
            entry, f"{{{ns}}}content", type="text"
        ).text = f"{late + chr(10) if late else ''}{dated} [{marks(row)}]\n{row.evidence}"
        ET.SubElement(entry, f"{{{ns}}}link", href=row.link or row.source_url)
        ET.SubElement(entry, f"{{{ns}}}category", term=row.kind)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
