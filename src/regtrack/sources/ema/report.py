"""EMA medicines report (the whole EU register, XLSX or JSON) -> observations and EMA events.

Pure: parses bytes it is given; never fetches, never stores. openpyxl loads only when parsing.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from ...config import Config, EMAConfig
from ...errors import ShapeError
from ...fetch import Document
from ...model import (
    Agency,
    EventDraft,
    NameKind,
    Observation,
    ParseResult,
    ProductName,
)
from ...names import normalise
from .. import pages
from ..base import Source
from . import forms, rules, union


class EMAReport(Source):
    name = "ema"
    agency = Agency.EMA
    body_hosts = frozenset({"www.ema.europa.eu", "ec.europa.eu", "health.ec.europa.eu"})
    description = "EMA medicines report (XLSX or JSON), EPAR pages and the EC Union Register"
    document_kinds = (
        "ema-medicines-report-xlsx",
        "ema-medicines-report-json",
        "ema-epar-page",
        "ec-union-register-page",
    )

    def __init__(self, settings: EMAConfig, tracked: list[str] | None = None) -> None:
        self.settings = settings
        self.tracked = {normalise(n) for n in tracked or [] if normalise(n)}

    @classmethod
    def from_config(cls, config: Config) -> EMAReport:
        names = config.tracked_names()
        return cls(config.sources.ema, names)

    def feeds(self) -> list[str]:
        return [self.settings.url]

    @property
    def max_vanished_fraction(self) -> float:
        return self.settings.max_vanished_fraction

    # --- parsing --------------------------------------------------------------------------

    def parse(self, document: Document) -> ParseResult:
        head = document.content[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
        if head.startswith(b"PK\x03\x04"):
            kind, generated, rows = self.document_kinds[0], *forms.xlsx_rows(document.content)
        elif head[:1] in (b"[", b"{"):
            kind, generated, rows = self.document_kinds[1], *forms.json_rows(document.content)
        elif head[:1] == b"<":
            return self._page(document)
        else:
            raise ShapeError("not the EMA medicines report: neither an XLSX nor a JSON document")
        observations: dict[str, Observation] = {}
        count = 0
        for number, row in rows:
            count += 1
            fields = forms.normalise_row(row, number)
            if not fields.get("reference"):
                continue
            if fields["category"] != "Human" and not self.settings.include_veterinary:
                continue
            observations.setdefault(fields["reference"], _observation(fields))
        # A required column empty in most rows is a layout that changed, not a register in
        # which every product lost its status (accepted once, it turned the next real report
        # into a flood of false authorisations).
        statusless = sum(1 for obs in observations.values() if not obs.fields.get("status"))
        if observations and statusless > len(observations) / 2:
            raise ShapeError(
                f"'Medicine status' is empty in {statusless} of {len(observations)} rows"
            )
        if count < self.settings.min_rows:
            raise ShapeError(
                f"only {count} rows (at least {self.settings.min_rows} expected): "
                "a truncated or partial report"
            )
        return ParseResult(list(observations.values()), kind, generated, complete=True)

    def _page(self, document: Document) -> ParseResult:
        """A Union Register page or an EPAR page (the report's HTML neighbours)."""
        text = pages.decode(document.content)
        # Recognised by its title too, so a page that lost its data says so precisely.
        if "dataSet_" in text or "Union Register of medicinal products" in text:
            obs = union.register_page(text, document.url)
            return ParseResult([obs], "ec-union-register-page", None, complete=False)
        if "data-medicine-status" in text or "EMA product number" in text:
            obs = union.epar_page(text, document.url)
            return ParseResult([obs], "ema-epar-page", None, complete=False)
        raise ShapeError(
            "an HTML/XML page, neither the medicines report, a Union Register nor an EPAR page"
        )

    def replay_url(self, content: bytes) -> str | None:
        text = content[:200_000]
        head = text[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
        if b"dataSet_" in text or b"Union Register of medicinal products" in text:
            return self.settings.union_register_url.format(number="replayed")
        if b"data-medicine-status" in text or b"EMA product number" in text:
            return "https://www.ema.europa.eu/en/medicines/human/EPAR/replayed"
        if head.startswith(b"PK\x03\x04") or head[:1] in (b"[", b"{"):
            return self.settings.url
        return None

    def follow(
        self, document: Document, result: ParseResult, changed: Collection[str], first_poll: bool
    ) -> list[str]:
        """From the report, the EPAR pages of products new or changed (tracked ones on a first
        poll); from an EPAR page, the Union Register page its EU number names."""
        mode = self.settings.follow_pages
        if mode == "none" or result.document_kind == "ec-union-register-page":
            return []
        if result.document_kind == "ema-epar-page":
            (obs,) = result.observations
            url = self._register_url(obs.reference, obs.fields["epar"].get("eu_number"))
            return [url] if url else []
        urls = []
        for obs in result.observations:
            if obs.reference not in changed or not obs.fields.get("url"):
                continue
            if (mode == "tracked" or first_poll) and not self._tracked(obs):
                continue
            urls.append(obs.fields["url"])
            configured = self._register_url(obs.reference, None)
            if configured:
                urls.append(configured)
        return urls

    def _register_url(self, reference: str, eu_number: str | None) -> str | None:
        number = eu_number or self.settings.eu_numbers.get(reference)
        match = re.search(r"EU/\d/\d{2}/(\d+)", number or "")
        if not match:
            return None
        return self.settings.union_register_url.format(number=f"{int(match[1]):03d}")

    def _tracked(self, obs: Observation) -> bool:
        return any(normalise(n.name) in self.tracked for n in obs.names)

    def merge(self, before: Mapping[str, Any], observation: Observation) -> Observation:
        """The report, its EPAR page and the Union Register page are one record: each keeps
        what the others said."""
        merged = {**before, **observation.fields}
        return Observation(observation.reference, observation.names, merged)

    # --- event rules (SOURCES.md, EMA) -------------------------------------------------------

    def history(self, observation: Observation, result: ParseResult) -> list[EventDraft]:
        f = observation.fields
        if "status" not in f:  # a page seen before the report: its own events only
            return union.events({}, observation) if "union" in f else []
        events = []
        if f.get("opinion_date"):
            events.append(rules.opinion(observation, result))
        if f.get("authorisation_date"):
            events.append(rules.authorisation(observation, result))
        events.extend(rules.status_events(observation, result))
        return events

    def changes(
        self, before: Mapping[str, Any], observation: Observation, result: ParseResult
    ) -> list[EventDraft]:
        after = observation.fields
        if "union" in after and after["union"] != before.get("union"):
            return union.events(before, observation)
        if "status" not in after or result.document_kind not in self.document_kinds[:2]:
            return []
        events = []
        if after.get("opinion_date") and after["opinion_date"] != before.get("opinion_date"):
            events.append(rules.opinion(observation, result))
        if after["status"] != before.get("status"):
            if after["status"] == rules.AUTHORISED:
                events.append(rules.authorisation(observation, result))
            events.extend(rules.status_events(observation, result, before))
        elif after["status"] == rules.AUTHORISED:
            if before.get("conditional") is True and after.get("conditional") is False:
                events.append(rules.conversion(before, observation, result))
            if any(before.get(k) != after.get(k) for k in rules.PROCEDURE_FIELDS):
                events.append(rules.variation(before, observation, result))
        return events


def _observation(fields: dict[str, Any]) -> Observation:
    names = [ProductName(fields["name"], NameKind.BRAND, "EU")] if fields.get("name") else []
    if fields.get("inn"):
        names.append(ProductName(fields["inn"], NameKind.INN))
    if fields.get("active_substance"):
        names.append(ProductName(fields["active_substance"], NameKind.SUBSTANCE))
    return Observation(fields["reference"], tuple(names), fields)
