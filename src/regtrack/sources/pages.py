"""Reading web pages as their readers do: text, labelled values, dates written out in words;
and the JSON documents the sources read, with one error for one that cannot be read.

Shared by the sources; pure. Parsers built on labels and sentences survive
the redesigns that change class names, and fail loudly (ShapeError) when the labels go.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from typing import Any

from ..errors import ShapeError

_SPACES = re.compile(r"[ \t\xa0\u2007\u202f]+")
_DAY_MONTH_YEAR = re.compile(r"\b(\d{1,2})\s+([A-Z][a-z]+)\s+(\d{4})\b")
_MONTH_YEAR = re.compile(r"\b([A-Z][a-z]+)\s+(\d{4})\b")
_QUARTER = re.compile(r"\bQ([1-4])\s+(\d{4})\b")


#: Most bytes an archive (an XLSX, the Drugs@FDA zip) may unpack to, member by member and in
#: all: a 2.8 MB workbook once held 2 GiB. Python's zipfile reads no more than a member
#: declares, so the declared sizes bound what is decompressed.
MAX_UNPACKED = 400_000_000


def check_archive(content: bytes, what: str, limit: int = MAX_UNPACKED) -> None:
    """A ShapeError for an archive that would unpack to more than `limit` bytes."""
    import io
    import zipfile

    try:
        members = zipfile.ZipFile(io.BytesIO(content)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as err:
        raise ShapeError(f"{what} cannot be opened (truncated or damaged?): {err}") from err
    total = sum(m.file_size for m in members)
    if total > limit:
        big = max(members, key=lambda m: m.file_size)
        raise ShapeError(
            f"{what} would unpack to {total} bytes, over the {limit}-byte limit "
            f"(its largest member, {big.filename}, {big.file_size} bytes)"
        )


def decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return content.decode("latin-1")


def is_html(text: str) -> bool:
    return text.lstrip()[:1] == "<"


def soup(text: str) -> Any:
    from bs4 import BeautifulSoup  # deferred: only HTML sources' polls need it

    return BeautifulSoup(text, "lxml")


def load_json(content: bytes | str, what: str) -> Any:
    """A JSON document (bytes in UTF-8, with or without a BOM, or text), or a ShapeError
    naming it."""
    try:
        return json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ShapeError(f"{what} is not JSON (truncated?): {err}") from err


def json_list(data: Any, key: str, what: str) -> list[Any]:
    """The list a JSON object holds under `key`, or a ShapeError: the shape changed."""
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, list):
        raise ShapeError(f"{what} has no '{key}' list (shape changed?)")
    return value


def next_data(page: Any, where: str) -> dict[str, Any]:
    """The JSON a Next.js page carries in <script id="__NEXT_DATA__">."""
    script = page.find("script", id="__NEXT_DATA__")
    if script is None or not script.string:
        raise ShapeError(f"{where}: no <script id='__NEXT_DATA__'> (layout changed?)")
    data = load_json(script.string, f"{where}: __NEXT_DATA__")
    if not isinstance(data, dict):
        raise ShapeError(f"{where}: __NEXT_DATA__ is not a JSON object")
    return data


def lines(text_or_page: Any) -> list[str]:
    """Non-empty text lines, spaces folded; markup removed when given a parsed page."""
    if isinstance(text_or_page, str):
        text = text_or_page
    else:
        # A table row is one line, 'cell | cell', as a reader sees it (timelines are tables).
        for row in text_or_page.find_all("tr"):
            cells = [c.get_text(" ", strip=True) for c in row.find_all(["td", "th"])]
            row.replace_with("\n" + " | ".join(cells) + "\n")
        text = text_or_page.get_text("\n")
    out = []
    for raw in text.splitlines():
        line = _SPACES.sub(" ", raw).strip()
        if line:
            out.append(line)
    return out


def labelled(rows: list[str], labels: Iterable[str]) -> dict[str, str]:
    """Values of labels as pages print them: 'Label: value', 'Label | value |', a label line
    followed by its value line (bullets ignored); only then 'Label value' on one line."""
    cleaned = [re.sub(r"^[-•*]\s+", "", row).strip() for row in rows]
    found: dict[str, str] = {}
    for label in labels:
        key = label.casefold()
        for i, row in enumerate(cleaned):
            cells = [c.strip() for c in row.strip("|").split("|")]
            head = cells[0].casefold()
            if head.rstrip(":").strip() == key:
                value = (
                    cells[1] if len(cells) > 1 else (cleaned[i + 1] if i + 1 < len(cleaned) else "")
                )
            elif head.startswith(key + ":"):
                value = row[len(label) + 1 :].strip()
            else:
                continue
            if value:
                found[label] = value
                break
        else:
            # Page text without separators: 'Status In progress'.
            for row in cleaned:
                if row.casefold().startswith(key + " ") and ":" not in row[: len(label) + 2]:
                    found[label] = row[len(label) :].strip()
                    break
    return found


def day(value: Any, *formats: str, what: str, optional: bool = False) -> dt.date | None:
    """The one way a source reads a date: a date cell, or text in one of `formats`
    ('%d/%m/%Y' by default). Empty is None; anything else unreadable is a ShapeError that
    names the field (`what`), unless `optional` (text that may or may not be a date)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    formats = formats or ("%d/%m/%Y",)
    for fmt in formats:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    if optional:
        return None
    raise ShapeError(
        f"{what}: {text[:40]!r} is not a date ({' or '.join(formats or ('%d/%m/%Y',))})"
    )


def long_date(text: str | None) -> dt.date | None:
    """'13 May 2019' -> date(2019, 5, 13); None when there is no such date in the text."""
    match = _DAY_MONTH_YEAR.search(text or "")
    if not match:
        return None
    try:
        return dt.datetime.strptime(" ".join(match.groups()), "%d %B %Y").date()
    except ValueError:
        return None


def month_year(text: str | None) -> dt.date | None:
    """'January 2025' -> date(2025, 1, 1), the first month named with a year in the text."""
    for match in _MONTH_YEAR.finditer(text or ""):
        try:
            return dt.datetime.strptime(f"1 {match[1]} {match[2]}", "%d %B %Y").date()
        except ValueError:
            continue
    return None


def quarter(text: str | None) -> dt.date | None:
    """'Q2 2020' -> date(2020, 4, 1), the first day of the quarter."""
    match = _QUARTER.search(text or "")
    return dt.date(int(match[2]), 3 * int(match[1]) - 2, 1) if match else None


def iso_day(value: str | None) -> str | None:
    """'2014-07-18T12:00:00' -> '2014-07-18'."""
    return value[:10] if value and re.match(r"\d{4}-\d{2}-\d{2}", value) else None
