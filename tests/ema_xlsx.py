"""Write EMA medicines reports in the real XLSX layout from this project's JSON fixtures.

The real report: sheet "Medicine", the generation stamp in row 1, the header on row 9,
data below. JSON fixtures carry the same columns in snake_case.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import openpyxl

HEADERS = [
    "Category", "Name of medicine", "EMA product number", "Medicine status", "Opinion status",
    "Latest procedure affecting product information",
    "International non-proprietary name (INN) / common name", "Active substance",
    "Therapeutic area (MeSH)", "Species\n(veterinary)", "Patient safety", "ATC code (human)",
    "ATCvet code (veterinary)", "Pharmacotherapeutic group\n(human)",
    "Pharmacotherapeutic group\n(veterinary)", "Therapeutic indication",
    "Accelerated assessment", "Additional monitoring", "Advanced therapy", "Biosimilar",
    "Conditional approval", "Exceptional circumstances", "Generic or hybrid", "Orphan medicine",
    "PRIME: priority medicine", "Marketing authorisation developer / applicant / holder",
    "European Commission decision date", "Start of rolling review date",
    "Start of evaluation date", "Opinion adopted date", "Withdrawal of application date",
    "Marketing authorisation date", "Refusal of marketing authorisation date",
    "Withdrawal / expiry / revocation / lapse of marketing authorisation date",
    "Suspension of marketing authorisation date", "Revision number", "First published date",
    "Last updated date", "Medicine URL",
]  # fmt: skip
VARIANTS = {
    "international_non_proprietary_name_common_name":
        "international_non_proprietary_name_inn_common_name",
    "generic": "generic_or_hybrid",
}  # fmt: skip


def snake(header: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", header.lower()).strip("_")


def load_rows(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = data["data"] if isinstance(data, dict) else data
    return [{VARIANTS.get(k, k): v for k, v in row.items()} for row in rows]


def write_xlsx(
    rows: list[dict[str, Any]],
    path: Path,
    generated: dt.datetime,
    headers: list[str] = HEADERS,
) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Medicine"
    sheet.append(["Content type:", "Medicine",
                  "Output automatically generated from content on www.ema.europa.eu on:",
                  generated.strftime("%d/%m/%Y - %H:%M")])  # fmt: skip
    for _ in range(7):
        sheet.append([])
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(snake(h)) for h in headers])
    book.save(path)
    return path
