"""Getting documents: HTTP with conditional GET, or a file replayed as if fetched.

The only module that touches the network. It returns bytes and headers; it never parses.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .config import FetchConfig
from .errors import FetchError, InputError
from .model import utcnow

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

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def _status_error(response: requests.Response, url: str) -> FetchError:
    status = response.status_code
    retry = response.headers.get("Retry-After")
    seconds = int(retry) if retry and retry.strip().isdigit() else None
    hint = f", retry after {seconds} s" if seconds is not None else ""
    error = FetchError(f"HTTP {status} from {url}{hint}", url=url, status=status)
    error.retry_after = seconds
    return error


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


class Fetcher:
    """A polite HTTP client: identifying User-Agent, timeouts, size cap, conditional GET."""

    def __init__(self, config: FetchConfig) -> None:
        self._config = config
        self._session: requests.Session | None = None
        self._last_request: dict[str, float] = {}

    @property
    def user_agent(self) -> str:
        contact = f"; +{self._config.contact}" if self._config.contact else ""
        return f"{self._config.user_agent}{contact}"

    def _open(self) -> requests.Session:
        if self._session is None:
            import requests  # deferred: commands that read the store never pay for it

            self._session = requests.Session()
            self._session.headers["User-Agent"] = self.user_agent
        return self._session

    def get(
        self,
        source: str,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        params: dict[str, str] | None = None,
        allow: tuple[int, ...] = (),
    ) -> Document | None:
        """The document at `url`, or None when the server says it has not changed (304).

        `params` are sent but not part of the document's URL (an API key is never stored);
        statuses in `allow` are documents too (an API's 404 "no matches")."""
        import requests

        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        self._wait_turn(url)
        try:
            with self._open().get(
                url,
                params=params or None,
                headers=headers,
                timeout=self._config.timeout_seconds,
                stream=True,
            ) as response:
                if response.status_code == 304:
                    return None
                if response.status_code >= 400 and response.status_code not in allow:
                    raise _status_error(response, url)
                content = self._read_capped(response, url)
                return Document(
                    source=source,
                    url=url,
                    content=content,
                    fetched_at=utcnow(),
                    http_status=response.status_code,
                    content_type=response.headers.get("Content-Type"),
                    etag=response.headers.get("ETag"),
                    last_modified=response.headers.get("Last-Modified"),
                )
        except requests.RequestException as err:
            raise FetchError(f"cannot fetch {url}: {err}", url=url) from err

    def _wait_turn(self, url: str) -> None:
        """Keep at least the configured interval between two requests to one host."""
        host = urlsplit(url).hostname or ""
        interval = self._config.host_intervals.get(host, self._config.min_interval_seconds)
        wait = self._last_request.get(host, -math.inf) + interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._last_request[host] = time.monotonic()

    def _read_capped(self, response: requests.Response, url: str) -> bytes:
        limit = self._config.max_bytes
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise FetchError(f"{url} is {declared} bytes, over the {limit}-byte limit", url=url)
        chunks, total = [], 0
        for chunk in response.iter_content(chunk_size=1 << 16):
            total += len(chunk)
            if total > limit:
                raise FetchError(f"{url} is over the {limit}-byte limit", url=url)
            chunks.append(chunk)
        return b"".join(chunks)
