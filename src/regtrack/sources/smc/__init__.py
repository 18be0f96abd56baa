"""SMC: medicines advice (listing JSON or HTML, and advice pages), keyed on the SMC ID."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any, ClassVar

from ...config import Config, SMCConfig
from ...fetch import Document
from ...model import Agency, NameKind, Observation, ParseResult, ProductName
from ...names import normalise
from ..base import Schedule, Source
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

    def schedules(self) -> list[Schedule]:
        """Advice is published on the second Monday of the month: daily that week (10:30,
        London), on Mondays otherwise."""
        skip = _not_publication_week if self.settings.publication_week_only else None
        return [
            Schedule("smc", cron={"hour": 10, "minute": 30}, timezone="Europe/London",
                     skip=skip, skip_reason="not the publication week")
        ]  # fmt: skip

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


def _not_publication_week(now: dt.datetime) -> bool:
    day = now.date()
    first = day.replace(day=1)
    second_monday = first + dt.timedelta(days=(7 - first.weekday()) % 7 + 7)
    in_week = second_monday <= day < second_monday + dt.timedelta(days=7)
    return not in_week and day.weekday() != 0
