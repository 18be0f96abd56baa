"""`regtrack serve`: the ledger in a browser, and a JSON API (FastAPI), read-only over the same
store as the daemon. Pages are rendered on the server with jinja2 (autoescape) and run no
script; every list is filtered and paginated in SQL. Nothing here writes to the store.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import Depends, FastAPI, Query
from fastapi.responses import HTMLResponse, Response

from ..config import Config
from ..errors import ProductNotFoundError
from ..listing import event_dict
from ..store import EventFilter, EventRow, Order, Store
from . import api
from .api import download_events, product_or_404
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
        for event in store.iter_events(EventFilter(product_ids=ids)):
            grouped.setdefault(event.product, []).append(event)
        matrix = [
            (name, [(str(s), status_class(str(s))) if (s := current(rows, substance=name).get(b))
                    else ("", "") for b in BODIES])
            for name, rows in sorted(grouped.items())
        ]  # fmt: skip
        week = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
        news = store.events(
            EventFilter(detected_after=week, backfill=False), Order.NEWEST_FIRST, limit=500
        )
        return page("index.html", bodies=BODIES, matrix=matrix, **briefing(news), count=len(news),
                    legend=LEGEND)  # fmt: skip

    @app.get("/search", response_class=HTMLResponse, include_in_schema=False)
    def search(q: str = Query("", max_length=200)) -> Response:
        from fastapi.responses import RedirectResponse

        from ..names import normalise

        names = store.search_products(normalise(q), limit=50) if q.strip() else []
        if len(names) == 1:
            return RedirectResponse(f"/products/{quote(names[0])}", status_code=303)
        return page("search.html", q=q, names=names)

    @app.get("/products/{name}", response_class=HTMLResponse, include_in_schema=False)
    def product(name: str) -> HTMLResponse:
        from ..reports import brand_named
        from ..timeline import render_timeline

        if name.endswith(".ics"):
            return ics(name.removesuffix(".ics"))  # type: ignore[return-value]
        found, aliases = product_or_404(store, name)
        rows = store.events(EventFilter(product_id=found.id))
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
        text = render_timeline(
            found, aliases, store.events(EventFilter(product_id=found.id)), "ics"
        )
        return Response(text, media_type="text/calendar")

    @app.get("/feed.xml", include_in_schema=False)
    def feed(product: str | None = None, agency: str | None = None) -> Response:
        from ..atom import render_atom

        pid = product_or_404(store, product)[0].id if product else None
        rows = store.events(
            EventFilter(
                product_id=pid, agency=agency, backfill=False, exclude_kind="record_removed"
            ),
            Order.NEWEST_FIRST,
            limit=200,
        )
        xml = render_atom(rows, title="regtrack: medicines decisions", self_url=None)
        return Response(xml, media_type="application/atom+xml")

    @app.get("/events", response_class=HTMLResponse, include_in_schema=False)
    def events(
        shown: Annotated[EventParams, Depends()],
        after: str | None = Query(None, pattern=r"^\d{4}-\d{2}-\d{2}:\d{1,12}$"),
    ) -> HTMLResponse:
        from ..model import KIND_WORDS
        from ..reports import BODIES

        query = shown.query(store)
        rows = store.events(query, Order.LATEST_FIRST, limit=PAGE + 1, after=_key(after))
        more = rows[PAGE - 1] if len(rows) > PAGE else None
        return page(
            "events.html", rows=[_row(r) for r in rows[:PAGE]], filters=shown.form(),
            total=store.count_events(query), after=after,
            more=f"{_day(more).isoformat()}:{more.id}" if more else None,
            bodies=BODIES, kinds=[(k.value, w) for k, w in KIND_WORDS.items()],
        )  # fmt: skip

    @app.get("/events.{fmt}", include_in_schema=False)
    def events_file(
        fmt: Literal["csv", "xlsx"], shown: Annotated[EventParams, Depends()]
    ) -> Response:
        """The filtered list of /events as a CSV or XLSX file."""
        return download_events(store, fmt, shown.query(store))

    @app.get("/upcoming", response_class=HTMLResponse, include_in_schema=False)
    def upcoming(days: int = Query(90, ge=1, le=3650)) -> HTMLResponse:
        from ..upcoming import upcoming as coming

        today = dt.datetime.now(dt.UTC).date()
        found = [_row(r) | {"overdue": bool(r.event_date and r.event_date < today)}
                 for r in coming(store.expected_dates(), today, days)]  # fmt: skip
        return page("upcoming.html", rows=found, days=days)

    @app.get("/sources", response_class=HTMLResponse, include_in_schema=False)
    def sources() -> HTMLResponse:
        return page("sources.html", sources=api.sources(config, store))

    @app.get("/documents", response_class=HTMLResponse, include_in_schema=False)
    def documents() -> HTMLResponse:
        return page("documents.html", documents=api.documents(config, store))

    api.mount(app, config, store)
    errors(app, page)
    return app


@dataclass
class EventParams:
    """The filters of /events, as its form and its downloads take them (one declaration)."""

    agency: str | None = None
    kind: str | None = None
    product: str | None = None
    brand: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    news: str = Query("news", pattern="^(news|history|all)$")

    def query(self, store: Store) -> EventFilter:
        return api.event_query(store, self.agency, self.kind, self.product, self.brand,
                               self.since, self.until, self.news)  # fmt: skip

    def form(self) -> dict[str, Any]:
        """The values as the form shows them again ("" for none)."""
        return {k: "" if v is None else v for k, v in dataclasses.asdict(self).items()}


def errors(app: FastAPI, page: Any) -> None:
    """A page a browser asked for fails as a page ("no product known by that name; did you
    mean selinexor?"); the API answers JSON, as FastAPI does."""
    from fastapi.exception_handlers import (
        http_exception_handler,
        request_validation_exception_handler,
    )
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException
    from starlette.requests import Request

    titles = {404: "Not found", 422: "Not a valid request"}

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            answer: Response = await http_exception_handler(request, exc)
            return answer
        detail = str(exc.detail)
        near = (
            detail.split("did you mean: ", 1)[1].split(", ") if "did you mean: " in detail else []
        )
        html: Response = page(
            "error.html", status=exc.status_code, message=detail.split("; did you")[0],
            title=titles.get(exc.status_code, "Error"), suggestions=near,
        )  # fmt: skip
        html.status_code = exc.status_code
        return html

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith("/api/"):
            refused: Response = await request_validation_exception_handler(request, exc)
            return refused
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg')}"
            for e in exc.errors()
        )
        html: Response = page(
            "error.html", status=422, title=titles[422], message=problems, suggestions=[]
        )
        html.status_code = 422
        return html


#: The status colours of the front page, and the words of its legend.
LEGEND = [("st-auth", "authorised"), ("st-cond", "conditional / accelerated"),
          ("st-ended", "withdrawn, refused, suspended"), ("st-rec", "recommended"),
          ("st-notrec", "not recommended"), ("st-pending", "in progress")]  # fmt: skip


def status_class(text: str) -> str:
    """The colour of a status as the front page shows it (its first authorisation's)."""
    first = text.split(";")[0].split(" / ")[0].lower()
    for words, css in (
        (("ended", "refused", "suspended", "withdrawn"), "st-ended"),
        (("not recommended", "terminated", "only in research"), "st-notrec"),
        (("conditional", "accelerated", "tentative"), "st-cond"),
        (("recommended", "accepted", "cancer drugs fund"), "st-rec"),
        (("authorised", "authorisation", "approved", "approval"), "st-auth"),
        (("in progress", "opinion"), "st-pending"),
    ):
        if any(w in first for w in words):
            return css
    return ""


def _key(after: str | None) -> tuple[dt.date, int] | None:
    if not after:
        return None
    day, _, number = after.partition(":")
    try:
        return dt.date.fromisoformat(day), int(number)
    except ValueError:
        return None


def _day(row: EventRow) -> dt.date:
    return row.event_date or row.detected_at.date()


def _product_id(store: Store, name: str) -> int | None:
    """A tracked product's id, or None while no source has seen it yet."""
    try:
        return store.find_product(name)[0].id
    except ProductNotFoundError:
        return None


def _row(row: EventRow) -> dict[str, Any]:
    from ..listing import date_text, describe, marks

    return event_dict(row) | {"date": date_text(row), "words": describe(row), "marks": marks(row)}
