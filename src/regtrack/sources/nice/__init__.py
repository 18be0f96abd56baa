"""NICE: technology appraisals (listings, search API, TA pages) and in-development projects."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar

from ...config import Config, NICEConfig
from ...fetch import Document
from ...model import Agency, Link, Observation, ParseResult
from ...names import normalise
from ..base import Feed, Rules, Source, head
from . import documents, guidance, records, rules
from .documents import INDEV_JSON, INDEV_PAGE, LISTING, TA_PAGE


class NICE(Source):
    name = "nice"
    agency = Agency.NICE
    body_hosts = frozenset({"www.nice.org.uk", "api.nice.org.uk"})
    description = "NICE technology appraisals: listings, TA pages and in-development projects"
    document_kinds = (
        "nice-listing-page",
        "nice-search-api",
        "nice-ta-page",
        "nice-indev-page",
        "nice-indev-project",
        "nice-indev-projects",
        "nice-indev-page-text",
        guidance.KIND,
        guidance.DOCUMENTS,
    )

    rules: ClassVar[Rules | None] = rules
    # A tracked project's page is read whenever its listing is, changed or not.
    links_when_unchanged = frozenset({LISTING})

    def __init__(self, settings: NICEConfig, tracked: list[str]) -> None:
        self.settings: NICEConfig = settings
        self.tracked = [normalise(n) for n in tracked if normalise(n)]

    @classmethod
    def from_config(cls, config: Config) -> NICE:
        return cls(config.sources.nice, config.tracked_names())

    def feeds(self) -> list[Feed]:
        return [Feed(f"{self.settings.base_url}{path}", LISTING) for path in self.settings.listings]

    def parsers(self) -> Mapping[str, Callable[[Document], ParseResult]]:
        listing, ta, indev, api, tab = (self._reader(r) for r in (documents.listing,
            documents.ta_page, documents.indev_page, documents.indev_json,
            documents.documents_page))  # fmt: skip
        # Stored snapshots name the form they were read in.
        return {LISTING: listing, "nice-listing-page": listing, "nice-search-api": listing,
                TA_PAGE: ta, INDEV_PAGE: indev, "nice-indev-page-text": indev,
                INDEV_JSON: api, "nice-indev-project": api, "nice-indev-projects": api,
                guidance.KIND: self._guidance, guidance.DOCUMENTS: tab}  # fmt: skip

    def sniff(self, content: bytes) -> str | None:
        start = head(content)
        if start.startswith(b"%PDF"):
            return guidance.KIND  # a stage's guidance document, replayed
        if b"\x00" in start or start.startswith(b"PK\x03\x04"):
            return None
        return documents.kind_of(content, "")

    def _reader(
        self, read: Callable[[bytes, str, str], documents.Read]
    ) -> Callable[[Document], ParseResult]:
        def parse(document: Document) -> ParseResult:
            kind, found, next_url = read(document.content, document.url, self.settings.base_url)
            observations = [records.observation(r) for r in found]
            # Listings are newest first: the next page matters while this one had news.
            links = [Link(next_url, LISTING)] if next_url else []
            # A tracked project's page is read whenever its listing is: its stages (final
            # draft guidance) move while the listing's entry for it stays the same.
            links += [
                Link(o.fields["url"], page, o.reference,
                     always=page == INDEV_PAGE and self.tracks(o))
                for o in observations
                if kind in ("nice-listing-page", "nice-search-api") and o.fields.get("url")
                and (page := documents.page_kind(o.fields["url"]))
            ]  # fmt: skip
            # A project's guidance documents (draft, final draft) say what it recommends; its
            # documents tab names them when its page does not.
            # (A tab is read only when its project is new, changed or tracked, and names no
            # product itself: its documents are read whenever it is.)
            links += [Link(str(url), guidance.KIND, o.reference, always=kind == guidance.DOCUMENTS)
                      for o in observations
                      for _, url, _ in o.fields.get("guidance_documents") or []]  # fmt: skip
            links += [Link(o.fields["documents_url"], guidance.DOCUMENTS, o.reference)
                      for o in observations if o.fields.get("documents_url")]  # fmt: skip
            # Listings are paged and pages are single records: nothing here is a whole register.
            return ParseResult(observations, kind, None, complete=False, links=links)

        return parse

    def tracks(self, observation: Observation) -> bool:
        title = normalise(observation.fields.get("title") or "")
        return any(name in title for name in self.tracked)

    def _guidance(self, document: Document) -> ParseResult:
        found = guidance.read(
            document.content, document.url, self.settings.base_url, document.replayed_from
        )
        return ParseResult([records.observation(found)], guidance.KIND, None, complete=False)
