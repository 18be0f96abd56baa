"""MHRA: the grants register (GOV.UK publication and its PDFs), announcements (GOV.UK Search
API) and SmPCs (products.mhra.gov.uk search index, with a key)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any, ClassVar

from ...config import Config, MHRAConfig
from ...errors import ShapeError
from ...fetch import Document
from ...model import Agency, NameKind, Observation, ParseResult, ProductName
from ..base import Source
from . import announcements, grants, products, rules

KINDS = ("mhra-grants-publication", "mhra-grants-pdf", "mhra-announcements", "mhra-products-index")


class MHRA(Source):
    name = "mhra"
    agency = Agency.MHRA
    body_hosts = frozenset(
        {"www.gov.uk", "assets.publishing.service.gov.uk", "products.mhra.gov.uk"}
    )
    description = "MHRA grants register (PDF lists), announcements and SmPC wording"
    document_kinds = KINDS
    rules: ClassVar[Any] = rules

    def __init__(
        self, settings: MHRAConfig, tracked: list[str], today: dt.date | None = None
    ) -> None:
        self.settings = settings
        self.tracked = tracked
        self.today = today or dt.date.today()

    @classmethod
    def from_config(cls, config: Config) -> MHRA:
        return cls(config.sources.mhra, [p.name for p in config.products])

    def feeds(self) -> list[str]:
        years = {self.today.year, *self.settings.years}
        if self.today.month == 12:
            years.add(self.today.year + 1)  # next year's page appears in December
        urls = [self.settings.grants_url.format(year=y) for y in sorted(years)]
        urls.append(self.settings.announcements_url)
        if self.settings.products_key:
            urls += [products.query_url(self.settings.products_url, n) for n in self.tracked]
        return urls

    def skipped(self) -> list[str]:
        if self.settings.products_key or not self.tracked:
            return []
        return ["products index skipped: no query key (set REGTRACK_MHRA_PRODUCTS_KEY)"]

    def request_params(self, url: str) -> dict[str, str]:
        key = self.settings.products_key
        return {"api-key": key} if key and url.startswith(self.settings.products_url) else {}

    def replay_url(self, content: bytes) -> str | None:
        if content.startswith(b"%PDF"):
            return "https://assets.publishing.service.gov.uk/replayed-grants.pdf"
        if content.lstrip()[:1] != b"{":
            return None
        if b'"details"' in content[:4096] or b'"attachments"' in content:
            return self.settings.grants_url.format(year=self.today.year)
        if b'"value"' in content[:4096]:
            return self.settings.products_url
        return self.settings.announcements_url

    def parse(self, document: Document) -> ParseResult:
        content = document.content
        if content.startswith(b"%PDF"):
            found = grants.groups(grants.rows(content))
            if sum(len(g["pl_numbers"]) for g in found) < self.settings.min_rows:
                raise ShapeError(f"grants PDF has fewer than {self.settings.min_rows} rows")
            return self._result(found, KINDS[1])
        head = content.lstrip()[:1]
        if head != b"{":
            raise ShapeError("not an MHRA document: neither a PDF nor GOV.UK / index JSON")
        if b'"attachments"' in content:
            grants.attachments(content)  # checks the shape; the PDFs are followed
            return ParseResult([], KINDS[0], None, complete=False)
        if b'"value"' in content[:4096]:
            return self._result(products.read(content), KINDS[3])
        return self._result(announcements.read(content), KINDS[2])

    def _result(self, found: list[dict[str, Any]], kind: str) -> ParseResult:
        observations = [
            Observation(
                r["reference"], rules.names(r) or (ProductName(r["reference"], NameKind.CODE),), r
            )
            for r in found
        ]
        return ParseResult(observations, kind, None, complete=False)

    def follow(
        self, document: Document, result: ParseResult, changed: Collection[str], first_poll: bool
    ) -> list[str]:
        if result.document_kind != KINDS[0]:
            return []
        return grants.attachments(document.content)[1]
