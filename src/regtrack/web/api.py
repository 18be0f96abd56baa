"""The JSON API under /api/: events (the fields of `events --format jsonl`), products, a
product's timeline, status and sources. Response models make its OpenAPI description exact.
Also the event list as the files /events.csv and /events.xlsx download."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel

from ..config import Config
from ..errors import ProductNotFoundError
from ..listing import PublicEvent, event_dict
from ..model import Agency, EventKind
from ..store import EventFilter, Order, Store


class AuthorisationOut(BaseModel):
    agency: str
    reference: str
    brand: str | None
    status: str
    since: dt.date | None


class TimelineOut(BaseModel):
    product: str
    brand: str | None
    aliases: list[str]
    status: dict[str, str]
    authorisations: list[AuthorisationOut]
    events: list[PublicEvent]


class SourceOut(BaseModel):
    source: str
    enabled: bool
    healthy: bool | None
    last_attempt_at: dt.datetime | None
    last_success_at: dt.datetime | None
    consecutive_failures: int
    document_generated_at: dt.datetime | None
    last_error: str | None
    notes: str | None


def product_or_404(store: Store, name: str) -> tuple[Any, list[Any]]:
    """The product any of its names finds, or a 404 that lists the near names."""
    try:
        return store.find_product(name)
    except ProductNotFoundError as err:
        raise HTTPException(status_code=404, detail=str(err)) from err


def event_query(
    store: Store,
    agency: str | None,
    kind: str | None,
    product: str | None,
    brand: str | None,
    since: dt.date | None,
    until: dt.date | None,
    news: str,
) -> EventFilter:
    from ..model import EventKind
    from ..reports import BODIES

    kinds = [k.value for k in EventKind]
    for name, value, allowed in (("agency", agency and agency.upper(), BODIES),
                                 ("kind", kind, kinds)):  # fmt: skip
        if value and value not in allowed:
            # As FastAPI says any invalid parameter: a 422 naming the valid values.
            raise RequestValidationError(
                [{"type": "enum", "loc": ("query", name), "input": value,
                  "msg": f"Input should be one of {', '.join(allowed)}"}]
            )  # fmt: skip
    return EventFilter(
        agency=agency,
        kind=kind,
        brand=brand,
        since=since,
        until=until,
        backfill={"news": False, "history": True}.get(news),
        product_id=product_or_404(store, product)[0].id if product else None,
    )


def sources(config: Config, store: Store) -> list[SourceOut]:
    from ..sources import SOURCES

    health = {h.source: h for h in store.health()}
    out = []
    for name in SOURCES:
        h = health.get(name)
        out.append(
            SourceOut(
                source=name,
                enabled=getattr(config.sources, name).enabled,
                healthy=h.healthy if h else None,
                last_attempt_at=h.last_attempt_at if h else None,
                last_success_at=h.last_success_at if h else None,
                consecutive_failures=h.consecutive_failures if h else 0,
                document_generated_at=h.document_generated_at if h else None,
                last_error=(h.last_error if h and not h.healthy else None),
                notes=h.notes if h else None,
            )
        )
    return out


def documents(config: Config, store: Store) -> list[dict[str, Any]]:
    """Each watched document as last checked by the daemon (a GET fetches nothing)."""
    with store.reading() as read:
        checks = read.document_checks()
    out = []
    for document in config.documents:
        check = checks.get(document.where)
        out.append(
            {
                "where": document.where,
                "owner": document.owner,
                "checked_at": check.checked_at if check else None,
                "error": check.error if check else None,
                "claims": check.claims if check else [],
            }
        )
    return out


def mount(app: FastAPI, config: Config, store: Store) -> None:
    missing: dict[int | str, dict[str, Any]] = {404: {"description": "No such product"}}

    @app.get("/api/events", response_model=list[PublicEvent], tags=["events"], responses=missing)
    def api_events(
        agency: Agency | None = None,  # an enum in the schema: a 422 lists the bodies
        kind: EventKind | None = None,
        product: str | None = Query(None, max_length=200),
        brand: str | None = Query(None, max_length=200),
        since: dt.date | None = None,
        until: dt.date | None = None,
        news: str = Query("all", pattern="^(news|history|all)$"),
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0, le=10_000_000),
    ) -> Response:
        """Events, newest first, with the fields of `regtrack events --format jsonl`."""
        import orjson

        query = event_query(
            store, agency and agency.value, kind and kind.value, product, brand, since, until, news
        )
        rows = store.events(query, Order.NEWEST_FIRST, limit=limit, offset=offset)
        # Written by orjson as the rows are, not validated again row by row against the
        # response model (the schema it documents, which these rows come from: PublicEvent);
        # that validation cost /api/events 2.3x a plain server returning the same bytes.
        body = orjson.dumps([event_dict(r) for r in rows])
        return Response(body, media_type="application/json")

    @app.get("/api/products", response_model=list[str], tags=["products"])
    def api_products(q: str = Query("", max_length=200)) -> list[str]:
        """Names of products one of whose names starts with `q` (case, accents and punctuation
        aside; every product without it, the first 200)."""
        from ..names import normalise

        return store.search_products(normalise(q), limit=200)

    @app.get(
        "/api/products/{name}/timeline",
        response_model=TimelineOut,
        tags=["products"],
        responses=missing,
    )
    def api_timeline(name: str) -> dict[str, Any]:
        """One product's history: by brand when `name` is one, with status per authorisation."""
        from ..reports import brand_named, current, for_brand

        found, aliases = product_or_404(store, name)
        rows = store.events(EventFilter(product_id=found.id))
        brand = brand_named(rows, name)
        statuses = current(rows, brand=brand, substance=found.name)
        shown = for_brand(rows, brand) if brand else rows
        return {
            "product": found.name,
            "brand": brand,
            "aliases": sorted({a.name for a in aliases}),
            "status": {body: str(s) for body, s in statuses.items()},
            "authorisations": [
                {"agency": a.agency, "reference": a.reference, "brand": a.brand,
                 "status": a.status.text, "since": a.status.since}
                for s in statuses.values() for a in s.authorisations
            ],
            "events": [event_dict(r) for r in shown],
        }  # fmt: skip

    @app.get(
        "/api/status",
        response_model=dict[str, dict[str, str]],
        tags=["products"],
        responses=missing,
    )
    def api_status(
        product: Annotated[list[str] | None, Query(max_length=200)] = None,
    ) -> dict[str, dict[str, str]]:
        """Status per body of the named products (default: the config's products)."""
        from ..reports import current

        out = {}
        for name in product or [p.name for p in config.products]:
            found, _ = product_or_404(store, name)
            rows = store.events(EventFilter(product_id=found.id))
            out[found.name] = {b: str(s) for b, s in current(rows, substance=found.name).items()}
        return out

    @app.get("/api/sources", response_model=list[SourceOut], tags=["sources"])
    def api_sources() -> list[SourceOut]:
        """Health of each source."""
        return sources(config, store)


def download_events(store: Store, fmt: str, query: Any) -> Response:
    """The filtered list as a file, written as the store streams it."""
    import io

    from fastapi.responses import StreamingResponse

    from ..listing import write_events, write_xlsx

    rows = store.iter_events(query, Order.LATEST_FIRST)
    if fmt == "xlsx":
        buffer = io.BytesIO()
        write_xlsx(rows, buffer)
        kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        named = {"Content-Disposition": 'attachment; filename="events.xlsx"'}
        return Response(buffer.getvalue(), media_type=kind, headers=named)

    def chunks() -> Any:
        out = io.StringIO()
        write_events(rows, "csv", out)
        yield out.getvalue()

    named = {"Content-Disposition": 'attachment; filename="events.csv"'}
    return StreamingResponse(chunks(), media_type="text/csv; charset=utf-8", headers=named)
