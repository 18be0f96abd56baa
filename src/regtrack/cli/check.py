"""`regtrack check`: is this leaflet still true? Judges a document's status claims against
the ledger, and lists what changed since it was written."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import click

from .app import DATE, App, cli, pass_app

#: "Date of preparation: March 2021", "Last updated 12/03/2021", "Revised: 2 May 2022".
_WRITTEN = re.compile(
    r"(?:date of (?:preparation|revision)|last (?:updated|revised)|revised|updated|written)"
    r"\s*:?\s*(\d{1,2}[/.]\d{1,2}[/.]\d{4}|\d{1,2} \w+ \d{4}|\w+ \d{4}|\d{4}-\d{2}-\d{2})",
    re.I,
)


@cli.command()
@click.argument("document")
@click.option("--product", help="The product the document is about (else found in its text).")
@click.option("--written", type=DATE, help="When it was written (else the date it states).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "md"]), default="table")
@pass_app
def check(
    app: App, document: str, product: str | None, written: dt.datetime | None, fmt: str
) -> None:
    """Check a document (PDF, HTML, DOCX, text file, or an http(s) URL) against the ledger:
    every sentence that states a regulatory or HTA status, judged current, outdated (since
    when, and by which event) or unknown; with a written date, what changed since that it
    does not mention."""
    from ..check import judge, products_in
    from ..documents import sentences, text_of

    name, content = load(app, document)
    text = text_of(name, content)
    day = written.date() if written else stated_date(text)
    if product:
        found = app.store.find_product(product)[0]
        names = app.store.alias_names(found.id)
    else:
        # Aliases of four characters or more: shorter ones ("EU", "AB") name no medicine.
        every = {n: p for n, p in app.store.alias_names().items() if len(n) >= 4}
        spoken = products_in(text, every)
        if not spoken:
            raise click.ClickException(
                f"{document}: names no product regtrack knows (say which with --product)"
            )
        names = {n: p for n, p in every.items() if p in spoken}
    result = judge(
        sentences(text),
        app.store.events(product_ids=sorted(_ids(app, names))),
        names,
        written=day,
    )
    click.echo(render(result, fmt, document, day))


def load(app: App, document: str) -> tuple[str, bytes]:
    from ..documents import read

    if document.startswith(("http://", "https://")):
        from ..fetch import Fetcher

        fetched = Fetcher(app.config.fetch).get("check", document)
        if fetched is None:
            raise click.ClickException(f"{document}: no content")
        return document, fetched.content
    return read(Path(document))


def stated_date(text: str) -> dt.date | None:
    match = _WRITTEN.search(text)
    if not match:
        return None
    value = match[1]
    for fmt in ("%d/%m/%Y", "%d.%m.%Y", "%d %B %Y", "%B %Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def _ids(app: App, names: dict[str, str]) -> set[int]:
    wanted = set(names.values())
    ids = set()
    for name in wanted:
        product = app.store.find_product(name)[0]
        if product.id is not None:
            ids.add(product.id)
    return ids


def verdict_dict(v: Any) -> dict[str, Any]:
    e = v.event
    return {
        "sentence": v.sentence,
        "products": v.products,
        "agency": v.agency,
        "claim": v.claim,
        "verdict": v.verdict,
        "since": v.since.isoformat() if v.since else None,
        "reason": v.reason,
        "event": None
        if e is None
        else {
            "id": e.id,
            "kind": e.kind,
            "reference": e.reference,
            "event_date": e.event_date.isoformat() if e.event_date else None,
            "source_url": e.source_url,
            "evidence": e.evidence,
        },
    }


def render(result: Any, fmt: str, document: str, written: dt.date | None) -> str:
    from ..listing import date_text, describe

    if fmt == "json":
        return json.dumps(
            {
                "document": document,
                "written": written.isoformat() if written else None,
                "claims": [verdict_dict(v) for v in result.verdicts],
                "changed_since_written": [
                    {"agency": e.agency, "kind": e.kind, "reference": e.reference,
                     "event_date": e.event_date.isoformat() if e.event_date else None,
                     "source_url": e.source_url}
                    for e in result.unmentioned
                ],
            },
            indent=2,
            ensure_ascii=False,
        )  # fmt: skip
    lines = []
    md = fmt == "md"
    outdated = sum(v.verdict == "outdated" for v in result.verdicts)
    title = f"{document}: {len(result.verdicts)} claims, {outdated} outdated"
    lines.append(f"# {title}" if md else title)
    for v in result.verdicts:
        since = f" since {v.since}" if v.since else ""
        head = f"{v.verdict.upper():<9} {v.agency:<5} {v.claim.replace('_', ' ')}{since}"
        lines += ["", f"- **{head}**" if md else head, f"  “{v.sentence}”"]
        if v.event is not None:
            e = v.event
            lines.append(
                f"  {e.agency} {describe(e)} {e.reference}, {date_text(e)}: {e.source_url}"
            )
        elif v.reason:
            lines.append(f"  ({v.reason})")
    if written is not None:
        lines += ["", f"Changed since it was written ({written}) and not mentioned:"]
        lines += [
            f"  {date_text(e)}  {e.agency}  {describe(e)}  {e.reference}"
            for e in result.unmentioned
        ] or ["  nothing"]
    return "\n".join(lines)
