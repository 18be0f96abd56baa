"""`regtrack serve`: the ledger in a browser, and a JSON API (FastAPI), read-only over the same
store as the daemon. Pages are rendered on the server with jinja2 (autoescape) and run no
script; every list is filtered and paginated in SQL. Nothing here writes to the store.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import FastAPI, Query
from fastapi.responses import HTMLResponse, Response

from ..config import Config
from ..errors import ProductNotFoundError
from ..listing import event_dict
from ..store import EventRow, Store
from . import api
from .api import product_or_404
from .security import guard, users

PAGE = 100


def create_app(config: Config, store: Store) -> FastAPI:
    """The application: pages at /, /products/NAME, /events, /sources, /documents; JSON
    under /api/ with its OpenAPI description at /openapi.json."""
    from ..templating import environment

    app = FastAPI(
        title="regtrack",
        description="A dated, evidenced record of medicines regulators' and HTA bodies' decisions.",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
    )
    app.middleware("http")(guard(users(config.web.users_file)))
    env = environment("web")

    def page(name: str, **context: Any) -> HTMLResponse:
        html = env.get_template(name).render(
            generated=f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC", **context
        )
        return HTMLResponse(html)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> HTMLResponse:
        from ..briefing import briefing
        from ..reports import BODIES, current

        ids = [pid for p in config.products if (pid := _product_id(store, p.name)) is not None]
        if not ids:
            ids = store.products_at_several_bodies()[:50]
        grouped: dict[str, list[EventRow]] = {}
        for event in store.iter_events(product_ids=ids):
            grouped.setdefault(event.product, []).append(event)
        matrix = [
            (name, [str(s) if (s := current(rows, substance=name).get(b)) else "" for b in BODIES])
            for name, rows in sorted(grouped.items())
        ]
        week = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
        news = store.events(detected_after=week, backfill=False, newest_first=True, limit=500)
        return page("index.html", bodies=BODIES, matrix=matrix, **briefing(news), count=len(news))

    @app.get("/products/{name}", response_class=HTMLResponse, include_in_schema=False)
    def product(name: str) -> HTMLResponse:
        from ..reports import brand_named
        from ..timeline import render_timeline

        if name.endswith(".ics"):
            return ics(name.removesuffix(".ics"))  # type: ignore[return-value]
        found, aliases = product_or_404(store, name)
        rows = store.events(product_id=found.id)
        brand = brand_named(rows, name)
        html = render_timeline(
            found, aliases, rows, "html", templates=config.reports.templates, brand=brand,
            links=[("All products", "/"), ("Events", "/events"),
                   ("Calendar (ICS)", f"/products/{name}.ics"),
                   ("Atom feed", f"/feed.xml?product={name}")],
        )  # fmt: skip
        return HTMLResponse(html)

    def ics(name: str) -> Response:
        from ..timeline import render_timeline

        found, aliases = product_or_404(store, name)
        text = render_timeline(found, aliases, store.events(product_id=found.id), "ics")
        return Response(text, media_type="text/calendar")

    @app.get("/feed.xml", include_in_schema=False)
    def feed(product: str | None = None, agency: str | None = None) -> Response:
        from ..timeline import render_atom

        pid = product_or_404(store, product)[0].id if product else None
        rows = store.events(
            product_id=pid,
            agency=agency,
            backfill=False,
            exclude_kind="record_removed",
            newest_first=True,
            limit=200,
        )
        xml = render_atom(rows, title="regtrack: medicines decisions", self_url=None)
        return Response(xml, media_type="application/atom+xml")

    @app.get("/events", response_class=HTMLResponse, include_in_schema=False)
    def events(
        agency: str | None = None,
        kind: str | None = None,
        product: str | None = None,
        brand: str | None = None,
        since: dt.date | None = None,
        until: dt.date | None = None,
        news: str = Query("news", pattern="^(news|history|all)$"),
        page_number: int = Query(1, alias="page", ge=1, le=100_000),
    ) -> HTMLResponse:
        query = api.event_query(store, agency, kind, product, brand, since, until, news)
        rows = store.events(**query, newest_first=True, limit=PAGE + 1,
                            offset=(page_number - 1) * PAGE)  # fmt: skip
        more = len(rows) > PAGE
        filters = {"agency": agency or "", "kind": kind or "", "product": product or "",
                   "brand": brand or "", "since": since or "", "until": until or "",
                   "news": news}  # fmt: skip
        return page("events.html", rows=[_row(r) for r in rows[:PAGE]], page=page_number,
                    more=more, filters=filters)  # fmt: skip

    @app.get("/sources", response_class=HTMLResponse, include_in_schema=False)
    def sources() -> HTMLResponse:
        return page("sources.html", sources=api.sources(config, store))

    @app.get("/documents", response_class=HTMLResponse, include_in_schema=False)
    def documents() -> HTMLResponse:
        return page("documents.html", documents=api.documents(config, store))

    api.mount(app, config, store)
    return app


def _product_id(store: Store, name: str) -> int | None:
    """A tracked product's id, or None while no source has seen it yet."""
    try:
        return store.find_product(name)[0].id
    except ProductNotFoundError:
        return None


def _row(row: EventRow) -> dict[str, Any]:
    from ..listing import date_text, describe, marks

    return event_dict(row) | {"date": date_text(row), "words": describe(row), "marks": marks(row)}
