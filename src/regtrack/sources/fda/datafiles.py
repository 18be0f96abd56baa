"""Drugs@FDA data files (a zip of tab-separated tables) -> one observation per application.

Pure. Handles the files' real quirks: cp1252, CRLF, literal quote characters (read with
quoting off), space-padded keys, 'YYYY-MM-DD 00:00:00' dates, empty dates, submissions whose
application row is missing, and the 2025 action-types join table present or absent.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import operator
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from ...errors import ShapeError
from ..pages import check_archive
from . import shape
from .shape import appl_no

#: table -> the columns regtrack reads from it.
REQUIRED: dict[str, tuple[str, ...]] = {
    "Applications": ("ApplNo", "ApplType", "SponsorName"),
    "Submissions": (
        "ApplNo", "SubmissionClassCodeID", "SubmissionType", "SubmissionNo",
        "SubmissionStatus", "SubmissionStatusDate", "ReviewPriority",
    ),
    "Products": ("ApplNo", "ProductNo", "DrugName", "ActiveIngredient"),
    "MarketingStatus": ("MarketingStatusID", "ApplNo", "ProductNo"),
    "SubmissionClass_Lookup": (
        "SubmissionClassCodeID", "SubmissionClassCode", "SubmissionClassCodeDescription",
    ),
    "MarketingStatus_Lookup": ("MarketingStatusID", "MarketingStatusDescription"),
}  # fmt: skip
OPTIONAL: dict[str, tuple[str, ...]] = {
    "Join_Submission_ActionTypes_Lookup": (
        "ApplNo", "SubmissionType", "SubmissionNo", "ActionTypes_LookupID",
    ),
    "ActionTypes_Lookup": ("ActionTypes_LookupID", "ActionTypes_LookupDescription"),
}  # fmt: skip


def read(content: bytes, min_applications: int) -> tuple[dt.datetime | None, list[dict[str, Any]]]:
    """The release's date (its newest member) and one fields dict per application."""
    check_archive(content, "Drugs@FDA zip")
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = {info.filename.rsplit("/", 1)[-1].lower(): info for info in archive.infolist()}
    except zipfile.BadZipFile as err:
        raise ShapeError(f"Drugs@FDA zip cannot be opened (truncated?): {err}") from err
    missing = [t for t in REQUIRED if f"{t.lower()}.txt" not in members]
    if missing:
        raise ShapeError(f"Drugs@FDA zip lacks table(s): {', '.join(missing)}")
    released = max(dt.datetime(*info.date_time, tzinfo=dt.UTC) for info in members.values())

    def table(name: str, columns: tuple[str, ...] | None = None) -> Iterator[tuple[str, ...]]:
        wanted = columns or REQUIRED.get(name) or OPTIONAL[name]
        return _rows(archive, members[f"{name.lower()}.txt"], name, wanted)

    classes = {k.strip(): (c.strip(), d.strip()) for k, c, d in table("SubmissionClass_Lookup")}
    statuses = _statuses(table("MarketingStatus_Lookup"))
    has_actions = "join_submission_actiontypes_lookup.txt" in members
    actions: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    action_names: dict[str, str] = {}
    if has_actions:
        for appl, stype, sno, action in table("Join_Submission_ActionTypes_Lookup"):
            action = action.strip()
            if action.isdigit():
                actions[(appl_no(appl), stype.strip().upper(), sno.strip())].append(int(action))
        if "actiontypes_lookup.txt" in members:
            action_names = {k.strip(): v.strip() for k, v in table("ActionTypes_Lookup")}

    apps: dict[str, dict[str, Any]] = {}
    for number, appl_type, sponsor in table("Applications"):
        key = appl_no(number)
        apps[key] = shape.application(key, appl_type, sponsor)
    if len(apps) < min_applications:
        raise ShapeError(
            f"only {len(apps)} applications (at least {min_applications} expected): "
            "a truncated or partial release"
        )

    def app(number: str) -> dict[str, Any]:
        # Submissions and products whose application row is missing are kept.
        record = apps.get(number)
        if record is None:
            record = apps[number] = shape.application(number, None, None)
        return record

    # One shared (never mutated) pair of lists per distinct set of action types: a few dozen
    # sets among 160,000 submissions, and two lists per submission were 20 MB of the peak.
    shared: dict[tuple[int, ...], tuple[list[int], list[str]]] = {}

    def typed(found: tuple[int, ...]) -> tuple[list[int], list[str]]:
        pair = shared.get(found)
        if pair is None:
            labels = [action_names.get(str(a), str(a)) for a in found]
            pair = shared[found] = (list(found), labels)
        return pair

    no_class = (None, None)
    for appl, class_id, stype, sno, status, date, priority in table("Submissions"):
        number, sno = appl_no(appl), sno.strip()
        code, description = classes.get(class_id.strip(), no_class)
        found: list[int] | None = None
        names: list[str] = []
        if has_actions:
            submitted = actions.get((number, stype.strip().upper(), sno)) or []
            found, names = typed(tuple(sorted(set(submitted))))
        app(number)["submissions"][shape.submission_key(stype, sno)] = shape.submission(
            status=status, date=_date(date, appl), class_code=code,
            class_description=description, priority=priority, action_types=found,
            actions=names,
        )  # fmt: skip
    for appl, product_no, name, ingredient in table("Products"):
        products = app(appl_no(appl))["products"]
        products[product_no.strip()] = shape.product(name, ingredient, None)
    unknown: set[str] = set()
    for status_id, appl, product_no in table("MarketingStatus"):
        products = app(appl_no(appl))["products"]
        entry = products.setdefault(product_no.strip(), shape.product(None, None, None))
        marketing = statuses.get(status_id.strip())
        if marketing is None:
            unknown.add(status_id.strip())
        entry["status"] = marketing
    if unknown:
        raise ShapeError(
            "Drugs@FDA table MarketingStatus: status id(s) not in MarketingStatus_Lookup: "
            + ", ".join(sorted(unknown)[:10])
        )
    return released, list(apps.values())


#: The marketing statuses Drugs@FDA has (MarketingStatus_Lookup, 2019 to now).
STATUS_WORDS = frozenset({"Prescription", "Over-the-counter", "Discontinued",
                          "None (Tentative Approval)"})  # fmt: skip


def _statuses(rows: Iterator[tuple[str, ...]]) -> dict[str, str]:
    """The status lookup table, checked: a word outside the known vocabulary, or no rows at
    all, is a table that changed (read as it is, it turns marketed products into "end of
    authorisation" news). A renumbering within the vocabulary is caught by detection."""
    statuses = {k.strip(): v.strip() for k, v in rows}
    if not statuses:
        raise ShapeError("Drugs@FDA table MarketingStatus_Lookup has no rows")
    odd = sorted(set(statuses.values()) - STATUS_WORDS)
    if odd:
        raise ShapeError(
            "Drugs@FDA table MarketingStatus_Lookup: unknown status(es) "
            f"{', '.join(map(repr, odd))}"
            f" (known: {', '.join(sorted(STATUS_WORDS))})"
        )
    return statuses


def _rows(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, columns: tuple[str, ...]
) -> Iterator[tuple[str, ...]]:
    """The named columns of one table, streamed; quote characters are literal text. Values
    are not stripped here (400,000 rows go through C-level map/filter): callers strip."""
    with archive.open(info) as raw:
        text = io.TextIOWrapper(raw, encoding="cp1252", newline="")
        reader = csv.reader(text, delimiter="\t", quoting=csv.QUOTE_NONE)
        try:
            header = [h.strip() for h in next(reader)]
            absent = [c for c in columns if c not in header]
            if absent:
                raise ShapeError(
                    f"Drugs@FDA table {name}: column(s) missing or renamed: {', '.join(absent)}"
                )
            pick = operator.itemgetter(*[header.index(c) for c in columns])
            yield from map(pick, filter(None, reader))
        except StopIteration:
            raise ShapeError(f"Drugs@FDA table {name} is empty (no header)") from None
        except IndexError:
            raise ShapeError(
                f"Drugs@FDA table {name}, line {reader.line_num}: fewer fields than the header"
            ) from None
        except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as err:
            raise ShapeError(f"Drugs@FDA table {name} is damaged: {err}") from err


def _date(value: str, appl: str) -> str | None:
    try:
        return _iso(value)
    except ValueError:
        raise ShapeError(
            f"Drugs@FDA table Submissions, application {appl}: bad date {value!r}"
        ) from None


@functools.lru_cache(maxsize=1 << 16)
def _iso(value: str) -> str | None:
    """'2019-07-03 00:00:00' -> '2019-07-03': a few thousand distinct values in 160,000 rows."""
    value = value.strip()
    return dt.date.fromisoformat(value[:10]).isoformat() if value else None
