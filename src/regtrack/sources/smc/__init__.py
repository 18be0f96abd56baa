"""SMC: medicines advice (listing JSON or HTML, and advice pages), keyed on the SMC ID; and
the monthly decisions release."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from ...config import Config, SMCConfig
from ...fetch import Document
from ...model import Agency, Link, NameKind, Observation, ParseResult, ProductName
from ...names import normalise
from ..base import Feed, Rules, Schedule, Source, head
from . import documents, releases, rules
from .documents import ADVICE, LISTING

#: Healthcare Improvement Scotland publishes SMC's monthly decisions release here.
RELEASES = (
    "https://www.healthcareimprovementscotland.scot/publications/"
    "media-release-smc-decisions-{month}-{year}/"
)


class SMC(Source):
    name = "smc"
    agency = Agency.SMC
    body_hosts = frozenset({"www.scottishmedicines.org.uk", "scottishmedicines.org.uk",
                            "www.healthcareimprovementscotland.scot"})  # fmt: skip
    description = "Scottish Medicines Consortium advice: listing, advice pages, monthly releases"
    document_kinds = ("smc-listing-json", "smc-listing-page", "smc-advice-page", releases.KIND)

    rules: ClassVar[Rules | None] = rules

    def __init__(
        self, settings: SMCConfig, tracked: list[str], today: dt.date | None = None
    ) -> None:
        self.settings: SMCConfig = settings
        self.tracked = [normalise(n) for n in tracked if normalise(n)]
        self.today = today or dt.date.today()

    @classmethod
    def from_config(cls, config: Config) -> SMC:
        return cls(config.sources.smc, config.tracked_names())

    def feeds(self) -> list[Feed]:
        feeds = [Feed(self.settings.listing_url, LISTING)]
        template = self.settings.decisions_url
        if template:
            # Last month's release must be there; this month's may not be published yet (a
            # 404 is then no document, not a failure).
            last = self.today.replace(day=1) - dt.timedelta(days=1)
            feeds.append(Feed(releases.release_url(template, last), releases.KIND))
            feeds.append(Feed(releases.release_url(template, self.today), releases.KIND,
                              statuses=(404,)))  # fmt: skip
        return feeds

    def schedules(self) -> list[Schedule]:
        """Advice is published on the second Monday of the month: daily that week (10:30,
        London), on Mondays otherwise."""
        skip = _not_publication_week if self.settings.publication_week_only else None
        return [
            Schedule("smc", cron={"hour": 10, "minute": 30}, timezone="Europe/London",
                     skip=skip, skip_reason="not the publication week")
        ]  # fmt: skip

    def parsers(self) -> Mapping[str, Callable[[Document], ParseResult]]:
        # Stored snapshots name the form they were read in.
        return {LISTING: self._listing, "smc-listing-json": self._listing,
                "smc-listing-page": self._listing, ADVICE: self._advice,
                releases.KIND: self._release}  # fmt: skip

    def sniff(self, content: bytes) -> str | None:
        start = head(content)
        if start.startswith((b"%PDF", b"PK\x03\x04")) or b"\x00" in start:
            return None
        if releases.is_release(content):
            return releases.KIND
        return documents.kind_of(content)

    def replay_url(self, kind: str) -> str:
        # An advice page is stored under the site's address.
        if kind == releases.KIND:
            return releases.release_url(self.settings.decisions_url or RELEASES, self.today)
        return self.settings.listing_url if kind == LISTING else self.settings.base_url

    def _listing(self, document: Document) -> ParseResult:
        kind, found, next_url = documents.listing(
            document.content, document.url, self.settings.base_url
        )
        observations = [self._observation(r) for r in found]
        # The listing is newest first: the next page matters while this one had news.
        links = [Link(next_url, LISTING)] if next_url else []
        links += [Link(o.fields["url"], ADVICE, o.reference) for o in observations
                  if o.fields.get("url")]  # fmt: skip
        return ParseResult(observations, kind, None, complete=False, links=links)

    def _release(self, document: Document) -> ParseResult:
        """A month's decisions release: each medicine it names (none while it is not yet
        published: this month's address answers 404 until then)."""
        if document.http_status == 404:
            return ParseResult([], releases.KIND, None, complete=False)
        published, found = releases.read(document.content, document.url)
        observations = [self._observation(r) for r in found]
        when = dt.datetime.combine(published, dt.time(), dt.UTC) if published else None
        return ParseResult(observations, releases.KIND, when, complete=False)

    def _advice(self, document: Document) -> ParseResult:
        found = documents.advice_page(document.content, document.url)
        return ParseResult([self._observation(found)], ADVICE, None, complete=False)

    def _observation(self, found: dict[str, Any]) -> Observation:
        names = rules.names(found.get("medicine"))
        return Observation(
            found["reference"], names or (ProductName(found["reference"], NameKind.CODE),), found
        )

    def tracks(self, observation: Observation) -> bool:
        medicine = normalise(observation.fields.get("medicine") or "")
        return any(name in medicine for name in self.tracked)


def _not_publication_week(now: dt.datetime) -> bool:
    day = now.date()
    first = day.replace(day=1)
    second_monday = first + dt.timedelta(days=(7 - first.weekday()) % 7 + 7)
    in_week = second_monday <= day < second_monday + dt.timedelta(days=7)
    return not in_week and day.weekday() != 0
