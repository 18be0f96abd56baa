"""EMA's monthly list of medicines under evaluation by the CHMP (Excel, since February 2021)
-> one record per substance and therapeutic area, and an `under_evaluation` event when one
first appears. Pure; openpyxl loads only when parsing.

The list names the INN (for generics and biosimilars only the active moiety) and the
therapeutic area of each application under evaluation; since January 2025 a summary of the
indication applied for. It names no product number: its records are keyed
"CHMP evaluation: <inn> (<area>)", and a substance leaving the list (an opinion, or an
application withdrawn) is the register's news, not this list's: the list is read as partial,
so nothing it stops naming is "removed". Its headers are found by their words, not their
places (they are not documented); a list with neither an INN nor a therapeutic-area column is
a health failure.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

from ...errors import ShapeError
from ...model import PARTIAL, DateKind, EventDraft, EventKind, NameKind, Observation, ProductName
from .. import pages

KIND = "ema-under-evaluation-xlsx"
#: Where EMA links each month's list from.
PAGE = "https://www.ema.europa.eu/en/find-medicine/human-medicines/medicines-under-evaluation"
#: Each column by the words of its heading (first match wins).
HEADINGS = {
    "inn": re.compile(r"\bINN\b|non-proprietary name|common name|active substance", re.I),
    "area": re.compile(r"therapeutic area", re.I),
    "indication": re.compile(r"indication", re.I),
    "kind": re.compile(r"\btype\b|\bcategory\b|generic|biosimilar|orphan", re.I),
}


def is_list(content: bytes) -> bool:
    """Whether an XLSX is this list (its title says "under evaluation"), not the medicines
    report (which has "EMA product number"): the start of its strings, read bounded."""
    import zipfile

    seen = b""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            for name in ("xl/sharedStrings.xml", "xl/worksheets/sheet1.xml"):
                if name in names:
                    with archive.open(name) as member:
                        seen += member.read(256 << 10)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return False
    seen = seen.lower()
    return b"ema product number" not in seen and b"under evaluation" in seen


def read(content: bytes) -> tuple[dt.datetime | None, list[dict[str, Any]]]:
    """The list's month (from its title, "… under evaluation … January 2025") and its rows."""
    import zipfile

    import openpyxl

    pages.check_archive(content, "XLSX")
    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as err:
        raise ShapeError(f"XLSX cannot be opened (truncated or damaged?): {err}") from err
    sheet = book.worksheets[0]
    top = list(sheet.iter_rows(min_row=1, max_row=20, max_col=30, values_only=True))
    as_of, header = None, None
    for number, cells in enumerate(top, start=1):
        text = " ".join(str(c) for c in cells if c is not None)
        month = pages.month_year(text)
        if month and as_of is None:
            as_of = dt.datetime.combine(month, dt.time(), dt.UTC)
        columns = _columns(cells)
        if "inn" in columns and "area" in columns:
            header = number
            break
    if header is None:
        raise ShapeError(
            "medicines under evaluation: no heading row naming the INN and the therapeutic "
            "area in the first 20 rows (layout changed?)"
        )
    rows = []
    for row_cells in sheet.iter_rows(min_row=header + 1, max_col=30, values_only=True):
        row = {name: _text(row_cells[i]) for name, i in columns.items() if i < len(row_cells)}
        if row.get("inn"):
            rows.append(row)
    if not rows:
        raise ShapeError("medicines under evaluation: a heading row and no substances under it")
    return as_of, rows


def observations(rows: list[dict[str, Any]], as_of: dt.datetime | None) -> list[Observation]:
    """One record per substance and therapeutic area; its rows' indications together."""
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        inn = row["inn"].strip()
        reference = f"CHMP evaluation: {inn.lower()} ({(row.get('area') or '').strip()})"
        fields = found.setdefault(reference, {
            "record": "evaluation", "inn": inn, "area": row.get("area"), "indications": [],
            "kind": row.get("kind"), "listed": as_of.date().isoformat() if as_of else None,
            PARTIAL: True,
        })  # fmt: skip
        if row.get("indication") and row["indication"] not in fields["indications"]:
            fields["indications"].append(row["indication"])
    return [
        Observation(ref, (ProductName(f["inn"].lower(), NameKind.INN),), f)
        for ref, f in found.items()
    ]


def events(obs: Observation) -> list[EventDraft]:
    """Under evaluation since the list that first names it (dated by that list's month)."""
    f = obs.fields
    day = dt.date.fromisoformat(f["listed"]) if f.get("listed") else None
    said = "; ".join(f.get("indications") or []) or "no indication summary"
    return [
        EventDraft(
            kind=EventKind.UNDER_EVALUATION,
            reference=obs.reference,
            names=obs.names,
            event_date=day,
            date_kind=DateKind.PUBLICATION if day else DateKind.DETECTED,
            evidence=f"EMA medicines under evaluation ({f.get('listed') or 'undated list'}): "
            f"{f['inn']}, {f.get('area') or 'no therapeutic area'}: {said[:500]}",
            details={
                "area": f.get("area"),
                "kind": f.get("kind"),
                "indications": f.get("indications") or None,
            },
            date_approximate=day is not None,
            discriminator="under evaluation",
        )
    ]


def _columns(cells: tuple[Any, ...]) -> dict[str, int]:
    out: dict[str, int] = {}
    for index, cell in enumerate(cells):
        for name, pattern in HEADINGS.items():
            if name not in out and cell is not None and pattern.search(str(cell)):
                out[name] = index
                break
    return out


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).replace("\xa0", " ").strip()
    return text or None
