"""Getting documents: HTTP with conditional GET, or a file replayed as if fetched.

The only module that touches the network. It returns bytes and headers; it never parses.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

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
    ) -> Document | None:
        """The document at `url`, or None when the server says it has not changed (304)."""
        import requests

        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            with self._open().get(
                url, headers=headers, timeout=self._config.timeout_seconds, stream=True
            ) as response:
                if response.status_code == 304:
                    return None
                if response.status_code >= 400:
                    raise FetchError(
                        f"HTTP {response.status_code} from {url}",
                        url=url,
                        status=response.status_code,
                    )
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
