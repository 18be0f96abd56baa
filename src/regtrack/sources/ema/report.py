"""EMA medicines report (the whole EU register, XLSX or JSON) -> observations and EMA events.

Pure: parses bytes it is given; never fetches, never stores. openpyxl loads only when parsing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ...config import Config, EMAConfig
from ...errors import ShapeError
from ...fetch import Document
from ...model import (
    Agency,
    EventDraft,
    Link,
    NameKind,
    Observation,
    ParseResult,
    ProductName,
)
from ...names import normalise
from .. import pages
from ..base import Feed, Source, head
from . import evaluation, forms, rules, union

REPORT, EPAR, REGISTER = "ema-medicines-report", "ema-epar-page", "ec-union-register-page"


class EMAReport(Source):
    name = "ema"
    agency = Agency.EMA
    body_hosts = frozenset({"www.ema.europa.eu", "ec.europa.eu", "health.ec.europa.eu"})
    description = (
        "EMA medicines report (XLSX or JSON), EPAR pages, the EC Union Register and the "
        "monthly list of medicines under evaluation (XLSX)"
    )
    document_kinds = (f"{REPORT}-xlsx", f"{REPORT}-json", EPAR, REGISTER, evaluation.KIND)

    def __init__(self, settings: EMAConfig, tracked: list[str] | None = None) -> None:
        self.settings: EMAConfig = settings
        self.tracked = {normalise(n) for n in tracked or [] if normalise(n)}

    @classmethod
    def from_config(cls, config: Config) -> EMAReport:
        names = config.tracked_names()
        return cls(config.sources.ema, names)

    def feeds(self) -> list[Feed]:
        feeds = [Feed(self.settings.url, REPORT)]
        if self.settings.under_evaluation_url:
            feeds.append(Feed(self.settings.under_evaluation_url, evaluation.KIND))
        return feeds

    @property
    def max_vanished_fraction(self) -> float:
        return self.settings.max_vanished_fraction

    # --- parsing --------------------------------------------------------------------------

    def parsers(self) -> Mapping[str, Callable[[Document], ParseResult]]:
        report = self._report
        # A stored snapshot names the form it was read in; either form is the report.
        return {REPORT: report, f"{REPORT}-xlsx": report, f"{REPORT}-json": report,
                EPAR: self._epar, REGISTER: self._union_register,
                evaluation.KIND: self._evaluation}  # fmt: skip

    def sniff(self, content: bytes) -> str | None:
        text = content[:200_000]
        if b"dataSet_" in text or b"Union Register of medicinal products" in text:
            return REGISTER
        if b"data-medicine-status" in text or b"EMA product number" in text:
            return EPAR
        start = head(content)
        if start.startswith(b"PK\x03\x04") and evaluation.is_list(content):
            return evaluation.KIND
        return REPORT if start.startswith(b"PK\x03\x04") or start[:1] in (b"[", b"{") else None

    def replay_url(self, kind: str) -> str:
        if kind == REGISTER:
            return self.settings.union_register_url.format(number="replayed")
        if kind == EPAR:
            return "https://www.ema.europa.eu/en/medicines/human/EPAR/replayed"
        if kind == evaluation.KIND:
            return self.settings.under_evaluation_url or evaluation.PAGE
        return self.settings.url

    def _report(self, document: Document) -> ParseResult:
        """The whole register, in either of the forms EMA publishes (XLSX or JSON)."""
        start = head(document.content, 512)
        if start.startswith(b"PK\x03\x04"):
            kind, generated, rows = f"{REPORT}-xlsx", *forms.xlsx_rows(document.content)
        elif start[:1] in (b"[", b"{"):
            kind, generated, rows = f"{REPORT}-json", *forms.json_rows(document.content)
        elif start[:1] == b"<":
            raise ShapeError("an HTML/XML page, not the medicines report (an error page?)")
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
        links = []
        for obs in observations.values():  # each product's EPAR page, and its register page
            if obs.fields.get("url"):
                links.append(Link(obs.fields["url"], EPAR, obs.reference))
                configured = self._register_url(None, obs.reference)
                if configured:
                    links.append(Link(configured, REGISTER, obs.reference))
        return ParseResult(list(observations.values()), kind, generated, True, links)

    def _epar(self, document: Document) -> ParseResult:
        """An EPAR page, and the Union Register page its EU number names."""
        obs = union.epar_page(pages.decode(document.content), document.url)
        url = self._register_url(obs.fields["epar"].get("eu_number"), obs.reference)
        links = [Link(url, REGISTER, obs.reference, always=True)] if url else []
        return ParseResult([obs], EPAR, None, complete=False, links=links)

    def _evaluation(self, document: Document) -> ParseResult:
        """The monthly list of medicines under evaluation: partial (no product numbers)."""
        as_of, rows = evaluation.read(document.content)
        observations = evaluation.observations(rows, as_of)
        return ParseResult(observations, evaluation.KIND, as_of, complete=False)

    def _union_register(self, document: Document) -> ParseResult:
        obs = union.register_page(pages.decode(document.content), document.url)
        return ParseResult([obs], REGISTER, None, complete=False)

    def tracks(self, observation: Observation) -> bool:
        return any(normalise(n.name) in self.tracked for n in observation.names)

    def _register_url(self, eu_number: str | None, reference: str) -> str | None:
        number = eu_number or self.settings.eu_numbers.get(reference)
        match = re.search(r"EU/\d/\d{2}/(\d+)", number or "")
        if not match:
            return None
        return self.settings.union_register_url.format(number=f"{int(match[1]):03d}")

    def merge(self, before: Mapping[str, Any], observation: Observation) -> Observation:
        """The report, its EPAR page and the Union Register page are one record: each keeps
        what the others said."""
        merged = {**before, **observation.fields}
        return Observation(observation.reference, observation.names, merged)

    # --- event rules (SOURCES.md, EMA) -------------------------------------------------------

    def history(self, observation: Observation, result: ParseResult) -> list[EventDraft]:
        f = observation.fields
        if f.get("record") == "evaluation":
            return evaluation.events(observation)
        if "status" not in f:  # a page seen before the report: its own events only
            return union.events({}, observation) if "union" in f else []
        events = []
        if f.get("opinion_date"):
            events.append(rules.opinion(observation, result))
        expected = rules.expected_decision(observation, result)
        if expected is not None:
            events.append(expected)
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
        if "status" not in after or not result.document_kind.startswith(REPORT):
            return []
        events = []
        if after.get("opinion_date") and after["opinion_date"] != before.get("opinion_date"):
            events.append(rules.opinion(observation, result))
            expected = rules.expected_decision(observation, result)
            if expected is not None:
                events.append(expected)
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
