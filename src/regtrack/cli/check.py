"""`regtrack check`: is this leaflet still true? Judges a document's status claims against
the ledger, and lists what changed since it was written."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import click

from ..errors import RegtrackError
from .app import DATE, App, cli, pass_app


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
    from ..documents import text_of
    from ..fetch import Fetcher
    from ..watch import check_text, read_document

    name, content = read_document(Fetcher(app.config.fetch), document)
    result = check_text(
        app.store,
        document,
        text_of(name, content),
        [product] if product else [],
        written.date() if written else None,
    )
    click.echo(render(result, fmt, document, result.written))


def verdict_dict(v: Any) -> dict[str, Any]:
    e = v.event
    return {
        "sentence": v.sentence,
        "products": v.products,
        "agency": v.agency,
        "claim": v.claim,
        "verdict": v.verdict,
        "since": v.since.isoformat() if v.since else None,
        "history": v.history,
        "now": v.now or None,
        "reason": v.reason,
        "event": None
        if e is None
        else {
            "id": e.id,
            "kind": e.kind,
            "reference": e.reference,
            "event_date": e.event_date.isoformat() if e.event_date else None,
            "source_url": e.source_url,
            "link": e.link,
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
        said = v.claim.replace("_", " ") + (" (history)" if v.history else "")
        head = f"{v.verdict.upper():<9} {v.agency:<5} says {said}"
        if v.verdict == "outdated":
            head += f"; {v.now}" if v.now else f" since {v.since}" if v.since else ""
        lines += ["", f"- **{head}**" if md else head, f"  “{v.sentence}”"]
        if v.event is not None:
            e = v.event
            what = f"{e.agency} {describe(e)} {e.reference}, {date_text(e)}"
            lines.append(f"  {what}: {e.link or e.source_url}")
        elif v.reason:
            lines.append(f"  ({v.reason})")
    if written is not None:
        lines += ["", f"Changed since it was written ({written}) and not mentioned:"]
        lines += [
            f"  {date_text(e)}  {e.agency}  {describe(e)}  {e.reference}"
            for e in result.unmentioned
        ] or ["  nothing"]
    return "\n".join(lines)


@cli.command()
@click.option("--send", is_flag=True, help="Also compose the owners' emails (as the daemon does).")
@pass_app
def documents(app: App, send: bool) -> None:
    """The documents kept under watch ([[documents]] in the config), each checked now: its
    owner, how many claims it makes and how many are outdated."""
    from ..emails import Renderer
    from ..fetch import Fetcher
    from ..listing import table
    from ..model import utcnow
    from ..watch import check_document, loader, watch_round

    load = loader(Fetcher(app.config.fetch))
    if send:
        store = app.writer_store
        for checked in watch_round(
            app.config, store, Renderer(app.config.mail.templates), load, utcnow()
        ):
            told = len(checked.newly_outdated)
            click.echo(f"{checked.document.where}: {checked.error or f'{told} newly outdated'}")
        return
    rows = []
    for document in app.config.documents:
        try:
            found = check_document(app.store, document, load)
        except RegtrackError as err:  # one document unreadable: said, the others listed
            rows.append((document.where, document.owner, "-", "-", f"cannot check: {err}"))
            continue
        outdated = [v for v in found.verdicts if v.verdict == "outdated"]
        first = min((v.since for v in outdated if v.since), default=None)
        state = f"outdated since {first}" if first else "current"
        rows.append(
            (document.where, document.owner, str(len(found.verdicts)), str(len(outdated)), state)
        )
    click.echo(table(("DOCUMENT", "OWNER", "CLAIMS", "OUTDATED", "STATE"), rows))


@cli.command()
@click.option("--host", help="Address to bind (default [web] host: 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default [web] port: 8080).")
@pass_app
def serve(app: App, host: str | None, port: int | None) -> None:
    """The web page and JSON API, read-only over the store: the status of tracked products,
    each product's timeline, every event, the sources, the watched documents. Loopback by
    default; put a reverse proxy in front of it for others."""
    import uvicorn

    from ..web import create_app

    web = create_app(app.config, app.store)
    host, port = host or app.config.web.host, port or app.config.web.port
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"regtrack: serving http://{shown}:{port}/ (read-only; Ctrl-C stops it)", err=True)
    # An idle kept-alive connection is closed after 5 s and at most 200 are served at once
    # (more are answered 503): slow clients cannot hold the server. uvicorn has no timeout
    # for a request's headers: in front of others, a reverse proxy sets it (docs/web.md).
    uvicorn.run(web, host=host, port=port, log_level="warning", timeout_keep_alive=5,
                limit_concurrency=200)  # fmt: skip


@cli.command(name="password-hash")
def password_hash() -> None:
    """Read a password from the terminal and print `user:hash`'s hash for [web] users_file or
    REGTRACK_WEB_USERS (pbkdf2-sha256): passwords are never stored in the clear."""
    from ..web.security import hash_password

    password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    click.echo(hash_password(password))
