"""The contract every source implements: its feeds, a pure parser, and its event rules.

Nothing here fetches or stores; `poll` drives these methods and `detect` calls the rules.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ..config import Config
from ..fetch import Document
from ..model import Agency, EventDraft, Observation, ParseResult


def _looks_like_text(content: bytes) -> bool:
    """A page or JSON answer, not a PDF, zip or other binary file."""
    head = content[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head[:1] in (b"<", b"{", b"[") and b"\x00" not in head


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


class Source(ABC):
    """One body's feed. Subclasses declare `name`, `agency`, `document_kinds`, `description`."""

    name: ClassVar[str]
    agency: ClassVar[Agency]
    description: ClassVar[str]
    #: What `parse` recognises from content alone (for `poll --from-file`).
    document_kinds: ClassVar[tuple[str, ...]]

    @classmethod
    @abstractmethod
    def from_config(cls, config: Config) -> Source:
        """Build the source from the whole config; it reads only its own section."""

    @abstractmethod
    def feeds(self) -> list[str]:
        """The URLs one poll fetches."""

    @abstractmethod
    def parse(self, document: Document) -> ParseResult:
        """Observations from one document; pure. Raises ShapeError when the shape is wrong."""

    #: The source's rules module (history, changes, and optionally merge functions), which
    #: the three methods below hand over to; a source may override the methods instead.
    rules: ClassVar[Any] = None

    def history(self, observation: Observation, result: ParseResult) -> list[EventDraft]:
        """The events a record carries when regtrack sees it for the first time."""
        return list(self.rules.history(observation, result))

    def changes(
        self, before: Mapping[str, Any], observation: Observation, result: ParseResult
    ) -> list[EventDraft]:
        """The events that a change of one record's fields means (none for wording-only)."""
        return list(self.rules.changes(before, observation, result))

    @property
    def news_window_days(self) -> int:
        """Days before a feed's previous document beyond which a newly seen decision is
        history published late, not news (0: no window); from the source's config section."""
        return int(getattr(getattr(self, "settings", None), "news_window_days", 90))

    @property
    def max_vanished_fraction(self) -> float:
        """Share of known records that may vanish in one document before it is a shape error."""
        return 0.05

    #: The body's own hosts, besides those of the configured URLs.
    body_hosts: ClassVar[frozenset[str]] = frozenset()

    def hosts(self) -> frozenset[str]:
        """The hosts this source fetches from: its body's, and those its configuration
        names. A URL a document names (a "Medicine URL", a listing's link) on any other host
        is not followed, and neither is a redirect to one."""
        from urllib.parse import urlsplit

        settings = getattr(self, "settings", None)
        values: list[Any] = list(settings.model_dump().values()) if settings is not None else []
        urls = [*self.feeds()]
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
        hours = float(getattr(getattr(self, "settings", None), "interval_hours", 24.0))
        return [Schedule(self.name, every_hours=hours, gap_hours=hours / 2)]

    def document_statuses(self, url: str) -> tuple[int, ...]:
        """HTTP error statuses whose body is still a document at this URL (an API's 404
        "no matches"); anywhere else they are fetch failures."""
        return ()

    def skipped(self) -> list[str]:
        """Feeds left out on purpose, each with its reason (shown in source health)."""
        return []

    def replay_url(self, content: bytes) -> str | None:
        """The feed URL a replayed file stands for (its kind recognised from content), or
        None when the file is no kind of document this source reads."""
        return self.feeds()[0] if _looks_like_text(content) else None

    def request_params(self, url: str) -> dict[str, str]:
        """Query parameters sent with a request but never stored (an API key)."""
        return {}

    def follow(
        self, document: Document, result: ParseResult, changed: Collection[str], first_poll: bool
    ) -> list[str]:
        """URLs to fetch after this document: its next page (what the parser read from it),
        and, for a listing, the pages of records that are new or `changed`."""
        return [result.next_url] if result.next_url else []

    def status_of(self, fields: Mapping[str, Any]) -> Any:
        """A record's status, compared across a whole register document: so many records
        changing it at once is a shape error (None: the record has none)."""
        return fields.get("status")

    def merge(self, before: Mapping[str, Any], observation: Observation) -> Observation:
        """Combine what a partial document says with what was known (default: it replaces)."""
        merge = getattr(self.rules, "merge", None)
        return merge(before, observation) if merge is not None else observation
