"""openFDA drug/drugsfda: query URLs for tracked products, and responses -> observations.

Pure: builds URLs and reads JSON; never fetches. A 404 "NOT_FOUND" body means no matches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from ...errors import ShapeError
from ..pages import load_json
from . import shape


def query_urls(
    base: str, applications: Iterable[str], names: Iterable[str], batch: int, limit: int
) -> list[str]:
    """OR queries of at most `batch` terms: application numbers, then brand/generic names."""
    terms = [f'application_number:"{a.strip().upper()}"' for a in applications]
    for name in names:
        term = name.strip().upper().replace('"', "")
        terms.append(f'(openfda.brand_name:"{term}"+openfda.generic_name:"{term}")')
    return [
        f"{base}?search={quote('+'.join(terms[i : i + batch]), safe=':+()')}&limit={limit}"
        for i in range(0, len(terms), batch)
    ]


def next_page(url: str, data: dict[str, Any]) -> str | None:
    """The URL of the next page, from meta.results {skip, limit, total}."""
    page = (data.get("meta") or {}).get("results") or {}
    skip, limit, total = page.get("skip", 0), page.get("limit", 0), page.get("total", 0)
    if not limit or skip + limit >= total:
        return None
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query["skip"] = str(skip + limit)
    return urlunsplit(parts._replace(query=urlencode(query, safe=':+()"')))


def load(content: bytes) -> dict[str, Any]:
    data = load_json(content, "openFDA response")
    if not isinstance(data, dict):
        raise ShapeError("openFDA response is not a JSON object")
    return data


def read(
    data: dict[str, Any],
) -> tuple[dt.datetime | None, list[dict[str, Any]], list[tuple[str, ...]]]:
    """The data's last-updated date, one fields dict per application, and brand names."""
    error = data.get("error")
    if isinstance(error, dict):
        if error.get("code") == "NOT_FOUND":
            return None, [], []
        raise ShapeError(f"openFDA error {error.get('code')}: {error.get('message')}")
    results = data.get("results")
    meta = data.get("meta")
    if not isinstance(results, list) or not isinstance(meta, dict):
        raise ShapeError("openFDA response has no 'results' list or no 'meta'")
    updated = meta.get("last_updated")
    try:
        generated = dt.datetime.fromisoformat(updated).replace(tzinfo=dt.UTC) if updated else None
    except ValueError:
        raise ShapeError(f"openFDA meta.last_updated unreadable: {updated!r}") from None
    records, brands = [], []
    for number, result in enumerate(results):
        if not isinstance(result, dict) or not result.get("application_number"):
            raise ShapeError(f"openFDA result {number} has no application_number")
        fields, names = _application(result)
        records.append(fields)
        brands.append(names)
    return generated, records, brands


def _application(result: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    code = str(result["application_number"]).strip().upper()
    appl_type = next((t for t in shape.APPLICATION_TYPES if code.startswith(t)), None)
    fields = shape.application(shape.appl_no(code), appl_type, result.get("sponsor_name"))
    for item in result.get("submissions") or []:
        key = shape.submission_key(
            item.get("submission_type", ""), str(item.get("submission_number", ""))
        )
        raw_date = item.get("submission_status_date") or ""
        date = f"{raw_date[:4]}-{raw_date[4:6]}-{raw_date[6:8]}" if len(raw_date) == 8 else None
        fields["submissions"][key] = shape.submission(
            status=item.get("submission_status") or "", date=date,
            class_code=item.get("submission_class_code"),
            class_description=item.get("submission_class_code_description"),
            priority=item.get("review_priority"), action_types=None, actions=[],
        )  # fmt: skip
    for item in result.get("products") or []:
        ingredients = "; ".join(a.get("name", "") for a in item.get("active_ingredients") or [])
        fields["products"][item.get("product_number", "")] = shape.product(
            item.get("brand_name"), ingredients, item.get("marketing_status")
        )
    openfda = result.get("openfda") or {}
    brands = openfda.get("brand_name") or []
    # A list of names, as openFDA documents it: a bare string would become one alias per
    # letter, so any other type is the response's shape gone wrong.
    if not isinstance(openfda, dict) or not (
        isinstance(brands, list) and all(isinstance(b, str) for b in brands)
    ):
        raise ShapeError(
            f"openFDA {code}: openfda.brand_name is not a list of names: {brands!r:.80}"
        )
    return fields, tuple(brands)
