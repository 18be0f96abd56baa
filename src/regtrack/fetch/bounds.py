"""The bounds of every read from outside: the size of a body once decompressed and one
deadline for a whole request, which addresses may be reached, and how a failure reads.
Used by `Fetcher` for documents and robots.txt alike."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..errors import FetchError

if TYPE_CHECKING:
    import requests

#: The most of a robots.txt read (decompressed), as Google reads at most 500 KiB of one.
ROBOTS_MAX_BYTES = 512 * 1024


def cause(err: Exception) -> str:
    """What went wrong, in a few words rather than urllib3's nested reprs."""
    text = repr(err)
    for marker, words in (
        ("NameResolution", "host name not found"),
        ("Name or service not known", "host name not found"),
        ("Connection refused", "connection refused"),
        ("timed out", "timed out"),
        ("ReadTimeout", "timed out"),
        ("ConnectTimeout", "timed out"),
        ("RemoteDisconnected", "connection closed by the server"),
        ("Connection reset", "connection reset"),
        ("IncompleteRead", "connection broken mid-body"),
        ("ProtocolError", "connection broken"),
        ("SSLError", "TLS error"),
    ):
        if marker in text:
            return words
    return str(err)[:200]


def status_error(response: requests.Response, url: str) -> FetchError:
    status = response.status_code
    retry = response.headers.get("Retry-After")
    seconds = int(retry) if retry and retry.strip().isdigit() else None
    hint = f", retry after {seconds} s" if seconds is not None else ""
    error = FetchError(f"HTTP {status} from {url}{hint}", url=url, status=status)
    error.retry_after = seconds
    return error


def check_public(url: str, host: str) -> None:
    """Refuse a host that is, or resolves to, a loopback, private, link-local or otherwise
    non-public address (a typed URL, or a redirect, aimed at this server's neighbours)."""
    import ipaddress
    import socket

    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError as err:
        raise FetchError(f"cannot fetch {url}: {host} does not resolve ({err})", url=url) from err
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            raise FetchError(
                f"{url}: {host} is a non-public address ({address}); regtrack reaches such "
                "hosts only when [fetch] private_hosts names them",
                url=url,
            )


def read_capped(
    response: requests.Response, url: str, started: float, *, limit: int, deadline_seconds: float
) -> bytes:
    """The body, within the size cap (decompressed: a gzip bomb counts what it inflates
    to) and one deadline for the whole request: a server that trickles a byte at a time
    stays inside every read timeout, not inside this."""
    deadline = started + deadline_seconds
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise FetchError(f"{url} is {declared} bytes, over the {limit}-byte limit", url=url)
    chunks, total = [], 0
    # read1: what has arrived (not a block that waits to fill), so a server trickling a
    # byte at a time meets the deadline in time.
    while chunk := response.raw.read1(1 << 16, decode_content=True):
        total += len(chunk)
        if total > limit:
            raise FetchError(f"{url} is over the {limit}-byte limit", url=url)
        if time.monotonic() > deadline:
            raise FetchError(
                f"{url} took over {deadline_seconds:g} s (fetch.deadline_seconds)",
                url=url,
            )
        chunks.append(chunk)
    return b"".join(chunks)
