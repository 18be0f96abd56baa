"""NICE: technology appraisals (listings, search API, TA pages) and in-development projects."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, ClassVar

from ...config import Config, NICEConfig
from ...fetch import Document
from ...model import Agency, Observation, ParseResult
from ...names import normalise
from ..base import Source
from . import documents, records, rules


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
    )

    rules: ClassVar[Any] = rules

    def __init__(self, settings: NICEConfig, tracked: list[str]) -> None:
        self.settings = settings
        self.tracked = [normalise(n) for n in tracked if normalise(n)]

    @classmethod
    def from_config(cls, config: Config) -> NICE:
        return cls(config.sources.nice, config.tracked_names())

    def feeds(self) -> list[str]:
        return [f"{self.settings.base_url}{path}" for path in self.settings.listings]

    def parse(self, document: Document) -> ParseResult:
        kind, found, next_url = documents.read(
            document.content, document.url, self.settings.base_url
        )
        observations = [records.observation(r) for r in found]
        # Listings are paged and pages are single records: nothing here is a whole register.
        return ParseResult(observations, kind, None, complete=False, next_url=next_url)

    def follow(
        self, document: Document, result: ParseResult, changed: Collection[str], first_poll: bool
    ) -> list[str]:
        if result.document_kind not in ("nice-listing-page", "nice-search-api"):
            return []
        # Listings are newest first: the next page matters while this one had news.
        urls = [result.next_url] if result.next_url and (changed or first_poll) else []
        mode = self.settings.follow_pages
        for obs in result.observations:
            if mode == "none" or obs.reference not in changed or not obs.fields.get("url"):
                continue
            if (mode == "tracked" or first_poll) and not self._tracked(obs):
                continue
            urls.append(obs.fields["url"])
        return urls

    def _tracked(self, obs: Observation) -> bool:
        title = normalise(obs.fields.get("title") or "")
        return any(name in title for name in self.tracked)
