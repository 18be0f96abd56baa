"""The EMA medicines report's columns: header text, JSON key spellings, which are required."""

from __future__ import annotations

import re

# field -> the column header as the XLSX writes it. JSON keys are the same headers in
# snake_case (`snake`); KEY_VARIANTS lists the other spellings seen in the JSON twin.
COLUMNS: dict[str, str] = {
    "category": "Category",
    "name": "Name of medicine",
    "reference": "EMA product number",
    "status": "Medicine status",
    "opinion_status": "Opinion status",
    "latest_procedure": "Latest procedure affecting product information",
    "inn": "International non-proprietary name (INN) / common name",
    "active_substance": "Active substance",
    "atc": "ATC code (human)",
    "indication": "Therapeutic indication",
    "accelerated_assessment": "Accelerated assessment",
    "advanced_therapy": "Advanced therapy",
    "biosimilar": "Biosimilar",
    "conditional": "Conditional approval",
    "exceptional": "Exceptional circumstances",
    "generic": "Generic or hybrid",
    "orphan": "Orphan medicine",
    "holder": "Marketing authorisation developer / applicant / holder",
    "ec_decision_date": "European Commission decision date",
    "rolling_review_date": "Start of rolling review date",
    "opinion_date": "Opinion adopted date",
    "application_withdrawal_date": "Withdrawal of application date",
    "authorisation_date": "Marketing authorisation date",
    "refusal_date": "Refusal of marketing authorisation date",
    "withdrawal_date": "Withdrawal / expiry / revocation / lapse of marketing authorisation date",
    "suspension_date": "Suspension of marketing authorisation date",
    "revision": "Revision number",
    "url": "Medicine URL",
}
KEY_VARIANTS = {
    "international_non_proprietary_name_common_name": "inn",
    "generic": "generic",
}
#: Columns regtrack cannot work without; the rest are kept when present.
REQUIRED = (
    "category", "name", "reference", "status", "opinion_status", "latest_procedure", "inn",
    "conditional", "exceptional", "ec_decision_date", "opinion_date", "authorisation_date",
    "refusal_date", "application_withdrawal_date", "withdrawal_date", "suspension_date",
    "revision", "url",
)  # fmt: skip
FLAGS = {
    "accelerated_assessment", "advanced_therapy", "biosimilar", "conditional", "exceptional",
    "generic", "orphan",
}  # fmt: skip
DATES = {name for name in COLUMNS if name.endswith("_date")}


def snake(header: str) -> str:
    """'Pharmacotherapeutic group\\n(human)' -> 'pharmacotherapeutic_group_human'."""
    return re.sub(r"[^0-9a-z]+", "_", header.lower()).strip("_")


KEYS: dict[str, str] = {snake(h): name for name, h in COLUMNS.items()} | KEY_VARIANTS
