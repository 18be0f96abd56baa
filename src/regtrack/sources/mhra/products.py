"""products.mhra.gov.uk search index: the SmPCs of tracked products, and whether their text
says "conditional marketing authorisation". Pure.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from ...errors import ShapeError
from ..pages import json_list, load_json

PHRASE = re.compile(r"conditional\s+marketing\s+authori[sz]ation", re.IGNORECASE)
FILTER = "doc_type eq 'Spc'"
SELECT = ",".join([
    "product_name", "substance_name", "created", "doc_type", "metadata_storage_path",
    "metadata_storage_name", "pl_number", "title", "content",
])  # fmt: skip


def query_url(base: str, name: str) -> str:
    """An index query for one product's SmPCs, by product or substance name."""
    return (
        f"{base}?api-version=2017-11-11&search={quote(name)}"
        f"&searchFields=product_name,substance_name&$filter={quote(FILTER)}"
        f"&$select={SELECT}&$top=20"
    )


def read(content: bytes) -> list[dict[str, Any]]:
    what = "MHRA products index response"
    values = json_list(load_json(content, what), "value", what)
    # Without 'doc_type' every document would be skipped as "not an SmPC": a changed shape.
    if values and not any(isinstance(d, dict) and "doc_type" in d for d in values):
        raise ShapeError(f"{what}: documents have no 'doc_type' (shape changed?)")
    out = []
    for doc in values:
        if str(doc.get("doc_type", "")).lower() != "spc":
            continue
        name = (doc.get("product_name") or doc.get("title") or "").strip()
        if not name:
            raise ShapeError("MHRA products index SmPC without a product name or title")
        text = doc.get("content")
        pl = doc.get("pl_number")
        pls = pl if isinstance(pl, list) else [pl] if pl else []
        out.append(
            {
                "record": "smpc",
                "reference": f"SmPC {name}",
                "product_name": name,
                "substances": sorted(doc.get("substance_name") or []),
                "pl_numbers": sorted(str(p) for p in pls),
                "created": (doc.get("created") or "")[:10] or None,
                # None when the index gave no text to look in.
                "conditional": bool(PHRASE.search(text)) if isinstance(text, str) else None,
                "url": doc.get("metadata_storage_path"),
            }
        )
    return out
