"""Documents kept under watch (`[[documents]]`): checked again by the daemon, and their owner
told once, through the outbox, of each claim that has become untrue since the last check.
"Once" is the store's record of what was sent (`Notified`, keyed on the document, the
sentence and the event that made it untrue), so a restart or a second server sends nothing
again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .check import Found, judge, near_names, products_in
from .config import Config, DocumentConfig
from .documents import read, sentences, stated_date, text_of
from .emails import Renderer, outgoing, stable_id
from .errors import InputError, NoTextError, ProductNotFoundError, RegtrackError
from .fetch import Fetcher
from .model import OutgoingMessage
from .store import EventFilter, Store

#: Reads a document's bytes: (name, content) from a path or through the fetcher.
Loader = Callable[[DocumentConfig], tuple[str, bytes]]


def read_document(fetcher: Fetcher, where: str) -> tuple[str, bytes]:
    """A document's name and bytes: an http(s) URL through the one fetcher, else a path."""
    if where.startswith(("http://", "https://")):
        fetched = fetcher.get("documents", where, public_only=True)
        if fetched is None:
            raise InputError(f"{where}: no content")
        return where, fetched.content
    return read(Path(where).expanduser())


def loader(fetcher: Fetcher) -> Loader:
    """Read a watched document from its path, or its URL through the one fetcher."""
    return lambda document: read_document(fetcher, document.where)


@dataclass
class Checked:
    """One watched document as last checked."""

    document: DocumentConfig
    found: Found | None = None
    error: str | None = None
    newly_outdated: list[Any] = field(default_factory=list)


def check_text(
    store: Store, where: str, text: str, products: list[str], written: dt.date | None
) -> Found:
    """A document's claims judged against the ledger: of the `products` named, else of those
    its text names (by aliases of four characters or more: "EU" and "AB" name no medicine);
    `written`, else the date the document states. A document with no text is an error."""
    if not any(ch.isalpha() for ch in text):
        raise NoTextError(
            f"{where}: no text to check (a scanned PDF or an image holds none; an empty file)"
        )
    if products:
        names: dict[str, str] = {}
        for product in products:
            names |= store.alias_names(store.find_product(product)[0].id)
    else:
        every = {n: p for n, p in store.alias_names().items() if len(n) >= 4}
        every |= near_names(text, every)
        spoken = products_in(text, every)
        if not spoken:
            raise InputError(f"{where}: names no product regtrack knows (say which with --product)")
        names = {n: p for n, p in every.items() if p in spoken}
    ids = sorted({store.find_product(p)[0].id or 0 for p in set(names.values())})
    return judge(
        sentences(text),
        store.events(EventFilter(product_ids=ids)),
        names,
        written=written or stated_date(text),
    )


def check_document(store: Store, document: DocumentConfig, load: Loader) -> Found:
    name, content = load(document)
    return check_text(
        store, document.where, text_of(name, content), document.products, document.written
    )


def claim_rows(found: Found) -> list[dict[str, Any]]:
    """A check's claims as stored and shown (the web page's documents)."""
    return [
        {"sentence": v.sentence, "agency": v.agency, "claim": v.claim, "verdict": v.verdict,
         "since": v.since.isoformat() if v.since else None, "now": v.now}
        for v in found.verdicts
    ]  # fmt: skip


def _key(document: DocumentConfig, verdict: Any) -> str:
    digest = hashlib.sha256(
        "\x1f".join((document.where, verdict.sentence, verdict.agency, verdict.claim)).encode()
    ).hexdigest()[:24]
    return f"document:{digest}"


def watch_round(
    config: Config, store: Store, renderer: Renderer, load: Loader, now: dt.datetime
) -> list[Checked]:
    """Check every watched document; compose one email per document with its newly
    outdated claims, in the same transaction that records them as told."""
    out = []
    for document in config.documents:
        checked = Checked(document)
        try:
            checked.found = check_document(store, document, load)
        except (RegtrackError, ProductNotFoundError) as err:
            checked.error = str(err)
            with store.transaction() as tx:
                tx.record_check(document.where, now, [], checked.error)
            out.append(checked)
            continue
        outdated = [
            (v, v.event.id) for v in checked.found.verdicts if v.verdict == "outdated" and v.event
        ]
        with store.transaction() as tx:
            tx.record_check(document.where, now, claim_rows(checked.found), None)
            fresh = [v for v, eid in outdated if not tx.notified(_key(document, v), [eid])]
            checked.newly_outdated = fresh
            if fresh:
                tx.enqueue([_message(config, renderer, document, fresh)], now)
                for v, eid in outdated:
                    if v in fresh:
                        tx.record_notified(_key(document, v), [eid])
        out.append(checked)
    return out


def _message(
    config: Config, renderer: Renderer, document: DocumentConfig, verdicts: list[Any]
) -> OutgoingMessage:
    from .listing import date_text, describe

    subject = f"regtrack: {len(verdicts)} statement(s) in {document.where} no longer true"
    context = {
        "subject": subject,
        "document": document.where,
        "claims": [
            {
                "sentence": v.sentence,
                "agency": v.agency,
                "claim": v.claim.replace("_", " "),
                "since": v.since.isoformat() if v.since else "",
                "event": f"{v.event.agency} {describe(v.event)} {v.event.reference}, "
                f"{date_text(v.event)}",
                "evidence": v.event.evidence.split("\n")[-1],
                "url": v.event.link or v.event.source_url,
            }
            for v in verdicts
        ],
    }
    message_id = stable_id("document", document.where, sorted(_key(document, v) for v in verdicts))
    return outgoing(
        "document",
        renderer.message(
            "document",
            context,
            sender=config.mail.sender,
            recipient=document.owner,
            subject=subject,
            message_id=message_id,
        ),
    )
