"""The one shape of an FDA observation, shared by the data files and openFDA.

Both forms build their records here, so the same submission reads the same whichever feed
reported it, and re-polling one after the other changes nothing.
"""

from __future__ import annotations

import functools
from typing import Any

from ...model import NameKind, Observation, ProductName
from ...names import strip_salts

APPLICATION_TYPES = ("ANDA", "BLA", "NDA")


@functools.lru_cache(maxsize=1 << 16)
def appl_no(value: str) -> str:
    """'19952', '019952' and 'NDA019952' -> '019952'."""
    if value.isdigit():  # the data files' form: the fast path for 400,000 rows
        return value.zfill(6)
    value = value.strip()
    digits = "".join(c for c in value if c.isdigit())
    return digits.zfill(6) if digits else value.strip()


def reference(number: str, appl_type: str | None) -> str:
    """'NDA212306' when the application type is known, else the bare number."""
    return f"{appl_type}{number}" if appl_type else number


def application(number: str, appl_type: str | None, sponsor: str | None) -> dict[str, Any]:
    kind = (appl_type or "").strip().upper() or None
    return {
        "reference": reference(number, kind),
        "appl_no": number,
        "appl_type": kind,
        "sponsor": (sponsor or "").strip() or None,
        "submissions": {},
        "products": {},
    }


@functools.lru_cache(maxsize=1 << 14)
def submission_key(submission_type: str, number: str) -> str:
    """'SUPPL     ', '12' -> 'SUPPL-12' (the event's discriminator too)."""
    return f"{submission_type.strip().upper()}-{int(number) if number.isdigit() else number}"


def submission(
    *,
    status: str,
    date: str | None,
    class_code: str | None,
    class_description: str | None,
    priority: str | None,
    action_types: list[int] | None,
    actions: list[str],
) -> dict[str, Any]:
    return {
        "status": _word(status),
        "date": date,
        "class": class_code or None,
        "class_description": class_description or None,
        "priority": _word(priority),
        # None: this feed does not say (openFDA, or data files before 2025).
        "action_types": action_types,
        "actions": actions or None,
    }


@functools.lru_cache(maxsize=1024)
def _word(value: str | None) -> str | None:
    """'AP ', 'standard' -> 'AP', 'STANDARD': one shared string per value, not one per row."""
    return (value or "").strip().upper() or None


def product(name: str | None, ingredient: str | None, status: str | None) -> dict[str, Any]:
    parts = sorted(p.strip() for p in (ingredient or "").split(";") if p.strip())
    return {
        "name": (name or "").strip() or None,
        "ingredient": "; ".join(parts) or None,
        "status": status,
    }


@functools.lru_cache(maxsize=1 << 16)
def _ingredient_names(ingredient: str) -> tuple[ProductName, ...]:
    text = ingredient.lower()
    bare = strip_salts(text)
    inn = ProductName(text, NameKind.INN)
    return (inn, ProductName(bare, NameKind.SUBSTANCE)) if bare and bare != text else (inn,)


@functools.lru_cache(maxsize=1 << 16)
def _brand(name: str) -> ProductName:
    return ProductName(name, NameKind.BRAND, "US")


def observation(fields: dict[str, Any], extra_names: tuple[str, ...] = ()) -> Observation:
    """Names: brand names (US), the active ingredients as published, and without their salts."""
    names: dict[str, ProductName] = {}
    for item in fields["products"].values():
        if item["ingredient"]:
            for name in _ingredient_names(item["ingredient"]):
                names.setdefault(name.name, name)
    for item in fields["products"].values():
        if item["name"]:
            names.setdefault(item["name"].lower(), _brand(item["name"]))
    for extra in extra_names:
        names.setdefault(extra.lower(), ProductName(extra, NameKind.BRAND, "US"))
    if not names:
        names["_"] = ProductName(fields["reference"], NameKind.CODE)
    return Observation(fields["appl_no"], tuple(names.values()), fields)
