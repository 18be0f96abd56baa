"""Commands that read the ledger: events, timeline, status, lag, feed. They never write."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any

import click

from ..store import EventFilter, Order
from .app import AGENCY, DATE, KIND, App, cli, pass_app

EVENT_FORMATS = ("table", "json", "jsonl", "csv", "xlsx")
TIMELINE_FORMATS = ("table", "json", "csv", "xlsx", "md", "html", "ics")


@cli.command()
@click.option("--agency", type=AGENCY, help="EMA, MHRA, FDA, NICE or SMC.")
@click.option("--product", help="Any name of the product (INN, brand, code).")
@click.option("--kind", type=KIND, help="Event kind, e.g. authorisation, conversion_to_full.")
@click.option("--since", type=DATE, help="Events on or after this date.")
@click.option(
    "--no-backfill", is_flag=True, help="Leave out history (first polls, late-published)."
)
@click.option(
    "--history", is_flag=True, help="Only history: what first polls and late publication added."
)
@click.option("--format", "fmt", type=click.Choice(EVENT_FORMATS), default="table")
@pass_app
def events(
    app: App,
    agency: str | None,
    product: str | None,
    kind: str | None,
    since: dt.datetime | None,
    no_backfill: bool,
    history: bool,
    fmt: str,
) -> None:
    """List stored events (all by default; backfill ones carry their flag). JSON lines, JSON
    and CSV are streamed: a whole register's events print in constant memory."""
    from ..listing import write_events, write_public, write_xlsx

    product_id = app.store.find_product(product)[0].id if product else None
    where = EventFilter(
        agency=agency,
        product_id=product_id,
        kind=kind.lower() if kind else None,
        since=since.date() if since else None,
        backfill=False if no_backfill else True if history else None,
    )
    if fmt in ("jsonl", "json", "csv"):
        write_public(app.store.iter_public(where), fmt, sys.stdout)
    elif fmt == "xlsx":
        write_xlsx(app.store.iter_events(where), _binary_stdout())
    else:
        write_events(app.store.iter_events(where), fmt, sys.stdout)


@cli.command()
@click.argument("product")
@click.option("--format", "fmt", type=click.Choice(TIMELINE_FORMATS), default="table")
@click.option(
    "--as-of",
    type=DATE,
    help="What was known on this date (news by detection, history by decision date).",
)
@pass_app
def timeline(app: App, product: str, fmt: str, as_of: dt.datetime | None) -> None:
    """One product's history across all bodies, by date, with its current status per body.
    PRODUCT is any of its names: a brand (Humira) shows that brand's authorisations and the
    HTA decisions on its substance; an INN (adalimumab) every authorisation, by brand."""
    from ..listing import write_xlsx
    from ..reports import as_of as known_on
    from ..reports import brand_named, for_brand
    from ..timeline import render_timeline

    found, aliases = app.store.find_product(product)
    rows = app.store.events(EventFilter(product_id=found.id))
    brand = brand_named(rows, product)
    day = as_of.date() if as_of else None
    if day is not None:
        rows = known_on(rows, day)
    if fmt == "xlsx":
        write_xlsx(for_brand(rows, brand) if brand else rows, _binary_stdout())
        return
    templates = app.config.reports.templates
    click.echo(
        render_timeline(found, aliases, rows, fmt, as_of=day, templates=templates, brand=brand)
    )


def _binary_stdout() -> Any:
    if sys.stdout.isatty():
        raise click.UsageError("xlsx is a binary format: redirect it to a file (> events.xlsx)")
    return sys.stdout.buffer


@cli.command()
@click.argument("products", nargs=-1)
@pass_app
def status(app: App, products: tuple[str, ...]) -> None:
    """Where products stand: a row per body (per authorisation), the status and its date,
    within 120 columns. Default: the config's products, else every product known to more
    than one body."""
    from ..listing import table
    from ..reports import BODIES, brand_named, current

    names = list(products) or [p.name for p in app.config.products]
    found: list[tuple[str, dict[str, Any]]] = []
    if names:
        for name in names:
            product = app.store.find_product(name)[0]
            events = app.store.events(EventFilter(product_id=product.id))
            brand = brand_named(events, name)
            label = f"{brand} ({product.name})" if brand else product.name
            found.append((label, current(events, brand=brand, substance=product.name)))
    else:
        for product_name, events in _by_product(app, None).items():
            statuses = current(events, substance=product_name)
            if len(statuses) >= 2:
                found.append((product_name, statuses))
    rows: list[tuple[str, str, str]] = []
    for label, statuses in found:
        first = True
        for body in BODIES:
            parts = [p for s in ([statuses[body]] if body in statuses else [])
                     for p in str(s).split(" / " if body in ("NICE", "SMC") else "; ")]  # fmt: skip
            for part in parts:
                rows.append((label if first else "", body, part))
                first = False
    width = max((len(r[0]) for r in rows), default=7)
    room = max(40, 120 - max(width, 7) - 2 - 4 - 2)
    cut = [(a, b, c if len(c) <= room else c[: room - 1] + "…") for a, b, c in rows]
    click.echo(table(("PRODUCT", "BODY", "STATUS"), cut))


@cli.command()
@pass_app
def lag(app: App) -> None:
    """For products known to several bodies: days from the first approval anywhere to each
    body's first decision, and the median per body."""
    from ..listing import table
    from ..reports import BODIES, lags

    found, medians = lags(_by_product(app, None))
    rows = [
        (
            lag.product,
            f"{lag.first[0]} {lag.first[1]}",
            *(f"+{lag.days[b]}" if b in lag.days else "-" for b in BODIES),
        )
        for lag in found
    ]
    rows.append(("median", "", *(f"+{medians[b]:g}" if b in medians else "-" for b in BODIES)))
    click.echo(table(("PRODUCT", "FIRST APPROVAL", *(f"{b} DAYS" for b in BODIES)), rows))


@cli.command()
@click.option("--product", help="Only this product (any of its names).")
@click.option("--agency", type=AGENCY, help="Only this body.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Newest entries kept.",
)
@click.option("--backfill", is_flag=True, help="Include history reconstructed on first polls.")
@click.option("--self-url", help="Where the feed is published (its rel=self link).")
@pass_app
def feed(
    app: App,
    product: str | None,
    agency: str | None,
    limit: int,
    backfill: bool,
    self_url: str | None,
) -> None:
    """An Atom feed of events, newest first, for people who prefer a feed reader to email."""
    from ..atom import render_atom

    product_id = app.store.find_product(product)[0].id if product else None
    shown = EventFilter(
        product_id=product_id,
        agency=agency,
        backfill=None if backfill else False,
        exclude_kind="record_removed",  # the operator's to review, not news
    )
    rows = app.store.events(shown, Order.NEWEST_FIRST, limit=limit)
    click.echo(render_atom(rows, title="regtrack: medicines decisions", self_url=self_url))


def _by_product(app: App, chosen: list[Any] | None) -> dict[str, list[Any]]:
    """Events grouped by product: of the chosen products, else of those known to several
    bodies (found in SQL, so a register's single-body products are never loaded)."""
    ids = [p.id for p in chosen] if chosen else app.store.products_at_several_bodies()
    grouped: dict[str, list[Any]] = {}
    for event in app.store.iter_events(EventFilter(product_ids=ids)):
        grouped.setdefault(event.product, []).append(event)
    return grouped


@cli.command()
@click.option("--days", type=click.IntRange(1, 3650), default=90, show_default=True,
              help="How far ahead to look.")  # fmt: skip
@click.option("--product", help="One product (any of its names).")
@pass_app
def upcoming(app: App, days: int, product: str | None) -> None:
    """What is coming: expected decision dates (an EMA opinion's Commission decision, a NICE
    publication date) still waiting for their decision, overdue ones first, then the next
    DAYS days."""
    import datetime as dt

    from ..listing import describe, table
    from ..upcoming import upcoming as coming

    product_id = app.store.find_product(product)[0].id if product else None
    today = dt.datetime.now(dt.UTC).date()
    found = coming(app.store.expected_dates(product_id), today, days)
    if not found:
        click.echo(f"nothing expected in the next {days} days")
        return
    body = [
        (
            f"{r.event_date}{'~' if r.date_approximate else ''}"
            + (" overdue" if r.event_date and r.event_date < today else ""),
            r.agency, r.product, r.brand or "", str(r.details.get("expected") or describe(r)),
            r.reference,
        )
        for r in found
    ]  # fmt: skip
    click.echo(table(("EXPECTED", "BODY", "PRODUCT", "BRAND", "WHAT", "REFERENCE"), body))
