"""Getting documents: HTTP with conditional GET, or a file replayed as if fetched.

The only module that touches the network. It returns bytes and headers; it never parses.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import threading
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from ..config import FetchConfig
from ..errors import FetchError, InputError
from ..model import utcnow
from .bounds import ROBOTS_MAX_BYTES, cause, check_public, read_capped, status_error

if TYPE_CHECKING:
    import requests


@dataclass(frozen=True)
class Document:
    """The bytes of one fetched (or replayed) document and what the server said about them."""

    source: str
    url: str
    content: bytes
    fetched_at: dt.datetime
    http_status: int | None = None
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    replayed_from: str | None = None
    #: What kind of document the feed or link that named this URL says it is: that decides
    #: its parser (None: recognised from its content, for a replayed file).
    kind: str | None = None

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def read_file(source: str, path: Path, url: str) -> Document:
    """A saved document, replayed through the same pipeline as a fetched one."""
    try:
        content = path.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror or err}") from err
    return Document(
        source=source,
        url=url,
        content=content,
        fetched_at=utcnow(),
        replayed_from=str(path),
    )


class _Retry(Exception):
    """A failure worth another try (connection, timeout, 5xx, 429), and how long to wait."""

    def __init__(self, error: FetchError, wait: float | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.wait = wait


class Fetcher:
    """A polite HTTP client: identifying User-Agent, robots.txt, one request at a time and a
    minimum delay per host, timeouts, retries with backoff and Retry-After, a size cap,
    conditional GET. Proxies come from the environment (HTTPS_PROXY…), as requests reads them.
    """

    def __init__(self, config: FetchConfig) -> None:
        self._hosts = threading.local()  # the allowed hosts of the request under way
        self._config = config
        self._session: requests.Session | None = None
        self._last_request: dict[str, float] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._robots: dict[str, RobotFileParser | None] = {}
        self._crawl_delay: dict[str, float] = {}

    @property
    def user_agent(self) -> str:
        contact = f"; +{self._config.contact}" if self._config.contact else ""
        return f"{self._config.user_agent}{contact}"

    def _open(self) -> requests.Session:
        if self._session is None:
            import requests  # deferred: commands that read the store never pay for it

            fetcher = self

            class Session(requests.Session):
                def rebuild_auth(self, prepared: Any, response: Any) -> None:
                    # Called for every redirect hop: the hop must be to an allowed host and
                    # allowed by that host's robots.txt, like the first request.
                    super().rebuild_auth(prepared, response)  # type: ignore[no-untyped-call]
                    fetcher._check_hop(str(prepared.url))

            self._session = Session()
            self._session.headers["User-Agent"] = self.user_agent
            self._session.max_redirects = 10
            self._read_environment_once(self._session)
        return self._session

    @staticmethod
    def _read_environment_once(session: requests.Session) -> None:
        """requests reads every environment variable on every request, looking for proxies
        (a sixth of what a small page cost). With no proxy configured the environment is read
        here once instead: its CA bundle (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE) is kept; with a
        proxy, requests goes on reading it per request (no_proxy, per host)."""
        import os
        import urllib.request

        if urllib.request.getproxies():
            return
        session.trust_env = False
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            session.verify = bundle

    def get(
        self,
        source: str,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        params: dict[str, str] | None = None,
        allow: tuple[int, ...] = (),
        hosts: frozenset[str] | None = None,
        public_only: bool = False,
    ) -> Document | None:
        """The document at `url`, or None when the server says it has not changed (304).

        `params` are sent but not part of the document's URL (an API key is never stored);
        statuses in `allow` are documents too (an API's 404 "no matches"); `hosts`, when
        given, are the only hosts the request and each of its redirects may go to (a
        document names the URLs regtrack follows: it does not choose the hosts).
        `public_only` (a URL someone typed or configured, not a source's): the request and
        each redirect may reach no loopback, private or link-local address, unless its host
        is in `[fetch] private_hosts`."""
        self._hosts.value = hosts
        self._hosts.public_only = public_only
        self._check_host(url)
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        host = urlsplit(url).hostname or ""
        with self._lock(host):  # one request at a time per host, whatever job asks
            self._check_robots(url)
            for attempt in range(self._config.retries + 1):
                self._wait_turn(url)
                try:
                    return self._attempt(source, url, headers, params, allow)
                except _Retry as retry:
                    backoff = self._config.backoff_seconds * 2**attempt
                    wait = retry.wait if retry.wait is not None else backoff
                    if attempt == self._config.retries or wait > self._config.max_retry_wait:
                        raise retry.error from None
                    time.sleep(wait)
        raise AssertionError("unreachable")

    def _attempt(
        self,
        source: str,
        url: str,
        headers: dict[str, str],
        params: dict[str, str] | None,
        allow: tuple[int, ...],
    ) -> Document | None:
        import requests
        import urllib3

        started = time.monotonic()
        try:
            with self._open().get(
                url,
                params=params or None,
                headers=headers,
                timeout=self._config.timeout_seconds,
                stream=True,
            ) as response:
                status = response.status_code
                if status == 304:
                    return None
                if status >= 400 and status not in allow:
                    error = status_error(response, url)
                    if status >= 500 or status == 429:
                        raise _Retry(error, error.retry_after)
                    raise error
                content = read_capped(response, url, started, limit=self._config.max_bytes,
                                      deadline_seconds=self._config.deadline_seconds)  # fmt: skip
                return Document(
                    source=source,
                    url=url,
                    content=content,
                    fetched_at=utcnow(),
                    http_status=status,
                    content_type=response.headers.get("Content-Type"),
                    etag=response.headers.get("ETag"),
                    last_modified=response.headers.get("Last-Modified"),
                )
        except requests.TooManyRedirects as err:
            raise FetchError(f"cannot fetch {url}: redirect loop ({err})", url=url) from err
        except (
            requests.ConnectionError,
            requests.Timeout,
            requests.exceptions.ChunkedEncodingError,
            urllib3.exceptions.HTTPError,  # the body is read through urllib3 (read1)
        ) as err:
            error = FetchError(f"cannot fetch {url}: {cause(err)}", url=url)
            if "NameResolution" in repr(err) or "Name or service not known" in str(err):
                raise error from err  # an unknown host does not appear on a second try
            raise _Retry(error, None) from err
        except requests.RequestException as err:
            raise FetchError(f"cannot fetch {url}: {err}", url=url) from err

    def _check_host(self, url: str) -> None:
        allowed = getattr(self._hosts, "value", None)
        host = (urlsplit(url).hostname or "").lower()
        if getattr(self._hosts, "public_only", False) and host not in self._config.private_hosts:
            check_public(url, host)
        if allowed is not None and host not in allowed:
            raise FetchError(
                f"{url}: host {host or '(none)'} is not one this source fetches from "
                f"({', '.join(sorted(allowed))})",
                url=url,
            )

    def _check_hop(self, url: str) -> None:
        self._check_host(url)
        self._check_robots(url)

    def _lock(self, host: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(host, threading.Lock())

    def _check_robots(self, url: str) -> None:
        """robots.txt, read once per host; a host without one (or unreachable) allows all."""
        if not self._config.robots_txt:
            return
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        if key not in self._robots:
            self._robots[key] = None  # while it is read: a robots.txt that redirects ends here
            self._robots[key] = self._read_robots(f"{key}/robots.txt")
        rules = self._robots[key]
        if rules is not None and not rules.can_fetch(self.user_agent, url):
            raise FetchError(f"{url} is disallowed by {key}/robots.txt", url=url)
        delay = rules.crawl_delay(self.user_agent) if rules is not None else None
        if delay:
            host = parts.hostname or ""
            self._last_request.setdefault(host, -math.inf)
            self._crawl_delay[host] = float(delay)

    def _read_robots(self, url: str) -> RobotFileParser | None:
        """robots.txt through the same bounded reader as every document (one deadline, and at
        most `ROBOTS_MAX_BYTES` once decompressed: what Google reads of one); one that
        trickles, never ends or inflates is treated as none, and the poll goes on."""
        import requests
        import urllib3

        started = time.monotonic()
        try:
            with self._open().get(url, timeout=self._config.timeout_seconds, stream=True) as got:
                if got.status_code != 200 or "html" in got.headers.get("Content-Type", ""):
                    return None
                content = read_capped(got, url, started, limit=ROBOTS_MAX_BYTES,
                                      deadline_seconds=self._config.deadline_seconds)  # fmt: skip
        except (requests.RequestException, urllib3.exceptions.HTTPError, FetchError):
            return None
        rules = RobotFileParser()
        rules.parse(content.decode("utf-8", errors="replace").splitlines())
        return rules

    def _wait_turn(self, url: str) -> None:
        """Keep at least the configured interval (or robots.txt's crawl delay) between two
        requests to one host."""
        host = urlsplit(url).hostname or ""
        interval = max(
            self._config.host_intervals.get(host, self._config.min_interval_seconds),
            self._crawl_delay.get(host, 0.0),
        )
        wait = self._last_request.get(host, -math.inf) + interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last_request[host] = time.monotonic()
