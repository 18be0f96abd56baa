"""The contract every source implements: its feeds, a parser per kind of document, its
event rules and its schedules.

A source declares its feeds, each with the kind of document it serves; `parsers()` maps each
kind to a pure parser, which returns the records it read and the links it found (each with
the kind of document it leads to). `poll` fetches, applies the one follow policy
(`follow.followed`) and stores; `detect` calls the rules. `sniff` (what kind a file is, from
its bytes) is used only to replay a saved file. Nothing here fetches or stores.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from ..config import Config, SourceConfig
from ..errors import ShapeError
from ..fetch import Document
from ..model import Agency, EventDraft, Observation, ParseResult


def head(content: bytes, size: int = 1024) -> bytes:
    """A document's first bytes, past a byte-order mark and white space (for `sniff`)."""
    return content[:size].lstrip(b"\xef\xbb\xbf \t\r\n")


@dataclass(frozen=True)
class Feed:
    """A URL a source polls, the kind of document it serves, and what it may send."""

    url: str
    kind: str
    #: The scheduler job that polls it (None: the source's own job, named as the source).
    job: str | None = None
    #: HTTP error statuses whose body is still this document (openFDA's 404 "no matches").
    statuses: tuple[int, ...] = ()
    #: Query parameters sent with the request but never stored (an API key).
    params: Mapping[str, str] = field(default_factory=dict)
    #: A record's page followed from a document read on its feed's first poll: what it adds
    #: to the records that document brought is history too, never news.
    backfill: bool = False


@dataclass(frozen=True)
class Schedule:
    """When one of a source's jobs runs, said as data (the daemon makes the triggers):
    every `every_hours`, or at a `cron` time (apscheduler's cron fields) in `timezone`."""

    job: str
    #: The feeds the job polls (None: all the source's feeds).
    feeds: tuple[str, ...] | None = None
    every_hours: float | None = None
    cron: Mapping[str, Any] | None = None
    timezone: str = "UTC"
    #: Servers sharing a database do not start the job again within this many hours.
    gap_hours: float = 12.0
    #: A day on which the job has nothing to do: it runs and says so (SMC outside its week).
    skip: Callable[[dt.datetime], bool] | None = None
    skip_reason: str = ""


class Rules(Protocol):
    """A source's event rules (its `rules` module): pure functions of what it observed."""

    def history(self, obs: Observation, result: ParseResult) -> Iterable[EventDraft]: ...

    def changes(
        self, before: Mapping[str, Any], obs: Observation, result: ParseResult
    ) -> Iterable[EventDraft]: ...

    def merge(self, before: Mapping[str, Any], obs: Observation) -> Observation: ...


class Source(ABC):
    """One body's feeds. Subclasses declare `name`, `agency`, `document_kinds`, `description`."""

    name: ClassVar[str]
    agency: ClassVar[Agency]
    description: ClassVar[str]
    #: The kinds of document its parsers report (`ParseResult.document_kind`).
    document_kinds: ClassVar[tuple[str, ...]]
    #: Its config section.
    settings: SourceConfig

    @classmethod
    @abstractmethod
    def from_config(cls, config: Config) -> Source:
        """Build the source from the whole config; it reads only its own section."""

    @abstractmethod
    def feeds(self) -> list[Feed]:
        """What one poll fetches, each URL with its kind of document."""

    @abstractmethod
    def parsers(self) -> Mapping[str, Callable[[Document], ParseResult]]:
        """Kind of document -> its pure parser (raises ShapeError when the shape is wrong)."""

    @abstractmethod
    def sniff(self, content: bytes) -> str | None:
        """The kind of document a saved file is, from its bytes (for `poll --from-file`
        only), or None when it is no document this source reads."""

    def parse(self, document: Document) -> ParseResult:
        """Observations and links from one document, by the parser of its kind (its bytes
        say which only when nothing else does: a file replayed, a snapshot that failed)."""
        kind = document.kind or self.sniff(document.content)
        parser = self.parsers().get(kind) if kind else None
        if parser is None:
            raise ShapeError(f"not a document the {self.name} source reads ({self.description})")
        return parser(document)

    def replay_url(self, kind: str) -> str:
        """The URL a replayed file of this kind is stored under: the feed serving that kind
        (a source names one for pages it only follows)."""
        feeds = self.feeds()
        return next((f.url for f in feeds if f.kind == kind), feeds[0].url)

    #: The source's rules module, which the three methods below hand over to; a source may
    #: override the methods instead.
    rules: ClassVar[Rules | None] = None

    def _rules(self) -> Rules:
        if self.rules is None:
            raise NotImplementedError(f"the {self.name} source names no rules")
        return self.rules

    def history(self, observation: Observation, result: ParseResult) -> list[EventDraft]:
        """The events a record carries when regtrack sees it for the first time."""
        return list(self._rules().history(observation, result))

    def changes(
        self, before: Mapping[str, Any], observation: Observation, result: ParseResult
    ) -> list[EventDraft]:
        """The events that a change of one record's fields means (none for wording-only)."""
        return list(self._rules().changes(before, observation, result))

    def merge(self, before: Mapping[str, Any], observation: Observation) -> Observation:
        """Combine what a partial document says with what was known (default: it replaces)."""
        return self.rules.merge(before, observation) if self.rules else observation

    def status_of(self, fields: Mapping[str, Any]) -> Any:
        """A record's status, compared across a whole register document: so many records
        changing it at once is a shape error (None: the record has none)."""
        return fields.get("status")

    @property
    def news_window_days(self) -> int:
        """Days before a feed's previous document beyond which a newly seen decision is
        history published late, not news (0: no window); from the source's config section."""
        return self.settings.news_window_days

    @property
    def max_vanished_fraction(self) -> float:
        """Share of known records that may vanish in one document before it is a shape error."""
        return 0.05

    # --- following links (the policy is `follow.followed`) --------------------------------

    @property
    def follow_pages(self) -> str:
        """Which records' pages a poll reads: "new" (new or changed records), "tracked"
        (only those of tracked products) or "none"; from the source's config section."""
        return str(getattr(self.settings, "follow_pages", "new"))

    #: Kinds of document cheap to read again: an unchanged one (or a 304) is parsed for the
    #: links it says are read every time (NICE's listings lead to tracked projects' pages).
    links_when_unchanged: ClassVar[frozenset[str]] = frozenset()

    #: Tracked product names, normalised (set by the source from the config).
    tracked: Collection[str] = ()

    def tracks(self, observation: Observation) -> bool:
        """Whether a record is of a tracked product (its pages are read on a first poll)."""
        from ..names import normalise

        return any(normalise(n.name) in self.tracked for n in observation.names)

    #: The body's own hosts, besides those of the configured URLs.
    body_hosts: ClassVar[frozenset[str]] = frozenset()

    def hosts(self) -> frozenset[str]:
        """The hosts this source fetches from: its body's, and those its configuration
        names. A URL a document names (a "Medicine URL", a listing's link) on any other host
        is not followed, and neither is a redirect to one."""
        from urllib.parse import urlsplit

        values: list[Any] = list(self.settings.model_dump().values())
        urls = [f.url for f in self.feeds()]
        for value in values:
            urls += [
                v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)
            ]
        found = {urlsplit(u.replace("{", "").replace("}", "")).hostname for u in urls if "://" in u}
        return frozenset({h.lower() for h in found if h}) | self.body_hosts

    def page_url(self, observation: Observation) -> str | None:
        """The public page of one record (what people open), when the feed gives one."""
        url = observation.fields.get("url")
        return url if isinstance(url, str) and url.startswith(("http://", "https://")) else None

    def schedules(self) -> list[Schedule]:
        """The source's jobs and when they run: by default one, every `interval_hours` of
        its config section (a source whose body publishes to a rhythm says so itself)."""
        hours = self.settings.interval_hours
        return [Schedule(self.name, every_hours=hours, gap_hours=hours / 2)]

    def skipped(self) -> list[str]:
        """Feeds left out on purpose, each with its reason (shown in source health)."""
        return []
