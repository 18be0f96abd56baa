"""SMC's monthly decisions release: the real April 2026 release read whole; over HTTP, last
month's release read and this month's not yet published (a 404, no failure); a release whose
layout changed is a health failure."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pytest_httpserver import HTTPServer

from regtrack.config import Config, FetchConfig, ProductConfig, SMCConfig, SourcesConfig
from regtrack.fetch import Fetcher
from regtrack.poll import poll
from regtrack.reports import current
from regtrack.sources.smc import SMC, releases
from regtrack.store import EventFilter, Store

APRIL = "smc/pagetext/his-media-release-smc-decisions-april-2026_pages-text.txt"
TEMPLATE = "/publications/media-release-smc-decisions-{month}-{year}/"


def test_the_real_april_2026_release_names_six_medicines_and_their_decisions(
    samples: Path,
) -> None:
    published, found = releases.read((samples / APRIL).read_bytes(), "https://x")
    assert published == dt.date(2026, 4, 13)  # "has today (Monday, April 13) published"
    assert [(r["inn"], r["brand"], r["outcome"]) for r in found] == [
        ("osimertinib", "Tagrisso", "accepted"),
        ("pembrolizumab", "Keytruda", "accepted"),
        ("sotatercept", "Winrevair", "accepted"),
        ("nemolizumab", "Nemluvio", "accepted"),
        ("acalabrutinib", "Calquence", "accepted"),
        ("dostarlimab", "Jemperli", "not_recommended"),
    ]


def source(base: str, today: dt.date) -> SMC:
    settings = SMCConfig(base_url=base, listing_url=f"{base}/listing.json",
                         decisions_url=base + TEMPLATE)  # fmt: skip
    products = [ProductConfig(name="dostarlimab", aliases=["Jemperli"])]
    return SMC(Config(products=products, sources=SourcesConfig(smc=settings)).sources.smc,
               ["dostarlimab", "Jemperli"], today)  # fmt: skip


def test_last_months_release_is_read_and_this_months_may_not_be_out_yet(
    httpserver: HTTPServer, store: Store, samples: Path
) -> None:
    base = httpserver.url_for("").rstrip("/")
    httpserver.expect_request("/listing.json").respond_with_json({"SearchResults": []})
    httpserver.expect_request(TEMPLATE.format(month="april", year=2026)).respond_with_data(
        (samples / APRIL).read_bytes(), content_type="text/plain; charset=utf-8"
    )
    httpserver.expect_request(TEMPLATE.format(month="may", year=2026)).respond_with_data(
        "Not found", status=404
    )
    fetcher = Fetcher(FetchConfig(min_interval_seconds=0, robots_txt=False, retries=0))
    outcomes = poll(store, source(base, dt.date(2026, 5, 5)), fetcher)
    assert [o.status for o in outcomes] == ["changed", "changed", "changed"], outcomes
    assert store.health()[0].healthy  # May's release not out yet is no failure
    announced = store.events(EventFilter(kind="hta_announced"))
    assert len(announced) == 6 and all(e.event_date == dt.date(2026, 4, 13) for e in announced)
    (jemperli,) = [e for e in announced if e.product == "dostarlimab"]
    assert jemperli.details["outcome"] == "not_recommended" and "Jemperli" in jemperli.evidence
    # The announcement is not the advice: the SMC status comes from advice pages only.
    assert "SMC" not in current(store.events(EventFilter(product_id=jemperli.product_id)))


def test_a_missing_or_changed_release_is_a_health_failure(
    httpserver: HTTPServer, store: Store
) -> None:
    base = httpserver.url_for("").rstrip("/")
    httpserver.expect_request("/listing.json").respond_with_json({"SearchResults": []})
    httpserver.expect_request(TEMPLATE.format(month="april", year=2026)).respond_with_data(
        "<html><body><h1>Media release: SMC decisions April 2026</h1><p>SMC has published "
        "advice today.</p></body></html>", content_type="text/html"
    )  # fmt: skip
    httpserver.expect_request(TEMPLATE.format(month="may", year=2026)).respond_with_data(
        "Not found", status=404
    )
    fetcher = Fetcher(FetchConfig(min_interval_seconds=0, robots_txt=False, retries=0))
    outcomes = poll(store, source(base, dt.date(2026, 5, 5)), fetcher)
    (failed,) = [o for o in outcomes if o.status == "failed"]
    assert failed.shape_error and "naming no medicine" in failed.message
    assert store.events() == [] and not store.health()[0].healthy
    # In June, May's release missing (its address pattern changed?): a failure, not "not yet".
    httpserver.clear()
    httpserver.expect_request("/listing.json").respond_with_json({"SearchResults": []})
    for month in ("may", "june"):
        httpserver.expect_request(TEMPLATE.format(month=month, year=2026)).respond_with_data(
            "Not found", status=404
        )
    outcomes = poll(store, source(base, dt.date(2026, 6, 5)), fetcher)
    assert any(o.status == "failed" and "404" in o.message for o in outcomes)
