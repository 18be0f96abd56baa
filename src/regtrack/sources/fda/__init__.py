"""FDA: the Drugs@FDA data files (whole US register) and openFDA for tracked products."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from ...config import Config, FDAConfig
from ...errors import ShapeError
from ...fetch import Document
from ...model import PARTIAL, Agency, Link, Observation, ParseResult
from ..base import Feed, Rules, Schedule, Source, head
from . import accelerated, datafiles, openfda, rules, shape

ZIP_KIND, JSON_KIND = "fda-datafiles-zip", "openfda-drugsfda-json"
ACCELERATED_PAGE = "https://www.fda.gov/drugs/nda-and-bla-approvals/accelerated-approvals"
DRUGS_AT_FDA = (
    "https://www.accessdata.fda.gov/scripts/cder/daf/index.cfm?event=overview.process&ApplNo="
)


class FDA(Source):
    name = "fda"
    agency = Agency.FDA
    body_hosts = frozenset({"www.fda.gov", "api.fda.gov", "www.accessdata.fda.gov"})
    description = (
        "Drugs@FDA data files (whole US register), openFDA drugsfda queries and CDER's "
        "accelerated approvals list (PDF)"
    )
    document_kinds = (ZIP_KIND, JSON_KIND, accelerated.KIND)

    rules: ClassVar[Rules | None] = rules

    def __init__(self, settings: FDAConfig, names: list[str]) -> None:
        self.settings: FDAConfig = settings
        self.names = names

    @classmethod
    def from_config(cls, config: Config) -> FDA:
        names = config.tracked_names()
        return cls(config.sources.fda, names)

    def feeds(self) -> list[Feed]:
        feeds = [Feed(self.settings.datafiles_url, ZIP_KIND)]
        if self.settings.accelerated_url:
            feeds.append(Feed(self.settings.accelerated_url, accelerated.KIND))
        if self.settings.openfda:
            key = self.settings.api_key
            feeds += [
                # openFDA answers "no matches" with 404 and a JSON body.
                Feed(url, JSON_KIND, "fda-openfda", (404,), {"api_key": key} if key else {})
                for url in openfda.query_urls(
                    self.settings.openfda_url, self.settings.applications, self.names,
                    self.settings.batch_size, self.settings.page_size,
                )
            ]  # fmt: skip
        return feeds

    def page_url(self, observation: Observation) -> str | None:
        """The application's page on Drugs@FDA."""
        number = str(observation.fields.get("appl_no") or observation.reference)
        return f"{DRUGS_AT_FDA}{number}" if number.isdigit() else None

    def schedules(self) -> list[Schedule]:
        """Drugs@FDA data files are released on Tuesdays (US Eastern): read on Wednesdays.
        openFDA, fresher for the tracked products, daily."""
        feeds = self.feeds()
        weekly = Schedule(
            "fda", tuple(f.url for f in feeds if f.job is None),
            cron={"day_of_week": "wed", "hour": 9}, timezone="America/New_York", gap_hours=12,
        )  # fmt: skip
        queries = tuple(f.url for f in feeds if f.job == "fda-openfda")
        if not queries:
            return [weekly]
        daily = self.settings.openfda_interval_hours
        return [weekly, Schedule("fda-openfda", queries, every_hours=daily, gap_hours=daily / 2)]

    @property
    def max_vanished_fraction(self) -> float:
        return self.settings.max_vanished_fraction

    def status_of(self, fields: Mapping[str, Any]) -> Any:
        """The marketing status of each of the application's products (a renumbered status
        lookup table changes them all at once)."""
        products = fields.get("products")
        if not isinstance(products, Mapping) or not products:
            return None
        return tuple(sorted((str(k), str(p.get("status"))) for k, p in products.items()))

    def sniff(self, content: bytes) -> str | None:
        start = head(content, 64)
        if start[:1] == b"{":
            return JSON_KIND
        if start.startswith(b"%PDF"):
            return accelerated.KIND
        return ZIP_KIND if start.startswith(b"PK\x03\x04") else None

    def replay_url(self, kind: str) -> str:
        if kind == accelerated.KIND:
            return self.settings.accelerated_url or ACCELERATED_PAGE
        return self.settings.openfda_url if kind == JSON_KIND else self.settings.datafiles_url

    def parsers(self) -> Mapping[str, Callable[[Document], ParseResult]]:
        return {ZIP_KIND: self._datafiles, JSON_KIND: self._openfda,
                accelerated.KIND: self._accelerated}  # fmt: skip

    def _accelerated(self, document: Document) -> ParseResult:
        as_of, rows = accelerated.read(document.content)
        observations = [accelerated.observation(r) for r in rows]
        return ParseResult(observations, accelerated.KIND, as_of, complete=False)

    def _datafiles(self, document: Document) -> ParseResult:
        if not document.content.startswith(b"PK\x03\x04"):
            raise ShapeError("not a zip: the Drugs@FDA data files are published as one")
        released, records = datafiles.read(document.content, self.settings.min_applications)
        observations = [shape.observation(r) for r in records]
        return ParseResult(observations, ZIP_KIND, released, complete=True)

    def _openfda(self, document: Document) -> ParseResult:
        data = openfda.load(document.content)
        updated, records, brands = openfda.read(data)
        observations = [
            shape.observation(r | {PARTIAL: True}, b) for r, b in zip(records, brands, strict=True)
        ]
        following = openfda.next_page(document.url, data)
        # A query's pages are all read, whatever the first one says.
        links = [Link(following, JSON_KIND, always=True)] if following else []
        return ParseResult(observations, JSON_KIND, updated, complete=False, links=links)
