"""Fetching from a real local HTTP server: conditional GET, errors, identification."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from regtrack.config import Config, EMAConfig, FetchConfig, SourcesConfig
from regtrack.fetch import Fetcher
from regtrack.poll import poll
from regtrack.sources.ema import EMAReport
from regtrack.store import Store

REPORT = "/en/documents/report/medicines-output-medicines-report_en.xlsx"


def config_for(server: HTTPServer, **fetch: object) -> Config:
    return Config(
        fetch=FetchConfig(contact="mailto:ops@example.org", **({"robots_txt": False} | fetch)),  # type: ignore[arg-type]
        sources=SourcesConfig(ema=EMAConfig(url=server.url_for(REPORT), min_rows=5)),
    )


def test_poll_over_http_with_conditional_get(
    httpserver: HTTPServer, sqlite_store: Store, ema_reports: dict[str, Path]
) -> None:
    content = ema_reports["2024-09-01.xlsx"].read_bytes()
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(content, headers={"ETag": '"v1"'}, content_type="application/vnd.ms-excel")

    httpserver.expect_request(REPORT).respond_with_handler(handler)
    config = config_for(httpserver)
    source, fetcher = EMAReport.from_config(config), Fetcher(config.fetch)

    (first,) = poll(sqlite_store, source, fetcher)
    assert first.status == "changed" and first.records == 8
    (second,) = poll(sqlite_store, source, fetcher)
    assert second.status == "not_modified"
    assert seen[0].headers.get("If-None-Match") is None
    assert seen[1].headers["If-None-Match"] == '"v1"'
    assert "mailto:ops@example.org" in seen[0].headers["User-Agent"]
    assert seen[0].headers["User-Agent"].startswith("regtrack/")
    (snapshot,) = sqlite_store.snapshots("ema")
    assert (snapshot.etag, snapshot.http_status) == ('"v1"', 200)


def test_server_errors_and_oversized_bodies_are_health_failures(
    httpserver: HTTPServer, sqlite_store: Store
) -> None:
    httpserver.expect_ordered_request(REPORT).respond_with_data("busy", status=503)
    httpserver.expect_ordered_request(REPORT).respond_with_data(b"x" * 5000)
    config = config_for(httpserver, max_bytes=1000, retries=0)
    source, fetcher = EMAReport.from_config(config), Fetcher(config.fetch)

    (outcome,) = poll(sqlite_store, source, fetcher)
    assert outcome.status == "failed" and "HTTP 503" in outcome.message
    (outcome,) = poll(sqlite_store, source, fetcher)
    assert outcome.status == "failed" and "over the 1000-byte limit" in outcome.message
    (health,) = sqlite_store.health()
    assert not health.healthy and health.consecutive_failures == 2
    assert sqlite_store.snapshots("ema") == []


def test_unreachable_host_is_a_health_failure(sqlite_store: Store) -> None:
    config = Config(
        fetch=FetchConfig(timeout_seconds=2, retries=1, backoff_seconds=0.01),
        sources=SourcesConfig(ema=EMAConfig(url="http://127.0.0.1:9/report.xlsx")),
    )
    (outcome,) = poll(sqlite_store, EMAReport.from_config(config), Fetcher(config.fetch))
    assert outcome.status == "failed"
    assert outcome.message.startswith("cannot fetch http://127.0.0.1:9/report.xlsx")


def test_requests_to_one_host_keep_their_interval(httpserver: HTTPServer) -> None:
    import time

    httpserver.expect_request("/a").respond_with_data("a")
    fetcher = Fetcher(FetchConfig(min_interval_seconds=0, host_intervals={"localhost": 0.4}))
    start = time.monotonic()
    for _ in range(3):
        fetcher.get("nice", httpserver.url_for("/a"))
    assert time.monotonic() - start >= 0.8  # two waits of 0.4 s between three requests
    other = Fetcher(FetchConfig(min_interval_seconds=0, host_intervals={"example.invalid": 5}))
    start = time.monotonic()
    for _ in range(3):
        other.get("nice", httpserver.url_for("/a"))
    assert time.monotonic() - start < 0.8  # another host's delay does not apply here


def test_a_poll_with_several_failing_feeds_is_one_failure(
    httpserver: HTTPServer, sqlite_store: Store
) -> None:
    """failures_before_alert counts polls: three feeds failing in one poll are one failure."""
    import datetime as dt

    from regtrack.config import MHRAConfig
    from regtrack.sources.mhra import MHRA

    httpserver.expect_request("/grants/2026").respond_with_data("busy", status=503)
    httpserver.expect_request("/grants/2025").respond_with_data("busy", status=503)
    httpserver.expect_request("/search.json").respond_with_data("busy", status=503)
    settings = MHRAConfig(
        grants_url=httpserver.url_for("/grants/{year}"),
        years=[2025],
        announcements_url=httpserver.url_for("/search.json"),
    )
    source = MHRA(settings, [], today=dt.date(2026, 6, 1))
    fetcher = Fetcher(config_for(httpserver, retries=0).fetch)
    assert len(source.feeds()) == 3
    outcomes = poll(sqlite_store, source, fetcher)
    assert [o.status for o in outcomes] == ["failed"] * 3
    (health,) = sqlite_store.health()
    assert health.consecutive_failures == 1 and "(and 2 more)" in (health.last_error or "")
    poll(sqlite_store, source, fetcher)
    (health,) = sqlite_store.health()
    assert health.consecutive_failures == 2


def test_a_proxy_from_the_environment_is_used(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The environment is read once when no proxy is set (requests would read it per
    request); with HTTP_PROXY set, requests reads it and the request goes through the proxy."""
    seen: list[str] = []

    def proxy(request: Request) -> Response:
        seen.append(request.host)
        return Response(b"[]", content_type="application/json")

    httpserver.expect_request("/medicines.json").respond_with_handler(proxy)
    monkeypatch.setenv("HTTP_PROXY", httpserver.url_for("/").rstrip("/"))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    fetcher = Fetcher(FetchConfig(robots_txt=False, min_interval_seconds=0))
    document = fetcher.get("fake", "http://register.example.org/medicines.json")
    assert document is not None and document.content == b"[]"
    assert seen == ["register.example.org"]  # the proxy was asked for the other host
    assert fetcher._open().trust_env  # with a proxy, requests reads the environment itself


def test_without_a_proxy_the_environment_is_read_once(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    httpserver.expect_request("/x").respond_with_data(b"ok")
    fetcher = Fetcher(FetchConfig(robots_txt=False, min_interval_seconds=0))
    document = fetcher.get("fake", httpserver.url_for("/x"))
    assert document is not None and document.content == b"ok"
    assert not fetcher._open().trust_env
