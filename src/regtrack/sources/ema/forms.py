"""The two forms of the EMA medicines report, XLSX and JSON, read into rows of fields. Pure."""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

from ...errors import ShapeError
from ..pages import day, load_json
from .columns import COLUMNS, DATES, FLAGS, KEYS, REQUIRED, snake

#: The report's generation stamp is in the EMA's local time (Amsterdam).
EMA_TZ = ZoneInfo("Europe/Amsterdam")
_GENERATED = re.compile(r"(\d{2}/\d{2}/\d{4})\s*-\s*(\d{2}:\d{2})")

Rows = Iterable[tuple[int, dict[str, Any]]]


def xlsx_rows(content: bytes) -> tuple[dt.datetime | None, Rows]:
    import zipfile

    import openpyxl  # deferred: only a poll of the EMA report needs it

    from ..pages import check_archive

    check_archive(content, "XLSX")
    try:
        book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as err:
        raise ShapeError(f"XLSX cannot be opened (truncated or damaged?): {err}") from err
    if "Medicine" not in book.sheetnames:
        raise ShapeError(f"XLSX has no sheet 'Medicine' (sheets: {', '.join(book.sheetnames)})")
    sheet = book["Medicine"]
    top = list(sheet.iter_rows(min_row=1, max_row=20, max_col=60, values_only=True))
    generated = None
    for cell in top[0] if top else ():
        match = _GENERATED.search(str(cell or ""))
        if match:
            generated = _stamp(match)
    for offset, cells in enumerate(top):
        if "EMA product number" in cells:
            header_row = offset + 1
            header = [snake(str(c)) if c is not None else "" for c in cells]
            break
    else:
        raise ShapeError("XLSX: no header row with 'EMA product number' in the first 20 rows")
    while header and not header[-1]:
        header.pop()
    _check_columns(header, "XLSX")

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        try:
            cells_by_row = sheet.iter_rows(
                min_row=header_row + 1, max_col=len(header), values_only=True
            )
            for number, cells in enumerate(cells_by_row, start=header_row + 1):
                if any(c is not None for c in cells):
                    yield (
                        number,
                        {KEYS[h]: c for h, c in zip(header, cells, strict=False) if h in KEYS},
                    )
        except (KeyError, ValueError, OSError) as err:
            raise ShapeError(f"XLSX is damaged after row {header_row}: {err}") from err

    return generated, rows()


def json_rows(content: bytes) -> tuple[dt.datetime | None, Rows]:
    data = load_json(content, "the report's JSON")
    records = data.get("data") if isinstance(data, dict) else data
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ShapeError("JSON is neither a list of records nor {'meta': ..., 'data': [...]}")
    if records:
        _check_columns([snake(k) for k in records[0]], "JSON")
    generated = None
    meta = data.get("meta") if isinstance(data, dict) else None
    if isinstance(meta, dict):
        match = _GENERATED.search(json.dumps(meta))
        if match:
            generated = _stamp(match)
    rows = (
        (n, {KEYS[snake(k)]: v for k, v in r.items() if snake(k) in KEYS})
        for n, r in enumerate(records, start=1)
    )
    return generated, rows


def _stamp(match: re.Match[str]) -> dt.datetime:
    local = dt.datetime.strptime(" ".join(match.groups()), "%d/%m/%Y %H:%M")
    return local.replace(tzinfo=EMA_TZ)


def _check_columns(header: list[str], form: str) -> None:
    present = {KEYS[h] for h in header if h in KEYS}
    missing = [COLUMNS[name] for name in REQUIRED if name not in present]
    if missing:
        raise ShapeError(f"{form}: required column(s) missing or renamed: {'; '.join(missing)}")


_PRODUCT_NUMBER = re.compile(r"^(?:EMEA/)?([HV])/C/(\d{6})\b")


def _reference(value: str) -> tuple[str, bool]:
    """'H/C/002840/N/0049' -> 'EMEA/H/C/002840'. The real report has such slips; a value with
    no product number in it at all ('R/0023') is kept as published and flagged irregular."""
    match = _PRODUCT_NUMBER.match(value)
    if match:
        return f"EMEA/{match[1]}/C/{match[2]}", False
    return value, True


def normalise_row(row: dict[str, Any], number: int) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(value, str):
            value = html.unescape(value).replace("\xa0", " ").strip() or None
        try:
            if name in DATES:
                value = _date(value, name, number)
            elif name in FLAGS:
                value = {"Yes": True, "No": False, None: None}[value]
            elif name == "revision" and value is not None:
                value = int(value)
        except (KeyError, ValueError) as err:
            raise ShapeError(
                f"row {number}, column {COLUMNS[name]!r}: {value!r} unreadable"
            ) from err
        fields[name] = value
    if fields.get("reference"):
        fields["reference"], irregular = _reference(fields["reference"])
        if irregular:
            fields["reference_irregular"] = True
    return fields


def _date(value: Any, name: str, number: int) -> str | None:
    """'26/03/2021' (or a date cell) -> '2021-03-26'."""
    found = day(value, "%d/%m/%Y", what=f"row {number}, column {COLUMNS[name]!r}")
    return found.isoformat() if found else None
