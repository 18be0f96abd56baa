"""A sixth body, as a newcomer would add one: its package (this module), an entry in the
registry, an agency, a config section. The pipeline tests use it instead of a real parser."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from regtrack.config import Config, SourceConfig
from regtrack.errors import ShapeError
from regtrack.fetch import Document
from regtrack.model import (
    Agency,
    DateKind,
    EventDraft,
    EventKind,
    NameKind,
    Observation,
    ParseResult,
    ProductName,
)
from regtrack.sources import pages
from regtrack.sources.base import Feed, Source, head


class FakeConfig(SourceConfig):
    """Its config section: what every source's has, and its URL."""

    url: str = "https://register.example.org/medicines.json"
    interval_hours: float = 6.0
    news_window_days: int = 0


class FakeSource(Source):
    """A register as a JSON list of {reference, name, status, date}."""

    name = "fake"
    agency = Agency.EMA  # an enum member is the one thing a test cannot add
    description = "a fake register of medicines (JSON)"
    document_kinds = ("fake-register",)
    body_hosts: ClassVar[frozenset[str]] = frozenset({"register.example.org"})

    def __init__(self, settings: FakeConfig) -> None:
        self.settings = settings

    @classmethod
    def from_config(cls, config: Config) -> FakeSource:
        return cls(FakeConfig())

    def feeds(self) -> list[Feed]:
        return [Feed(self.settings.url, "fake-register")]

    def parsers(self) -> Mapping[str, Callable[[Document], ParseResult]]:
        return {"fake-register": self._register}

    def sniff(self, content: bytes) -> str | None:
        return "fake-register" if head(content)[:1] == b"[" else None

    def _register(self, document: Document) -> ParseResult:
        rows = pages.load_json(document.content, "fake register")
        if not isinstance(rows, list):
            raise ShapeError("fake register: not a list")
        observations = [
            Observation(r["reference"], (ProductName(r["name"], NameKind.BRAND),), dict(r))
            for r in rows
        ]
        return ParseResult(observations, "fake-register", None, complete=True)

    def history(self, observation: Observation, result: ParseResult) -> list[EventDraft]:
        return [_event(observation, "authorised")]

    def changes(
        self, before: Mapping[str, Any], observation: Observation, result: ParseResult
    ) -> list[EventDraft]:
        if before.get("status") == observation.fields.get("status"):
            return []
        return [_event(observation, str(observation.fields.get("status")))]


def _event(obs: Observation, status: str) -> EventDraft:
    kind = EventKind.WITHDRAWAL if status == "withdrawn" else EventKind.AUTHORISATION
    return EventDraft(
        kind=kind,
        reference=obs.reference,
        names=obs.names,
        event_date=dt.date.fromisoformat(obs.fields["date"]),
        date_kind=DateKind.DECISION,
        evidence=f"fake register: {obs.reference} {status}",
        details={"reason": "withdrawn"} if kind == EventKind.WITHDRAWAL else {},
        discriminator=f"{kind.value} {obs.fields['date']}",
    )
