"""Exact EU dates: the Commission's Union Register page and the EPAR page, with the report."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from regtrack.config import Config, EMAConfig, FetchConfig, ProductConfig, SourcesConfig
from regtrack.fetch import Fetcher
from regtrack.poll import poll
from regtrack.sources.ema import EMAReport
from regtrack.store import EventFilter, Store

DATA = Path(__file__).parent / "data" / "ema"
PRODUCTS = [ProductConfig(name="selinexor", aliases=["Nexpovio"])]


def ema(**settings: Any) -> EMAReport:
    config = Config(
        products=PRODUCTS,
        sources=SourcesConfig(
            ema=EMAConfig(min_rows=5, max_vanished_fraction=0.2, news_window_days=0, **settings)
        ),
    )
    return EMAReport.from_config(config)


def replay(store: Store, path: Path) -> Any:
    (outcome,) = poll(store, ema(), None, from_file=path)
    return outcome


def test_real_union_register_page(samples: Path) -> None:
    path = samples / "ema" / "ec_union_register_product_h1979_bilprevda.html"
    from regtrack.fetch import Document

    result = ema().parse(
        Document(
            "ema", "https://ec.europa.eu/x/h1979.htm", path.read_bytes(), dt.datetime.now(dt.UTC)
        )
    )
    (obs,) = result.observations
    assert (obs.reference, obs.fields["union"]["eu_number"]) == ("EMEA/H/C/006435", "EU/1/25/1979")
    events = {e.key: e for e in ema().history(obs, result)}
    assert events["authorisation"].event_date == dt.date(2025, 9, 17)
    assert events["authorisation"].details["decision_number"] == "(2025) 6462"
    transfer = events["EMA/T/0000302036"]
    assert transfer.kind.value == "variation" and "Transfer" in transfer.details["procedure_type"]


def test_exact_conversion_date_replaces_the_approximate_one(
    store: Store, ema_reports: dict[str, Path]
) -> None:
    replay(store, ema_reports["2024-09-01.json"])
    replay(store, ema_reports["2024-11-21.json"])
    (approximate,) = store.events(EventFilter(kind="conversion_to_full"))
    assert approximate.date_approximate is True
    outcome = replay(store, DATA / "union_register_h1537_nexpovio.html")
    assert outcome.status == "changed"
    (exact,) = store.events(EventFilter(kind="conversion_to_full"))  # one event, not two
    assert exact.id == approximate.id and exact.detected_at == approximate.detected_at
    assert exact.event_date == dt.date(2022, 7, 18) and exact.date_approximate is False
    assert exact.details["decision_number"] == "(2022) 5361"
    assert exact.evidence.startswith("EMA medicines report")  # both sources kept as evidence
    assert "annual renewal(s) of a conditional authorisation" in exact.evidence
    authorisation = next(
        e
        for e in store.events(EventFilter(kind="authorisation"))
        if e.reference == "EMEA/H/C/005127"
    )
    assert (
        authorisation.details["conditional"] is True and "flags_as_of" not in authorisation.details
    )
    assert authorisation.details["decision_number"] == "(2021) 2110"
    # The other Commission decisions are stored with their numbers (IB/0002, the transfer).
    procedures = {
        e.discriminator
        for e in store.events(EventFilter(kind="variation"))
        if e.reference == "EMEA/H/C/005127"
    }
    assert {"IB/0002", "R/0005", "EMA/T/0000110000"} <= procedures
    assert replay(store, DATA / "union_register_h1537_nexpovio.html").status == "unchanged"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("union_register_without_data.html", "without dataSet_proc"),
        ("epar_redesigned.html", "without its data-medicine-status marker"),
    ],
)
def test_pages_without_their_markers_are_health_failures(
    store: Store, ema_reports: dict[str, Path], name: str, message: str
) -> None:
    replay(store, ema_reports["2024-09-01.json"])
    before = [(e.reference, e.discriminator, e.details) for e in store.events()]
    outcome = replay(store, DATA / name)
    assert outcome.status == "failed" and message in outcome.message
    assert [(e.reference, e.discriminator, e.details) for e in store.events()] == before


def test_report_leads_to_epar_and_union_register_over_http(
    httpserver: HTTPServer, sqlite_store: Store
) -> None:
    rows = json.loads((DATA / "report_2024-09-01.json").read_text())
    for row in rows:
        row["medicine_url"] = httpserver.url_for("/epar/" + row["name_of_medicine"].lower())
    httpserver.expect_request("/report.json").respond_with_json(rows)
    httpserver.expect_request("/epar/nexpovio").respond_with_data(
        (DATA / "epar_nexpovio.html").read_bytes(), content_type="text/html"
    )
    httpserver.expect_request("/register/h1537.htm").respond_with_data(
        (DATA / "union_register_h1537_nexpovio.html").read_bytes(), content_type="text/html"
    )
    source = ema(
        url=httpserver.url_for("/report.json"),
        union_register_url=httpserver.url_for("/register/h{number}.htm"),
    )
    outcomes = poll(
        sqlite_store,
        source,
        Fetcher(FetchConfig(min_interval_seconds=0, backoff_seconds=0.01, max_retry_wait=1)),
    )
    # First poll: only the tracked product's pages are followed.
    assert [o.url.rsplit("/", 1)[-1] for o in outcomes] == ["report.json", "nexpovio", "h1537.htm"]
    assert all(o.status == "changed" for o in outcomes)
    with sqlite_store.transaction() as tx:
        fields = tx.known("ema")["EMEA/H/C/005127"].fields
    assert fields["epar"] == {
        "status": "authorised",
        "conditional": False,
        "eu_number": "EU/1/21/1537",
        "authorisation_issued": "26/03/2021",
    }
    assert fields["status"] == "Authorised" and fields["union"]["eu_number"] == "EU/1/21/1537"
