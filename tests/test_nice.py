"""The NICE source: listings, TA pages, in-development projects; real samples and fixtures."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from regtrack.config import Config, FetchConfig, NICEConfig, ProductConfig, SourcesConfig
from regtrack.errors import ShapeError
from regtrack.fetch import Document, Fetcher
from regtrack.poll import poll
from regtrack.sources.nice import NICE, documents
from regtrack.store import EventFilter, Store

DATA = Path(__file__).parent / "data" / "nice"
SELINEXOR = [ProductConfig(name="selinexor", aliases=["Xpovio", "Nexpovio"])]


def nice(**settings: Any) -> NICE:
    return NICE.from_config(
        Config(products=SELINEXOR, sources=SourcesConfig(nice=NICEConfig(**settings)))
    )


def replay(store: Store, name: str, source: NICE | None = None) -> Any:
    (outcome,) = poll(store, source or nice(), None, from_file=DATA / name)
    return outcome


def read_sample(samples: Path, name: str, url: str = "https://www.nice.org.uk/x") -> Any:
    path = samples / "nice" / name
    return documents.read(path.read_bytes(), url, "https://www.nice.org.uk")


def test_real_indev_project_with_schedule(samples: Path) -> None:
    name = "indev_project_GID-TA10914_with_provisional_schedule.json"
    kind, (record,), _ = read_sample(samples, name)
    assert kind == "nice-indev-project"
    assert (record["reference"], record["status"], record["id_number"]) == (
        "GID-TA10914",
        "In progress",
        "4014",
    )
    assert record["expected_publication"] == "23 August 2023"
    source = nice()
    result = source.parse(_doc(samples, name))
    (obs,) = result.observations
    assert [n.name for n in obs.names] == [
        "daratumumab"
    ]  # not its partners lenalidomide, dexamethasone
    events = {e.kind.value: e for e in source.history(obs, result)}
    assert events["expected_date"].event_date == dt.date(2023, 8, 23)
    assert events["hta_status"].details["status"] == "In progress"


def _doc(samples: Path, name: str, url: str = "https://www.nice.org.uk/x") -> Document:
    return Document("nice", url, (samples / "nice" / name).read_bytes(), dt.datetime.now(dt.UTC))


def test_real_indev_feed_and_search_api(samples: Path) -> None:
    kind, records, _ = read_sample(samples, "indev_gidprojects_all.json")
    assert kind == "nice-indev-projects" and len(records) == 604  # the TA projects of 887
    statuses = {r["status"] for r in records}
    assert {"In progress", "Suspended", "Discontinued", "Proposed"} <= statuses
    kind, records, nxt = read_sample(samples, "search_api_guidance_awaiting_development.json")
    assert (
        kind == "nice-search-api"
        and nxt == "https://www.nice.org.uk/guidance/awaiting-development?pa=2"
    )
    # Technology appraisals and highly specialised technologies; quality standards left out.
    assert [r["reference"] for r in records] == [
        "GID-TA10718",
        "GID-TA10803",
        "GID-HST10037",
        "GID-HST10046",
        "GID-TA10574",
    ]
    _, records, _ = read_sample(samples, "search_api_guidance_published.json")
    assert records == []  # guidelines only on that page: no technology appraisals


@pytest.mark.parametrize(
    ("name", "status", "dated"),
    [
        ("pagetext_gid-ta11582_suspended.txt", "Suspended", dt.date(2024, 9, 11)),
        ("pagetext_gid-ta11256_discontinued.txt", "Discontinued", dt.date(2015, 11, 27)),
        ("pagetext_gid-ta11143_topic_selection_not_selected.txt", "Topic selection", None),
        ("pagetext_gid-ng10078_in_progress_expected_publication.txt", "In progress", None),
    ],
)
def test_real_page_text_statuses(
    samples: Path, name: str, status: str, dated: dt.date | None
) -> None:
    gid = re.search(r"gid-[a-z]+\d+", name)[0]  # type: ignore[index]
    document = _doc(samples, name, f"https://www.nice.org.uk/guidance/indevelopment/{gid}")
    source = nice()
    result = source.parse(document)
    (obs,) = result.observations
    assert obs.reference == gid.upper() and obs.fields["status"] == status
    (event, *rest) = source.history(obs, result)
    assert event.kind.value == "hta_status" and event.event_date == dated
    if "ng10078" in name:
        assert rest[0].kind.value == "expected_date" and rest[0].event_date == dt.date(2020, 3, 3)


@pytest.mark.parametrize(
    ("sentence", "outcome"),
    [
        ("1.1 Selinexor plus dexamethasone is recommended as an option for treating myeloma.", "recommended"),
        ("1.1 Drug X is recommended, within its marketing authorisation, as an option.", "recommended"),
        ("1.1 Drug X is recommended as an option only if the company provides it at the discount.", "recommended_restricted"),
        ("1.1 Drug X is recommended for use within the Cancer Drugs Fund as an option.", "cancer_drugs_fund"),
        ("1.1 Drug X is not recommended, within its marketing authorisation, for treating Y.", "not_recommended"),
        ("1.1 Drug X is recommended only in research for treating Y.", "research_only"),
        ("1.1 NICE is unable to make a recommendation on drug X because no evidence was submitted.", "terminated"),
        ("1.1 The Committee is minded not to recommend drug X for treating Y.", "not_recommended"),
        ("1.1 The Committee is minded to recommend drug X as an option for treating Y.", "recommended"),
        ("1.1 Please see the committee papers.", None),
    ],
)  # fmt: skip
def test_decisive_sentence(sentence: str, outcome: str | None) -> None:
    found, evidence = documents.classify(
        f"{sentence} 1.2 This is not intended to affect treatment."
    )
    assert found == outcome
    assert evidence == (sentence if outcome else None)


def test_listing_then_ta_pages_then_a_later_listing(store: Store) -> None:
    with store.transaction() as tx:
        tx.sync_products(SELINEXOR)  # as the CLI does
    first = replay(store, "listing_published_2024-06-01.html")
    assert first.status == "changed" and first.records == 3 and first.news == []  # NG201 ignored
    decision = next(e for e in store.events() if e.reference == "TA970")
    assert decision.kind == "hta_decision" and decision.details["outcome"] is None
    assert decision.event_date == dt.date(2024, 5, 8) and decision.date_kind == "publication"
    assert store.find_product("Wegovy")[0].name == "semaglutide"

    replay(store, "ta970.html")
    replay(store, "ta974.html")
    events = {e.reference: e for e in store.events(EventFilter(kind="hta_decision"))}
    assert events["TA970"].details["outcome"] == "recommended"
    assert "\n1.1 Selinexor plus dexamethasone is recommended" in events["TA970"].evidence
    assert events["TA974"].details["outcome"] == "recommended_restricted"
    assert "only if they have had 1 treatment" in events["TA974"].evidence
    assert len(store.events(EventFilter(kind="hta_decision"))) == 3  # refined, not doubled

    later = replay(store, "listing_published_2024-11-01.html")
    assert sorted((d.reference, d.kind.value, str(d.event_date)) for d in later.news) == [
        ("TA1012", "hta_decision", "2024-10-30"),
        ("TA970", "hta_update", "2024-10-02"),
    ]
    product, _ = store.find_product("Nexpovio")
    assert {e.reference for e in store.events(EventFilter(product_id=product.id))} >= {
        "TA970",
        "TA974",
    }


def test_a_replayed_page_links_its_own_address_not_the_listings(sqlite_store: Store) -> None:
    """A TA page or a project page replayed from a file is read under the listing's address;
    its events link the page itself (/guidance/ta1050, the project's in-development page)."""
    replay(sqlite_store, "ta1050_zetamab.html")
    replay(sqlite_store, "gid-ta11401_2025-03-01.html")
    links = {e.reference: e.link for e in sqlite_store.events()}
    assert links["TA1050"] == "https://www.nice.org.uk/guidance/ta1050"
    assert links["GID-TA11401"] == "https://www.nice.org.uk/guidance/indevelopment/gid-ta11401"


def test_terminated_appraisal(sqlite_store: Store) -> None:
    outcome = replay(sqlite_store, "ta1013_terminated.html")
    (event,) = outcome.events
    assert event[0].details["outcome"] == "terminated"
    assert event[0].event_date == dt.date(2024, 11, 6)
    assert "unable to make a recommendation" in event[0].evidence


def test_in_development_project_status_and_every_expected_date(store: Store) -> None:
    replay(store, "gid-ta11400_2024-06-01.html")
    later = replay(store, "gid-ta11400_2024-11-01.html")
    assert sorted((d.kind.value, str(d.event_date)) for d in later.news) == [
        ("expected_date", "2025-06-11"),
        ("hta_status", "2024-10-21"),
    ]
    expected = [e.details["text"] for e in store.events(EventFilter(kind="expected_date"))]
    assert expected == ["26 February 2025", "11 June 2025"]  # every value seen is kept
    status = store.events(EventFilter(kind="hta_status"))[-1]
    assert status.details["status"] == "Suspended" and "pause the appraisal" in status.evidence
    assert store.find_product("zetamab")[0].name == "zetamab"


def test_real_timeline_stages_with_their_consultation_windows(samples: Path) -> None:
    """A real project's two rounds of draft guidance, each with the day its comments close."""
    source = nice()
    result = source.parse(_doc(samples, "indev_project_GID-TA10730_no_schedule.json"))
    (obs,) = result.observations
    stages = [e for e in source.history(obs, result) if e.kind.value == "hta_stage"]
    assert [(e.event_date, e.details["stage"], e.details["closes"], e.details.get("round"))
            for e in stages] == [
        (dt.date(2022, 10, 12), "draft guidance consultation", "2022-11-02", None),
        (dt.date(2023, 2, 21), "draft guidance consultation", "2023-03-14", 2),
    ]  # fmt: skip


def test_final_draft_guidance_is_news_with_its_appeal_window(store: Store) -> None:
    """The stage a market-access team waits for: final draft guidance, with the day appeals
    close (15 working days), reached after the consultation; the product's status says so."""
    from regtrack import reports

    first = replay(store, "gid-ta11401_2025-03-01.html")
    assert [(e.details["stage"], str(e.event_date)) for e, *_ in first.events
            if e.kind.value == "hta_stage"] == [("draft guidance consultation", "2025-02-06")]  # fmt: skip
    later = replay(store, "gid-ta11401_2025-04-15.html")
    (news,) = later.news
    assert news.kind.value == "hta_stage" and news.details["stage"] == "final draft guidance"
    assert news.event_date == dt.date(2025, 4, 10) and news.details["closes"] == "2025-05-01"
    assert "appeals close about 2025-05-01" in news.evidence
    product, _ = store.find_product("zetamab")
    status = reports.current(store.events(EventFilter(product_id=product.id)))["NICE"]
    assert str(status) == "final draft guidance (GID-TA11401) since 2025-04-10"
    again = replay(store, "gid-ta11401_2025-04-15.html")
    assert again.news == []  # a stage is news once


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("ta_without_next_data.html", "no <script id='__NEXT_DATA__'>"),
        ("ta_without_decision.html", "no recommendation sentence in section 1"),
    ],
)
def test_pages_missing_their_data_are_health_failures(
    store: Store, name: str, message: str
) -> None:
    replay(store, "listing_published_2024-06-01.html")
    before = [(e.reference, e.discriminator, e.details) for e in store.events()]
    outcome = replay(store, name)
    assert outcome.status == "failed" and message in outcome.message
    assert [(e.reference, e.discriminator, e.details) for e in store.events()] == before
    assert not store.health()[0].healthy


def test_polls_listing_and_follows_tracked_pages_over_http(
    httpserver: HTTPServer, sqlite_store: Store
) -> None:
    base = httpserver.url_for("").rstrip("/")
    listing = (DATA / "listing_published_2024-06-01.html").read_bytes()
    httpserver.expect_request("/guidance/published").respond_with_data(
        listing, content_type="text/html"
    )
    httpserver.expect_request("/guidance/ta970").respond_with_data(
        (DATA / "ta970.html").read_bytes()
    )
    httpserver.expect_request("/guidance/ta974").respond_with_data(
        (DATA / "ta974.html").read_bytes()
    )
    source = nice(
        base_url=base, listings=["/guidance/published?ngt=Technology%20appraisal%20guidance"]
    )
    fetcher = Fetcher(
        FetchConfig(
            min_interval_seconds=0, backoff_seconds=0.01, max_retry_wait=1, host_intervals={}
        )
    )
    outcomes = poll(sqlite_store, source, fetcher)
    # First poll: only the pages of tracked products (selinexor) are read, not TA875.
    assert [o.url.removeprefix(base) for o in outcomes] == [
        "/guidance/published?ngt=Technology%20appraisal%20guidance",
        "/guidance/ta974",
        "/guidance/ta970",
    ]
    outcomes = {
        e.reference: e.details["outcome"]
        for e in sqlite_store.events(EventFilter(kind="hta_decision"))
    }
    assert outcomes == {"TA970": "recommended", "TA974": "recommended_restricted", "TA875": None}


def test_title_names_the_first_technology_only() -> None:
    from regtrack.sources.nice.records import names

    assert [
        n.name
        for n in names(
            "Daratumumab with lenalidomide and dexamethasone for untreated myeloma [ID4014]"
        )
    ] == ["daratumumab"]
    assert [
        (n.name, n.kind.value) for n in names("Semaglutide (Wegovy) for managing overweight")
    ] == [("semaglutide", "inn"), ("Wegovy", "brand")]
    assert [
        n.name for n in names("Tixagevimab plus cilgavimab for preventing COVID-19 [ID6136]")
    ] == ["tixagevimab"]
    with pytest.raises(ShapeError, match="without its 'Status' label"):
        documents.read(
            b"Nothing to see", "https://www.nice.org.uk/guidance/indevelopment/gid-ta1", "https://x"
        )


def test_listing_whose_documents_lost_their_fields_is_a_shape_error() -> None:
    renamed = {"documents": [{"ref": "TA970", "type": ["Technology appraisal guidance"]}]}
    with pytest.raises(ShapeError, match="carry none of guidanceRef"):
        documents.read(json.dumps(renamed).encode(), "https://api.nice.org.uk/search", "https://x")
    # Documents that are simply not appraisals are an empty listing, not an error.
    guideline = {"guidanceRef": "NG123", "niceGuidanceType": ["NICE guideline"]}
    kind, found, _ = documents.read(
        json.dumps({"documents": [guideline]}).encode(),
        "https://api.nice.org.uk/search",
        "https://x",
    )
    assert (kind, found) == ("nice-search-api", [])


def test_a_poll_stopped_at_its_document_limit_says_what_it_did_not_read(
    httpserver: HTTPServer, sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import regtrack.poll

    base = httpserver.url_for("").rstrip("/")
    httpserver.expect_request("/guidance/published").respond_with_data(
        (DATA / "listing_published_2024-06-01.html").read_bytes(), content_type="text/html"
    )
    httpserver.expect_request("/guidance/ta974").respond_with_data(
        (DATA / "ta974.html").read_bytes()
    )
    monkeypatch.setattr(regtrack.poll, "MAX_DOCUMENTS", 2)
    fetcher = Fetcher(FetchConfig(min_interval_seconds=0, host_intervals={}))
    outcomes = poll(sqlite_store, nice(base_url=base, listings=["/guidance/published"]), fetcher)
    assert [(o.url.removeprefix(base), o.status) for o in outcomes] == [
        ("/guidance/published", "changed"),
        ("/guidance/ta974", "changed"),
        ("/guidance/ta970", "failed"),
    ]
    assert (
        outcomes[-1].message == f"stopped after 2 documents; 1 not read, from {base}/guidance/ta970"
    )
    (health,) = sqlite_store.health()
    assert not health.healthy and health.last_error == outcomes[-1].message


def test_a_tracked_projects_stages_over_http_history_first_then_news(
    httpserver: HTTPServer, sqlite_store: Store
) -> None:
    """The in-development listing and a tracked project's page: what the first poll finds is
    history; the final draft guidance a later poll finds is news, though the listing's entry
    for the project did not change (its page is read whenever the listing is)."""
    zetamab = [ProductConfig(name="zetamab", aliases=["Zetavia"])]
    base = httpserver.url_for("").rstrip("/")
    # The listing's entry as the page titles it: unchanged from one poll to the next.
    title = (
        "Zetamab for treating refractory pulmonary fibrosis after antifibrotic treatment [ID6401]"
    )

    def listing(*extra: str) -> bytes:
        documents_ = [{"title": t, "niceGuidanceType": ["Technology appraisal guidance"],
                       "guidanceStatus": ["In progress"],
                       "pathAndQuery": f"/guidance/indevelopment/{g}"}
                      for g, t in [("gid-ta11401", title),
                                   *[(e, f"Otherumab {e}") for e in extra]]]  # fmt: skip
        data = {"props": {"pageProps": {"results": {"documents": documents_}}}}
        return (f'<html><body><script id="__NEXT_DATA__" type="application/json">'
                f"{json.dumps(data)}</script></body></html>").encode()  # fmt: skip

    def serve(listing_bytes: bytes, page: str) -> None:
        httpserver.clear()
        httpserver.expect_request("/guidance/indevelopment").respond_with_data(
            listing_bytes, content_type="text/html"
        )
        httpserver.expect_request("/guidance/indevelopment/gid-ta11401").respond_with_data(
            (DATA / page).read_bytes(), content_type="text/html"
        )
        for path, name in (
            ("129", "draft-guidance"),
            ("final-draft-guidance", "final-draft-guidance"),
        ):
            httpserver.expect_request(f"/guidance/GID-TA11401/documents/{path}").respond_with_data(
                (DATA / f"gid-ta11401_{name}.pdf").read_bytes(), content_type="application/pdf")  # fmt: skip

    source = NICE.from_config(
        Config(products=zetamab, sources=SourcesConfig(nice=NICEConfig(
            base_url=base, listings=["/guidance/indevelopment"])))
    )  # fmt: skip
    fetcher = Fetcher(FetchConfig(min_interval_seconds=0, robots_txt=False, retries=0))
    serve(listing(), "gid-ta11401_2025-03-01.html")
    first = poll(sqlite_store, source, fetcher)
    assert [o.status for o in first] == ["changed", "changed", "changed"]  # listing, page, draft
    assert [e for o in first for e in o.news] == []  # a first poll: history
    (stage, draft) = sqlite_store.events(EventFilter(kind="hta_stage"))  # the timeline's, its PDF's
    assert draft.backfill and draft.details["outcome"] == "not_recommended"
    assert stage.backfill and stage.details["stage"] == "draft guidance consultation"

    serve(listing("gid-ta11999"), "gid-ta11401_2025-04-15.html")  # another project added
    later = poll(sqlite_store, source, fetcher)
    news = [e for o in later for e in o.news]
    assert [(e.reference, e.details["stage"]) for e in news if e.kind.value == "hta_stage"] == [
        ("GID-TA11401", "final draft guidance"),
        ("GID-TA11401", "final draft guidance"),
    ]  # the timeline's stage, and what its document recommends


def test_a_projects_expected_date_is_settled_by_its_guidance(store: Store) -> None:
    """The project (GID-TA11401) is published as TA1050: its expected publication leaves
    `upcoming` once a NICE decision on the product is published."""
    from regtrack.upcoming import upcoming

    replay(store, "gid-ta11401_2025-04-15.html")
    today = dt.date(2025, 5, 1)
    (waiting,) = upcoming(store.expected_dates(), today, 90)
    assert (waiting.reference, waiting.event_date) == ("GID-TA11401", dt.date(2025, 5, 14))
    replay(store, "ta1050_zetamab.html")
    assert upcoming(store.expected_dates(), today, 90) == []


def test_a_scheduled_stage_is_coming_until_it_is_reached(
    samples: Path, sqlite_store: Store, tmp_path: Path
) -> None:
    """The real provisional schedule of GID-TA10914 ("Draft guidance: 1, 21 February 2023 -
    14 March 2023", "Expected publication 23 August 2023"): both are coming; once the
    timeline shows that draft guidance, only the publication is."""
    from regtrack.upcoming import upcoming

    name = "indev_project_GID-TA10914_with_provisional_schedule.json"
    data = json.loads((samples / "nice" / name).read_text())
    first = tmp_path / "before.json"
    first.write_text(json.dumps(data))
    poll(sqlite_store, nice(), None, from_file=first)
    coming = upcoming(sqlite_store.expected_dates(), dt.date(2023, 1, 15), 365)
    assert [(str(r.details.get("expected") or "publication"), str(r.event_date))
            for r in coming] == [("draft guidance consultation", "2023-02-21"),
                                 ("publication", "2023-08-23")]  # fmt: skip
    timeline = data["_embedded"]["nice.indev:timeline-list"]["_embedded"]["nice.indev:timeline"]
    timeline.insert(0, {"Column1": "21 February 2023 - 14 March 2023", "Column2": "Draft guidance"})
    later = tmp_path / "after.json"
    later.write_text(json.dumps(data))
    poll(sqlite_store, nice(), None, from_file=later)
    coming = upcoming(sqlite_store.expected_dates(), dt.date(2023, 3, 1), 365)
    assert [str(r.event_date) for r in coming] == ["2023-08-23"]  # the draft came: settled
