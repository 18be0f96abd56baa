"""Reading events: one filter object, one order, the SQL they make, and the row shown.

`EventFilter` is the one spelling of which events a caller wants (the CLI's options, the web
page's form, an alert's window); `select_events` and `count_events` turn it into SQL, each
condition served by an index.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Select, String, and_, func, or_, type_coerce
from sqlalchemy import select as sa_select

from ..model import Event, Product


@dataclass(frozen=True, slots=True, kw_only=True)
class EventFilter:
    """Which events to read; a field left as None does not filter."""

    agency: str | None = None
    product_id: int | None = None
    product_ids: Sequence[int] | None = None
    kind: str | None = None
    exclude_kind: str | None = None
    brand: str | None = None
    #: The day an event stands at (its date, else the day it was detected) from and to.
    since: dt.date | None = None
    until: dt.date | None = None
    #: True: history only; False: news only.
    backfill: bool | None = None
    detected_by: dt.datetime | None = None
    detected_after: dt.datetime | None = None

    def conditions(self, c: Any) -> list[Any]:
        """The SQL conditions of this filter on the event table's columns `c`."""
        undated = c.event_date.is_(None)
        agency, since, until, brand = self.agency, self.since, self.until, self.brand
        conditions = [
            c.agency == agency.upper() if agency else None,
            c.product_id == self.product_id if self.product_id is not None else None,
            c.product_id.in_(self.product_ids) if self.product_ids is not None else None,
            c.kind == self.kind if self.kind else None,
            c.kind != self.exclude_kind if self.exclude_kind else None,
            # Written as two conditions so the indexes on each date serve it.
            or_(c.event_date >= since, and_(undated, c.detected_at >= _midnight(since)))
            if since
            else None,
            or_(c.event_date <= until, and_(undated, c.detected_at < _midnight(until, 1)))
            if until
            else None,
            c.backfill == self.backfill if self.backfill is not None else None,
            func.lower(c.brand) == brand.lower() if brand else None,
            c.detected_at <= self.detected_by if self.detected_by else None,
            c.detected_at > self.detected_after if self.detected_after else None,
        ]
        return [cond for cond in conditions if cond is not None]


ALL = EventFilter()


class Order(enum.Enum):
    """How events come: by the day they stand at (oldest first, then body), newest detected
    first (by id: ids grow with detection), or latest day first (the web page's list, paged
    by key)."""

    BY_DATE = "date"
    NEWEST_FIRST = "newest"
    LATEST_FIRST = "latest"


@dataclass(slots=True)
class EventRow:
    """An event as the CLI and reports show it: with its product's name. A plain slotted
    class, built from a row tuple: `events` makes 170,000 of them."""

    agency: str
    kind: str
    reference: str
    brand: str | None
    discriminator: str
    event_date: dt.date | None
    date_kind: str
    date_approximate: bool
    published_at: dt.date | None
    detected_at: dt.datetime
    source: str
    source_url: str
    link: str | None
    evidence: str
    details: dict[str, Any]
    backfill: bool
    id: int
    product_id: int
    snapshot_id: int | None
    product: str


#: The event columns an EventRow is built from, in its fields' order (its last, the name).
ROW_COLUMNS = tuple(f.name for f in dataclasses.fields(EventRow))[:-1]

#: An event as programs read it: the fields, in order, of `events --format jsonl|csv|xlsx` and
#: of the web API's events.
PUBLIC_FIELDS = (
    "id", "agency", "kind", "product", "brand", "reference", "event_date", "date_kind",
    "date_approximate", "published_at", "detected_at", "source", "source_url", "link",
    "snapshot_id", "evidence", "details", "backfill",
)  # fmt: skip
_RAW = {"event_date", "published_at", "detected_at", "details"}


def select_public(where: EventFilter, order: Order = Order.BY_DATE) -> Select[Any]:
    """A filter's events as `public` reads them: the public fields in order, dates and
    details as the database driver gives them (no type processing: a whole register's
    export spends its time writing, not converting twice)."""
    query = select_events(where, order)
    c, products = _table(Event).c, _table(Product)
    columns = [products.c.name if name == "product" else
               type_coerce(c[name], String) if name in _RAW else c[name]
               for name in PUBLIC_FIELDS]  # fmt: skip
    return query.with_only_columns(*columns, maintain_column_froms=True)


def public(row: Sequence[Any]) -> dict[str, Any]:
    """One row of `select_public` as JSON-ready data: dates in ISO 8601 (detection in UTC,
    "+00:00"), details an object, flags booleans; what `listing.event_dict` gives. (A dict
    written out: a whole register's export builds one per event.)"""
    (id_, agency, kind, product, brand, reference, event_date, date_kind, approximate,
     published_at, detected_at, source, source_url, link, snapshot_id, evidence, details,
     backfill) = row  # fmt: skip
    return {
        "id": id_, "agency": agency, "kind": kind, "product": product, "brand": brand,
        "reference": reference, "event_date": _iso(event_date), "date_kind": date_kind,
        "date_approximate": bool(approximate), "published_at": _iso(published_at),
        "detected_at": _instant(detected_at), "source": source, "source_url": source_url,
        "link": link, "snapshot_id": snapshot_id, "evidence": evidence,
        "details": orjson.loads(details) if isinstance(details, (str, bytes)) else details,
        "backfill": bool(backfill),
    }  # fmt: skip


def _iso(value: Any) -> str | None:
    """A date as SQLite stores it ('2024-05-08', already ISO) or as psycopg gives it."""
    return value if value is None or isinstance(value, str) else value.isoformat()


def _instant(value: Any) -> str:
    """A detection time in ISO 8601 with its UTC offset, as `datetime.isoformat` writes an
    aware one: SQLite's text ('2026-12-05 08:50:27.366751', UTC by convention, microseconds
    left out when none), or psycopg's datetime."""
    if isinstance(value, str):
        seconds, _, fraction = value.partition(".")
        fraction = "" if fraction.strip("0") == "" else f".{fraction}"
        return f"{seconds.replace(' ', 'T')}{fraction}+00:00"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return str(value.isoformat())


def select_events(
    where: EventFilter,
    order: Order = Order.BY_DATE,
    *,
    after: tuple[dt.date, int] | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> Select[Any]:
    """The query for a filter's events with their products' names, in `order`. `after` (the
    day and id of a page's last row, with LATEST_FIRST) starts the next page by key, not by
    OFFSET, so a deep page costs what the first does."""
    c, products = _table(Event).c, _table(Product)
    day = _day(c)
    orders = {
        Order.BY_DATE: (day, c.agency, c.id),
        Order.NEWEST_FIRST: (c.id.desc(),),
        Order.LATEST_FIRST: (day.desc(), c.id.desc()),
    }
    conditions = where.conditions(c)
    if after:
        conditions.append(or_(day < after[0], and_(day == after[0], c.id < after[1])))
    query = (
        sa_select(*(c[n] for n in ROW_COLUMNS), products.c.name)
        .join(products, products.c.id == c.product_id)
        .where(*conditions)
        .order_by(*orders[order])
    )
    if limit is not None:
        query = query.limit(limit)
    return query.offset(offset) if offset else query


def count_events(where: EventFilter) -> Select[Any]:
    """The query counting a filter's events."""
    table = _table(Event)
    return sa_select(func.count()).select_from(table).where(*where.conditions(table.c))


def _table(model: Any) -> Any:
    return model.__table__


def _day(c: Any) -> Any:
    return func.coalesce(c.event_date, func.date(c.detected_at))


def _midnight(day: dt.date, later: int = 0) -> dt.datetime:
    """The start of a day (`later` days on) in UTC, as detection times are stored; past the
    last day a date can hold (`until=9999-12-31`), the last moment there is."""
    try:
        return dt.datetime.combine(day + dt.timedelta(days=later), dt.time(), dt.UTC)
    except OverflowError:
        return dt.datetime.max.replace(tzinfo=dt.UTC)
