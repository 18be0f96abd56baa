"""The one follow policy: which of the links a document names a poll reads next.

Parsers report every link they find (`ParseResult.links`), each with the kind of document it
leads to; this decides, the same way for every body:
  - more of the document itself (a next page, a publication's files) is read when the link
    says always (an API's pages) or while the document has news (a newest-first listing),
    and on a first poll;
  - a record's page is read when that record is new or changed, and on a first poll (or with
    `follow_pages = "tracked"`) only for tracked products; never with "none". A link marked
    always (an EPAR page's Union Register page) is read whenever its document is.
"""

from __future__ import annotations

from collections.abc import Collection

from .model import Link, ParseResult
from .sources.base import Source


def followed(
    source: Source, result: ParseResult, changed: Collection[str], first_poll: bool
) -> list[Link]:
    """The links of one parsed document to fetch next, in the order the document gives."""
    if not result.links:  # a register (a whole Drugs@FDA release) names none
        return []
    mode = source.follow_pages
    records = {obs.reference: obs for obs in result.observations}
    out = []
    for link in result.links:
        if link.reference is None:
            take = link.always or bool(changed) or first_poll
        elif mode == "none":
            take = False
        elif link.always:
            take = True
        else:
            record = records.get(link.reference)
            take = link.reference in changed and (
                (mode == "new" and not first_poll) or (record is not None and source.tracks(record))
            )
        if take:
            out.append(link)
    return out
