"""MHRA: the grants register (GOV.UK publication and its PDFs), announcements (GOV.UK Search
API) and SmPCs (products.mhra.gov.uk search index, with a key)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from ...config import Config, MHRAConfig
from ...errors import ShapeError
from ...fetch import Document
from ...model import Agency, Link, NameKind, Observation, ParseResult, ProductName
from ..base import Feed, Rules, Source, head
from . import announcements, grants, products, rules

KINDS = ("mhra-grants-publication", "mhra-grants-pdf", "mhra-announcements", "mhra-products-index")
PUBLICATION, PDF, ANNOUNCEMENTS, INDEX = KINDS


class MHRA(Source):
    name = "mhra"
    agency = Agency.MHRA
    body_hosts = frozenset(
        {"www.gov.uk", "assets.publishing.service.gov.uk", "products.mhra.gov.uk"}
    )
    description = "MHRA grants register (PDF lists), announcements and SmPC wording"
    document_kinds = KINDS
    rules: ClassVar[Rules | None] = rules

    def __init__(
        self, settings: MHRAConfig, tracked: list[str], today: dt.date | None = None
    ) -> None:
        self.settings: MHRAConfig = settings
        self.tracked = tracked
        self.today = today or dt.date.today()

    @classmethod
    def from_config(cls, config: Config) -> MHRA:
        return cls(config.sources.mhra, [p.name for p in config.products])

    def feeds(self) -> list[Feed]:
        years = {self.today.year, *self.settings.years}
        if self.today.month == 12:
            years.add(self.today.year + 1)  # next year's page appears in December
        feeds = [Feed(self.settings.grants_url.format(year=y), PUBLICATION) for y in sorted(years)]
        feeds.append(Feed(self.settings.announcements_url, ANNOUNCEMENTS))
        key = self.settings.products_key
        if key:
            feeds += [
                Feed(products.query_url(self.settings.products_url, n), INDEX,
                     params={"api-key": key})
                for n in self.tracked
            ]  # fmt: skip
        return feeds

    def skipped(self) -> list[str]:
        if self.settings.products_key or not self.tracked:
            return []
        return ["products index skipped: no query key (set REGTRACK_MHRA_PRODUCTS_KEY)"]

    def parsers(self) -> Mapping[str, Callable[[Document], ParseResult]]:
        return {PUBLICATION: self._publication, PDF: self._pdf,
                ANNOUNCEMENTS: lambda d: self._result(announcements.read(d.content), ANNOUNCEMENTS),
                INDEX: lambda d: self._result(products.read(d.content), INDEX)}  # fmt: skip

    def sniff(self, content: bytes) -> str | None:
        if content.startswith(b"%PDF"):
            return PDF
        if head(content)[:1] != b"{":
            return None
        if b'"details"' in content[:4096] or b'"attachments"' in content:
            return PUBLICATION
        return INDEX if b'"value"' in content[:4096] else ANNOUNCEMENTS

    def replay_url(self, kind: str) -> str:
        if kind == PDF:
            return "https://assets.publishing.service.gov.uk/replayed-grants.pdf"
        if kind == PUBLICATION:
            return self.settings.grants_url.format(year=self.today.year)
        return self.settings.products_url if kind == INDEX else self.settings.announcements_url

    def _publication(self, document: Document) -> ParseResult:
        """The year's publication: its PDFs, each read whenever the publication is."""
        _title, urls = grants.attachments(document.content)
        links = [Link(url, PDF, always=True) for url in urls]
        return ParseResult([], PUBLICATION, None, complete=False, links=links)

    def _pdf(self, document: Document) -> ParseResult:
        if not document.content.startswith(b"%PDF"):
            raise ShapeError("not a PDF: the grants lists are published as PDFs")
        found = grants.groups(grants.rows(document.content))
        if sum(len(g["pl_numbers"]) for g in found) < self.settings.min_rows:
            raise ShapeError(f"grants PDF has fewer than {self.settings.min_rows} rows")
        return self._result(found, PDF)

    def _result(self, found: list[dict[str, Any]], kind: str) -> ParseResult:
        observations = [
            Observation(
                r["reference"], rules.names(r) or (ProductName(r["reference"], NameKind.CODE),), r
            )
            for r in found
        ]
        return ParseResult(observations, kind, None, complete=False)
