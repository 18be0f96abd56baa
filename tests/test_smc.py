"""The SMC source: advice pages read from labels and sentences, the listing, the real samples."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from regtrack.config import Config, FetchConfig, ProductConfig, SMCConfig, SourcesConfig
from regtrack.errors import ShapeError
from regtrack.fetch import Document, Fetcher
from regtrack.poll import poll
from regtrack.sources.smc import SMC, documents
from regtrack.store import EventFilter, Store

DATA = Path(__file__).parent / "data" / "smc"
PRODUCTS = [ProductConfig(name="selinexor", aliases=["Nexpovio"])]


def smc(**settings: Any) -> SMC:
    return SMC.from_config(
        Config(products=PRODUCTS, sources=SourcesConfig(smc=SMCConfig(**settings)))
    )


def parse(path: Path, url: str | None = None) -> Any:
    ident = re.search(r"smc(\d+)", path.name)
    url = (
        url
        or f"https://www.scottishmedicines.org.uk/medicines-advice/x-smc{ident[1] if ident else ''}/"
    )
    return smc().parse(Document("smc", url, path.read_bytes(), dt.datetime.now(dt.UTC)))


def replay(store: Store, name: str) -> Any:
    (outcome,) = poll(store, smc(), None, from_file=DATA / name)
    return outcome


@pytest.mark.parametrize(
    ("name", "outcome", "qualifier", "published"),
    [
        ("smc2144_pembrolizumab_full_accepted.txt", "accepted", "full", "2019-05-13"),
        (
            "smc2143_pembrolizumab_nonsub_not_recommended.txt",
            "not_recommended",
            "non_submission",
            "2018-12-10",
        ),
        (
            "smc2683_pembrolizumab_nonsub_not_recommended.txt",
            "not_recommended",
            "non_submission",
            "2024-06-10",
        ),
    ],
)
def test_real_advice_pages(
    samples: Path, name: str, outcome: str, qualifier: str, published: str
) -> None:
    result = parse(samples / "smc" / name)
    (obs,) = result.observations
    assert obs.reference == "SMC" + re.search(r"smc(\d+)", name)[1]  # type: ignore[index]
    f = obs.fields
    assert (f["outcome"], f["qualifier"], f["published"]) == (outcome, qualifier, published)
    assert f["decision"].endswith("within NHSScotland")
    assert {n.name for n in obs.names} == {"pembrolizumab", "Keytruda"}
    (event,) = smc().history(obs, result)
    assert event.kind.value == "hta_decision" and event.event_date == dt.date.fromisoformat(
        published
    )
    assert event.details["outcome"] == outcome


def test_real_in_progress_page(samples: Path) -> None:
    result = parse(samples / "smc" / "smc2257_pembrolizumab_full_IN_PROGRESS.txt")
    (obs,) = result.observations
    (event,) = smc().history(obs, result)
    assert event.kind.value == "expected_date"
    assert (event.event_date, event.date_approximate) == (dt.date(2020, 4, 1), True)
    assert event.details["text"] == "Q2 2020"


@pytest.mark.parametrize(
    ("name", "count", "first"),
    [
        (
            "medicines_advice_listing_2018-12_excerpt.txt",
            9,
            ("SMC2113", "brivaracetam (Briviact)", "2018-12-10"),
        ),
        (
            "medicines_advice_listing_2022-06_excerpt.txt",
            8,
            ("SMC2476", "lenvatinib (Kisplyx)", "2022-06-13"),
        ),
    ],
)
def test_real_listing_text(
    samples: Path, name: str, count: int, first: tuple[str, str, str]
) -> None:
    result = parse(samples / "smc" / name, "https://www.scottishmedicines.org.uk/medicines-advice/")
    assert result.document_kind == "smc-listing-page" and len(result.observations) == count
    f = result.observations[0].fields
    assert (f["reference"], f["medicine"], f["published"]) == first


def test_listing_then_advice_pages_then_a_later_listing(store: Store) -> None:
    first = replay(store, "listing_2024-10-07.json")
    assert first.records == 3 and first.news == []
    expected = store.events(EventFilter(kind="expected_date"))
    assert [(e.reference, str(e.event_date), e.details["text"]) for e in expected] == [
        ("SMC2760", "2025-01-01", "Q1 2025")
    ]
    for page in (
        "selinexor-nexpovio-abbreviated-smc2721.html",
        "selinexor-nexpovio-full-smc2722.html",
    ):
        assert replay(store, page).status == "changed"
    decisions = {e.reference: e for e in store.events(EventFilter(kind="hta_decision"))}
    assert decisions["SMC2721"].details["outcome"] == "accepted"
    assert decisions["SMC2721"].details["qualifier"] == "abbreviated"
    restricted = decisions["SMC2722"]
    assert restricted.details["outcome"] == "recommended_restricted"
    assert restricted.details["restriction"].startswith(
        "in patients who have received only one prior"
    )
    assert "SMC restriction:" in restricted.evidence
    assert restricted.event_date == dt.date(2024, 10, 7) and restricted.product == "selinexor"

    later = replay(store, "listing_2025-01-13.json")
    assert sorted((d.reference, d.kind.value, str(d.event_date)) for d in later.news) == [
        ("SMC2760", "expected_date", "2025-04-01"),  # moved from Q1 to Q2 2025
        ("SMC2771", "hta_decision", "2025-01-13"),
    ]
    interim = replay(store, "etaplexin-etaplex-ultra-orphan-smc2771.html")
    assert interim.status == "changed"
    (event,) = [
        e for e in store.events(EventFilter(kind="hta_decision")) if e.reference == "SMC2771"
    ]
    assert event.details["outcome"] == "interim"


def test_in_progress_page_is_an_expected_date(sqlite_store: Store) -> None:
    outcome = replay(sqlite_store, "zetamab-zetavia-full-smc2760_in_progress.html")
    ((event, _),) = outcome.events
    assert event.kind.value == "expected_date" and event.details["text"] == "Q1 2025"


def test_a_page_without_its_decision_is_a_health_failure(store: Store) -> None:
    replay(store, "listing_2024-10-07.json")
    before = [(e.reference, e.discriminator, e.details) for e in store.events()]
    outcome = replay(store, "advice_page_redesigned.html")
    assert outcome.status == "failed"
    assert (
        "neither a decision sentence ending 'within NHSScotland' nor a 'Publication due date'"
        in outcome.message
    )
    assert [(e.reference, e.discriminator, e.details) for e in store.events()] == before


def test_keyed_on_the_smc_id_never_the_slug() -> None:
    page = DATA / "selinexor-nexpovio-abbreviated-smc2721.html"
    a = parse(
        page,
        "https://www.scottishmedicines.org.uk/medicines-advice/selinexor-nexpovio-abbreviated-smc2721/",
    )
    b = parse(
        page, "https://www.scottishmedicines.org.uk/medicines-advice/selinexor-renamed-smc2721/"
    )
    assert a.observations[0].reference == b.observations[0].reference == "SMC2721"


def test_listing_over_http_follows_tracked_advice_pages(
    httpserver: HTTPServer, sqlite_store: Store
) -> None:
    base = httpserver.url_for("").rstrip("/")
    httpserver.expect_request(
        "/umbraco/Api/ListMedicineAdviceApi/GetResultsByType"
    ).respond_with_data(
        (DATA / "listing_2024-10-07.json").read_bytes(), content_type="application/json"
    )
    for name in ("selinexor-nexpovio-abbreviated-smc2721", "selinexor-nexpovio-full-smc2722"):
        httpserver.expect_request(
            f"/medicines-advice/{name.replace('-smc', '-smc')}/"
        ).respond_with_data((DATA / f"{name}.html").read_bytes(), content_type="text/html")
    source = smc(
        base_url=base,
        listing_url=f"{base}/umbraco/Api/ListMedicineAdviceApi/GetResultsByType?current-page-0=1",
    )
    outcomes = poll(
        sqlite_store,
        source,
        Fetcher(FetchConfig(min_interval_seconds=0, backoff_seconds=0.01, max_retry_wait=1)),
    )
    assert [o.status for o in outcomes] == ["changed", "changed", "changed"]  # zetamab not tracked
    outcomes_by_ref = {
        e.reference: e.details["outcome"]
        for e in sqlite_store.events(EventFilter(kind="hta_decision"))
    }
    assert outcomes_by_ref == {"SMC2721": "accepted", "SMC2722": "recommended_restricted"}


def test_listing_json_whose_items_lost_their_names_is_a_shape_error() -> None:
    listing = json.loads((DATA / "listing_2024-10-07.json").read_text())
    assert listing["SearchResults"], "the fixture lists advice"
    for item in listing["SearchResults"]:
        item["Title"] = item.pop("Heading")  # a renamed field
    url = "https://www.scottishmedicines.org.uk/listing?current-page-0=1"
    with pytest.raises(ShapeError, match="no 'Heading'"):
        documents.read(json.dumps(listing).encode(), url, "https://www.scottishmedicines.org.uk")


@pytest.mark.parametrize(
    ("sentence", "outcome", "qualifier"),
    [
        ("ADVICE: following an initial assessment under the ultra-orphan pathway, zetamab "
         "(Zetavia) is available for use in NHSScotland while further clinical effectiveness "
         "data are gathered.", "available_pending_reassessment", "ultra_orphan_initial"),
        ("ADVICE: following a reassessment through the ultra-orphan pathway, zetamab (Zetavia) "
         "is accepted for use within NHSScotland.", "accepted", "ultra_orphan_reassessment"),
        ("ADVICE: in the absence of a submission from the holder of the marketing authorisation "
         "zetamab (Zetavia) is not recommended for use within NHSScotland.", "not_recommended",
         "non_submission"),
        ("ADVICE: following a full submission zetamab (Zetavia) is accepted for use on an interim "
         "basis subject to ongoing evaluation and future reassessment within NHSScotland.",
         "interim", "full"),
    ],
)  # fmt: skip
def test_outcomes_beside_accepted_and_not_recommended(
    sentence: str, outcome: str, qualifier: str
) -> None:
    """Ultra-orphan initial assessment (available while data are gathered, no decision on
    routine use yet), its reassessment, non-submission and interim acceptance."""
    from regtrack.sources.smc import documents

    record = documents.advice(["Medicine name: zetamab (Zetavia)", "SMC ID: SMC2760", sentence],
                              "https://www.scottishmedicines.org.uk/medicines-advice/x-smc2760/")  # fmt: skip
    assert (record["outcome"], record["qualifier"]) == (outcome, qualifier)
