"""Fault injection: a local server that misbehaves on purpose. Each fault ends in the right
health state, and nothing already stored is lost."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from regtrack.config import Config, EMAConfig, FetchConfig, SourcesConfig
from regtrack.fetch import Fetcher
from regtrack.poll import poll
from regtrack.sources.ema import EMAReport
from regtrack.store import Store


class Faulty(BaseHTTPRequestHandler):
    """Serves /report by the script in `server.plan`: a list of behaviours, one per request."""

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        server: Any = self.server
        server.hits.append(self.path)
        if self.path == "/robots.txt":
            body = server.robots.encode()
            self._send(200 if server.robots else 404, body, "text/plain")
            return
        plan = server.plan.pop(0) if len(server.plan) > 1 else server.plan[0]
        kind, arg = plan if isinstance(plan, tuple) else (plan, None)
        if kind == "ok":
            self._send(200, server.good, "application/json")
        elif kind == "status":
            self._send(
                arg, b"busy", "text/plain", {"Retry-After": "1"} if arg in (429, 503) else {}
            )
        elif kind == "reset":
            self.connection.shutdown(socket.SHUT_RDWR)
        elif kind == "hang":
            time.sleep(arg)
            self._send(200, server.good, "application/json")
        elif kind == "loop":
            self._send(302, b"", "text/plain", {"Location": "/report"})
        elif kind == "huge":
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            chunk = b"\0" * (1 << 20)
            try:
                for _ in range(50):  # 50 MB, no Content-Length
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif kind == "body":
            self._send(200, arg, "application/octet-stream")

    def _send(
        self, status: int, body: bytes, kind: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def faulty(ema_reports: dict[str, Path]) -> Iterator[Any]:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), Faulty)
    server.hits, server.plan, server.robots = [], ["ok"], ""
    server.good = ema_reports["2024-11-21.json"].read_bytes()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()


def setup(
    server: Any, store: Store, ema_reports: dict[str, Path], **fetch: Any
) -> tuple[Any, Fetcher]:
    url = f"http://127.0.0.1:{server.server_address[1]}/report"
    config = Config(
        sources=SourcesConfig(
            ema=EMAConfig(
                url=url,
                min_rows=5,
                max_vanished_fraction=0.2,
                news_window_days=0,
                follow_pages="none",
            )
        )
    )
    # What is stored before the fault, which it must not lose:
    poll(store, EMAReport.from_config(config), None, from_file=ema_reports["2024-09-01.json"])
    settings = {
        "min_interval_seconds": 0,
        "backoff_seconds": 0.05,
        "timeout_seconds": 0.5,
        "max_bytes": 10_000_000,
    } | fetch
    return EMAReport.from_config(config), Fetcher(FetchConfig(**settings))


@pytest.mark.parametrize(
    ("plan", "status", "message"),
    [
        (["reset", "reset", "ok"], "changed", None),  # connection resets, then success
        ([("status", 500), ("status", 502), "ok"], "changed", None),  # 5xx then success
        ([("status", 429), "ok"], "changed", None),  # Retry-After: 1 honoured
        ([("hang", 2)], "failed", "timed out"),
        (["reset"], "failed", "cannot fetch"),
        (["loop"], "failed", "redirect loop"),
        (["huge"], "failed", "over the 10000000-byte limit"),
        ([("status", 503)], "failed", "HTTP 503"),
        ([("body", b"<html><body>Service unavailable</body></html>")], "failed", "HTML/XML page"),
        ([("body", b'[{"category": "Human", "ema_product_n')], "failed", "is not JSON (truncated?)"),
    ],
)  # fmt: skip
def test_fault(
    faulty: Any,
    sqlite_store: Store,
    ema_reports: dict[str, Path],
    plan: list[Any],
    status: str,
    message: str | None,
) -> None:
    source, fetcher = setup(faulty, sqlite_store, ema_reports, retries=2)
    before = {(e.reference, e.discriminator) for e in sqlite_store.events()}
    faulty.plan = list(plan)
    (outcome,) = poll(sqlite_store, source, fetcher)
    assert outcome.status == status, outcome.message
    after = {(e.reference, e.discriminator) for e in sqlite_store.events()}
    assert before <= after  # nothing stored is lost
    (health,) = sqlite_store.health()
    if status == "failed":
        assert message in outcome.message and not health.healthy
        assert health.last_error or health.parse_health
        assert after == before  # and nothing half-written
    else:
        assert health.healthy and len(after) > len(before)


def test_retry_after_longer_than_we_wait_fails_at_once(
    faulty: Any, sqlite_store: Store, ema_reports: dict[str, Path]
) -> None:
    source, fetcher = setup(faulty, sqlite_store, ema_reports, max_retry_wait=0.5)
    faulty.plan = [("status", 429)]
    started = time.monotonic()
    (outcome,) = poll(sqlite_store, source, fetcher)
    assert outcome.status == "failed" and "retry after 1 s" in outcome.message
    assert time.monotonic() - started < 0.9


def test_truncated_xlsx(faulty: Any, sqlite_store: Store, ema_reports: dict[str, Path]) -> None:
    source, fetcher = setup(faulty, sqlite_store, ema_reports)
    whole = ema_reports["2024-11-21.xlsx"].read_bytes()
    faulty.plan = [("body", whole[: len(whole) // 2])]
    (outcome,) = poll(sqlite_store, source, fetcher)
    assert outcome.status == "failed" and "truncated or damaged" in outcome.message
    assert [s.parse_ok for s in sqlite_store.snapshots("ema")] == [True, False]  # kept as evidence


def test_robots_txt_is_honoured(
    faulty: Any, sqlite_store: Store, ema_reports: dict[str, Path]
) -> None:
    faulty.robots = "User-agent: *\nDisallow: /report\n"
    source, fetcher = setup(faulty, sqlite_store, ema_reports)
    (outcome,) = poll(sqlite_store, source, fetcher)
    assert outcome.status == "failed" and "disallowed by" in outcome.message
    assert faulty.hits == ["/robots.txt"]  # the document itself was not requested
