"""FDA: the Drugs@FDA data files (whole US register) and openFDA for tracked products."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ...config import Config, FDAConfig
from ...errors import ShapeError
from ...fetch import Document
from ...model import PARTIAL, Agency, Observation, ParseResult
from ..base import Schedule, Source
from . import datafiles, openfda, rules, shape

ZIP_KIND, JSON_KIND = "fda-datafiles-zip", "openfda-drugsfda-json"
DRUGS_AT_FDA = (
    "https://www.accessdata.fda.gov/scripts/cder/daf/index.cfm?event=overview.process&ApplNo="
)


class FDA(Source):
    name = "fda"
    agency = Agency.FDA
    body_hosts = frozenset({"www.fda.gov", "api.fda.gov", "www.accessdata.fda.gov"})
    description = "Drugs@FDA data files (whole US register) and openFDA drugsfda queries"
    document_kinds = (ZIP_KIND, JSON_KIND)

    rules: ClassVar[Any] = rules

    def __init__(self, settings: FDAConfig, names: list[str]) -> None:
        self.settings = settings
        self.names = names

    @classmethod
    def from_config(cls, config: Config) -> FDA:
        names = config.tracked_names()
        return cls(config.sources.fda, names)

    def feeds(self) -> list[str]:
        urls = [self.settings.datafiles_url]
        if self.settings.openfda:
            urls += openfda.query_urls(
                self.settings.openfda_url, self.settings.applications, self.names,
                self.settings.batch_size, self.settings.page_size,
            )  # fmt: skip
        return urls

    def page_url(self, observation: Observation) -> str | None:
        """The application's page on Drugs@FDA."""
        number = str(observation.fields.get("appl_no") or observation.reference)
        return f"{DRUGS_AT_FDA}{number}" if number.isdigit() else None

    def schedules(self) -> list[Schedule]:
        """Drugs@FDA data files are released on Tuesdays (US Eastern): read on Wednesdays.
        openFDA, fresher for the tracked products, daily."""
        register, *queries = self.feeds()
        weekly = Schedule(
            "fda", (register,), cron={"day_of_week": "wed", "hour": 9},
            timezone="America/New_York", gap_hours=12,
        )  # fmt: skip
        if not queries:
            return [weekly]
        daily = self.settings.openfda_interval_hours
        return [weekly, Schedule("fda-openfda", tuple(queries), every_hours=daily,
                                 gap_hours=daily / 2)]  # fmt: skip

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

    def replay_url(self, content: bytes) -> str | None:
        head = content[:64].lstrip()
        if head[:1] == b"{":
            return self.settings.openfda_url
        return self.settings.datafiles_url if head.startswith(b"PK\x03\x04") else None

    def document_statuses(self, url: str) -> tuple[int, ...]:
        # openFDA answers "no matches" with 404 and a JSON body; the data files' 404 is a failure.
        return (404,) if url.startswith(self.settings.openfda_url) else ()

    def request_params(self, url: str) -> dict[str, str]:
        key = self.settings.api_key
        return {"api_key": key} if key and url.startswith(self.settings.openfda_url) else {}

    def parse(self, document: Document) -> ParseResult:
        head = document.content[:64].lstrip()
        if head.startswith(b"PK\x03\x04"):
            released, records = datafiles.read(document.content, self.settings.min_applications)
            observations = [shape.observation(r) for r in records]
            return ParseResult(observations, ZIP_KIND, released, complete=True)
        if head[:1] == b"{":
            data = openfda.load(document.content)
            updated, records, brands = openfda.read(data)
            observations = [
                shape.observation(r | {PARTIAL: True}, b)
                for r, b in zip(records, brands, strict=True)
            ]
            return ParseResult(
                observations, JSON_KIND, updated, complete=False,
                next_url=openfda.next_page(document.url, data),
            )  # fmt: skip
        if head[:1] == b"<":
            raise ShapeError("an HTML/XML page, not Drugs@FDA data files or an openFDA response")
        raise ShapeError("neither a Drugs@FDA zip nor an openFDA JSON response")
