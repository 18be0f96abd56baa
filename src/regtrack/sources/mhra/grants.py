"""MHRA grants register: the GOV.UK yearly publication's attachments, and the PDF lists of
marketing authorisations granted, one row per strength. Pure; pdfplumber reads the PDFs.

Rows of one product granted together (same date, holder, active ingredient and name) make one
record, with every PL number.
"""

from __future__ import annotations

import io
import re
from typing import Any

from ...errors import ShapeError
from ..pages import day, load_json

COLUMNS = (
    "PL Number",
    "Grant Date",
    "MA Holder",
    "Licensed Name(s)",
    "Active Ingredient",
    "Quantity",
    "Units",
    "Legal Status",
    "Territory",
)
_PL = re.compile(r"^(PL|PLGB|PLNI|THR|PLPI)\s*\d{5}/\d{4}$")
_BRAND = re.compile(r"^(.+?)\s+\d")


def attachments(content: bytes) -> tuple[str, list[str]]:
    """(the publication's title, its PDF attachment URLs) from a GOV.UK Content API response."""
    data = load_json(content, "GOV.UK Content API response")
    details = data.get("details") if isinstance(data, dict) else None
    if not isinstance(details, dict) or not isinstance(details.get("attachments"), list):
        raise ShapeError("GOV.UK Content API response has no details.attachments list")
    urls = [
        a["url"]
        for a in details["attachments"]
        if isinstance(a, dict)
        and a.get("url")
        and (a.get("content_type") == "application/pdf" or str(a.get("url")).endswith(".pdf"))
    ]
    return str(data.get("title") or ""), urls


def rows(content: bytes) -> list[dict[str, str]]:
    """The grant rows of a PDF: header checked, every page's table read."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfplumber.utils.exceptions import PdfminerException

    try:
        with pdfplumber.open(io.BytesIO(content)) as pdf:
            tables = [t for page in pdf.pages for t in page.extract_tables()]
            text = "".join(page.extract_text() or "" for page in pdf.pages)
    except (PdfminerException, PDFPasswordIncorrect, PDFSyntaxError) as err:
        raise ShapeError(f"grants PDF cannot be read (encrypted or damaged?): {err!r}") from err
    if not text.strip():
        raise ShapeError("grants PDF has no text (a scanned image?): its rows cannot be read")
    out: list[dict[str, str]] = []
    header: list[str] | None = None
    for table in tables:
        for cells in table:
            values = [" ".join((c or "").split()) for c in cells]
            if set(COLUMNS) <= set(values):
                if tuple(values[: len(COLUMNS)]) != COLUMNS:
                    raise ShapeError(
                        f"grants PDF columns changed: {values} (expected {list(COLUMNS)})"
                    )
                header = values
                continue
            if header is None or not any(values):
                continue
            if not _PL.match(values[0]):
                raise ShapeError(f"grants PDF row without a PL number: {values}")
            out.append(dict(zip(COLUMNS, values, strict=False)))
    if header is None:
        raise ShapeError(f"grants PDF has no table headed {' | '.join(COLUMNS)}")
    return out


def groups(found: list[dict[str, str]]) -> list[dict[str, Any]]:
    """One record per product granted together: its strengths' PL numbers side by side."""
    grouped: dict[tuple[str, ...], dict[str, Any]] = {}
    for row in found:
        when = day(row["Grant Date"], what=f"grants PDF: the grant date of {row['PL Number']}")
        if when is None:
            raise ShapeError(f"grants PDF: no grant date for {row['PL Number']}")
        granted = when.isoformat()
        name = row["Licensed Name(s)"]
        brand = (_BRAND.match(name)[1] if _BRAND.match(name) else name).strip(" ,")  # type: ignore[index]
        key = (granted, row["MA Holder"], row["Active Ingredient"], brand)
        group = grouped.setdefault(
            key,
            {
                "record": "grant",
                "grant_date": granted,
                "holder": row["MA Holder"],
                "brand": brand,
                "ingredient": row["Active Ingredient"],
                "pl_numbers": [],
                "names": [],
                "territory": [],
                "legal_status": row["Legal Status"],
            },
        )
        group["pl_numbers"].append(row["PL Number"])
        group["names"].append(name)
        if row["Territory"] not in group["territory"]:
            group["territory"].append(row["Territory"])
    for group in grouped.values():
        group["pl_numbers"].sort()
        group["reference"] = group["pl_numbers"][0]
    return list(grouped.values())
