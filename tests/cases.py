"""Cases as data: every recorded input under tests/data/<body>/ beside its
`<case>.expected.json`: what the source reads from it alone (document kind, records, the names
and history events of each) or the shape error it must raise. `python -m tests.cases --write`
writes the expected files anew from the parsers, for review in the diff; the test compares.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from regtrack import sources
from regtrack.config import Config, EMAConfig, FDAConfig, SourcesConfig
from regtrack.errors import ShapeError
from regtrack.fetch import Document

DATA = Path(__file__).parent / "data"
BODIES = ("ema", "fda", "mhra", "nice", "smc")
#: Inputs whose .expected.json says something else (the news a second document brings).
OTHER = {"report_2024-11-21", "report_2026-01-29_late", "release_2025-03-04", "release_2025-06-03"}
CONFIG = Config(
    sources=SourcesConfig(
        ema=EMAConfig(min_rows=5, max_vanished_fraction=0.2), fda=FDAConfig(min_applications=1)
    )
)
WHEN = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
#: The details that say what an event means (the rest is evidence for people).
DETAILS = ("outcome", "conditional", "accelerated", "exceptional", "procedure", "reason",
           "inferred", "status", "stage", "closes", "route", "qualifier", "area")  # fmt: skip


def inputs() -> list[Path]:
    """Every recorded input: a file, or a folder (a release's tables, zipped as the body
    publishes them), each one case."""
    return sorted(
        p
        for body in BODIES
        for p in (DATA / body).iterdir()
        if not p.name.endswith(".expected.json") and p.stem not in OTHER
    )


def content_of(path: Path) -> bytes:
    """A file's bytes; a folder's files as the zip its body publishes, dated by the folder's
    name (`release_2024-06-04`)."""
    if path.is_file():
        return path.read_bytes()
    from .fda_zip import build

    released = dt.date.fromisoformat(path.name.rsplit("_", 1)[-1])
    return build(sorted(f for f in path.iterdir() if f.is_file()), released)


def expected_path(path: Path) -> Path:
    name = path.name if path.is_dir() else path.stem
    return path.with_name(f"{name}.expected.json")


def read(path: Path) -> dict[str, Any]:
    """What the source of the input's folder reads from it, as data."""
    source = sources.get(path.parent.name, CONFIG)
    content = content_of(path)
    kind = source.sniff(content)
    if kind is None:
        return {"error": "not a document this source reads"}
    url = source.replay_url(kind)
    document = Document(source.name, url, content, WHEN, replayed_from=path.name, kind=kind)
    try:
        result = source.parse(document)
    except ShapeError as err:
        return {"error": str(err)}
    records = []
    for obs in result.observations:
        events = [
            {"kind": d.kind.value, "reference": d.reference, "key": d.key,
             "event_date": d.event_date.isoformat() if d.event_date else None,
             "date_kind": d.date_kind.value, "approximate": d.date_approximate,
             "details": {k: d.details[k] for k in DETAILS if k in d.details}}
            for d in source.history(obs, result)
        ]  # fmt: skip
        records.append(
            {
                "reference": obs.reference,
                "names": sorted({n.name for n in obs.names}),
                "history": events,
            }
        )
    links = [
        {"url": link.url, "kind": link.kind, "reference": link.reference, "always": link.always}
        for link in result.links
    ]
    return {"document_kind": result.document_kind, "complete": result.complete,
            "records": records, "links": links}  # fmt: skip


if __name__ == "__main__" and "--write" in sys.argv:
    for case in inputs():
        expected_path(case).write_text(
            json.dumps(read(case), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        print(f"wrote {expected_path(case).relative_to(DATA)}")
