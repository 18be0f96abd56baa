"""SMC: medicines advice (listing JSON or HTML, and advice pages), keyed on the SMC ID."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, ClassVar

from ...config import Config, SMCConfig
from ...fetch import Document
from ...model import Agency, NameKind, Observation, ParseResult, ProductName
from ...names import normalise
from ..base import Source
from . import documents, rules


class SMC(Source):
    name = "smc"
    agency = Agency.SMC
    body_hosts = frozenset({"www.scottishmedicines.org.uk", "scottishmedicines.org.uk"})
    description = "Scottish Medicines Consortium advice: listing and advice pages"
    document_kinds = ("smc-listing-json", "smc-listing-page", "smc-advice-page")

    rules: ClassVar[Any] = rules

    def __init__(self, settings: SMCConfig, tracked: list[str]) -> None:
        self.settings = settings
        self.tracked = [normalise(n) for n in tracked if normalise(n)]

    @classmethod
    def from_config(cls, config: Config) -> SMC:
        return cls(config.sources.smc, config.tracked_names())

    def feeds(self) -> list[str]:
        return [self.settings.listing_url]

    def replay_url(self, content: bytes) -> str | None:
        head = content[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
        if head[:1] == b"{":
            return self.settings.listing_url
        # Advice pages and listings are read as HTML or as their text.
        return (
            None
            if head.startswith((b"%PDF", b"PK\x03\x04")) or b"\x00" in head
            else (self.settings.base_url)
        )

    def parse(self, document: Document) -> ParseResult:
        kind, found, next_url = documents.read(
            document.content, document.url, self.settings.base_url
        )
        observations = [
            Observation(
                r["reference"],
                rules.names(r.get("medicine")) or (ProductName(r["reference"], NameKind.CODE),),
                r,
            )
            for r in found
        ]
        return ParseResult(observations, kind, None, complete=False, next_url=next_url)

    def follow(
        self, document: Document, result: ParseResult, changed: Collection[str], first_poll: bool
    ) -> list[str]:
        if result.document_kind == "smc-advice-page":
            return []
        urls = [result.next_url] if result.next_url and (changed or first_poll) else []
        mode = self.settings.follow_pages
        for obs in result.observations:
            if mode == "none" or obs.reference not in changed or not obs.fields.get("url"):
                continue
            medicine = normalise(obs.fields.get("medicine") or "")
            if (mode == "tracked" or first_poll) and not any(n in medicine for n in self.tracked):
                continue
            urls.append(obs.fields["url"])
        return urls
