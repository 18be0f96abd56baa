"""EMA medicines report (the whole EU register, XLSX or JSON) -> observations and EMA events.

Pure: parses bytes it is given; never fetches, never stores. openpyxl loads only when parsing.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from ...config import Config, EMAConfig
from ...errors import ShapeError
from ...fetch import Document
from ...model import (
    Agency,
    EventDraft,
    NameKind,
    Observation,
    ParseResult,
    ProductName,
)
from ..base import Source
from . import rules
from .columns import COLUMNS, DATES, FLAGS, KEYS, REQUIRED, snake

#: The report's generation stamp is in the EMA's local time (Amsterdam).
EMA_TZ = ZoneInfo("Europe/Amsterdam")
_GENERATED = re.compile(r"(\d{2}/\d{2}/\d{4})\s*-\s*(\d{2}:\d{2})")


class EMAReport(Source):
    name = "ema"
    agency = Agency.EMA
    description = "EMA medicines report: the whole EU register (XLSX, or its JSON twin)"
    document_kinds = ("ema-medicines-report-xlsx", "ema-medicines-report-json")

    def __init__(self, settings: EMAConfig) -> None:
        self.settings = settings

    @classmethod
    def from_config(cls, config: Config) -> EMAReport:
        return cls(config.sources.ema)

    def feeds(self) -> list[str]:
        return [self.settings.url]

    @property
    def max_vanished_fraction(self) -> float:
        return self.settings.max_vanished_fraction

    # --- parsing --------------------------------------------------------------------------

    def parse(self, document: Document) -> ParseResult:
        head = document.content[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith(b"PK\x03\x04"):
            kind, generated, rows = self.document_kinds[0], *_xlsx_rows(document.content)
        elif head[:1] in (b"[", b"{"):
            kind, generated, rows = self.document_kinds[1], *_json_rows(document.content)
        elif head[:1] == b"<":
            raise ShapeError("an HTML/XML page, not the EMA medicines report (XLSX or JSON)")
        else:
            raise ShapeError("not the EMA medicines report: neither an XLSX nor a JSON document")
        observations: dict[str, Observation] = {}
        count = 0
        for number, row in rows:
            count += 1
            fields = _normalise(row, number)
            if not fields.get("reference"):
                continue
            if fields["category"] != "Human" and not self.settings.include_veterinary:
                continue
            observations.setdefault(fields["reference"], _observation(fields))
        if count < self.settings.min_rows:
            raise ShapeError(
                f"only {count} rows (at least {self.settings.min_rows} expected): "
                "a truncated or partial report"
            )
        return ParseResult(list(observations.values()), kind, generated, complete=True)

    # --- event rules (SOURCES.md, EMA) -------------------------------------------------------

    def history(self, observation: Observation, result: ParseResult) -> list[EventDraft]:
        f = observation.fields
        events = []
        if f.get("opinion_date"):
            events.append(rules.opinion(observation, result))
        if f.get("authorisation_date"):
            events.append(rules.authorisation(observation, result))
        events.extend(rules.status_events(observation, result))
        return events

    def changes(
        self, before: Mapping[str, Any], observation: Observation, result: ParseResult
    ) -> list[EventDraft]:
        after = observation.fields
        events = []
        if after.get("opinion_date") and after["opinion_date"] != before.get("opinion_date"):
            events.append(rules.opinion(observation, result))
        if after["status"] != before.get("status"):
            if after["status"] == rules.AUTHORISED:
                events.append(rules.authorisation(observation, result))
            events.extend(rules.status_events(observation, result, before))
        elif after["status"] == rules.AUTHORISED:
            if before.get("conditional") is True and after.get("conditional") is False:
                events.append(rules.conversion(before, observation, result))
            if any(before.get(k) != after.get(k) for k in rules.PROCEDURE_FIELDS):
                events.append(rules.variation(before, observation, result))
        return events


# --- reading the two forms ------------------------------------------------------------------

Rows = Iterable[tuple[int, dict[str, Any]]]


def _xlsx_rows(content: bytes) -> tuple[dt.datetime | None, Rows]:
    import zipfile

    import openpyxl  # deferred: only a poll of the EMA report needs it

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


def _json_rows(content: bytes) -> tuple[dt.datetime | None, Rows]:
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ShapeError(f"JSON cannot be read (truncated?): {err}") from err
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


def _normalise(row: dict[str, Any], number: int) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, value in row.items():
        if isinstance(value, str):
            value = html.unescape(value).replace("\xa0", " ").strip() or None
        try:
            if name in DATES:
                value = _date(value)
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


def _date(value: Any) -> str | None:
    """'26/03/2021' (or a date cell) -> '2021-03-26'."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return dt.datetime.strptime(str(value), "%d/%m/%Y").date().isoformat()


def _observation(fields: dict[str, Any]) -> Observation:
    names = [ProductName(fields["name"], NameKind.BRAND, "EU")] if fields.get("name") else []
    if fields.get("inn"):
        names.append(ProductName(fields["inn"], NameKind.INN))
    if fields.get("active_substance"):
        names.append(ProductName(fields["active_substance"], NameKind.SUBSTANCE))
    return Observation(fields["reference"], tuple(names), fields)
