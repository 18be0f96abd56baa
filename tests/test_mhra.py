"""The MHRA source: grants PDFs (written here with a PDF writer), announcements, SmPC wording."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from regtrack.config import Config, FetchConfig, MHRAConfig, ProductConfig, SourcesConfig
from regtrack.errors import ShapeError
from regtrack.fetch import Fetcher
from regtrack.poll import poll
from regtrack.sources.mhra import MHRA, announcements, products
from regtrack.store import Store

from .mhra_pdf import COLUMNS, grants_pdf, image_only_pdf

DATA = Path(__file__).parent / "data" / "mhra"
SEPTEMBER = [
    [
        "PLGB 04668/0429",
        "24/09/2021",
        "NOVO NORDISK AS",
        "WEGOVY 0.25 MG, SOLUTION FOR INJECTION IN PRE-FILLED PEN",
        "SEMAGLUTIDE",
        "0.5",
        "MILLIGRAMS PER MILLILITRE",
        "POM",
        "GB",
    ],
    [
        "PLGB 04668/0433",
        "24/09/2021",
        "NOVO NORDISK AS",
        "WEGOVY 2.4 MG, SOLUTION FOR INJECTION IN PRE-FILLED PEN",
        "SEMAGLUTIDE",
        "3.2",
        "MILLIGRAMS PER MILLILITRE",
        "POM",
        "GB",
    ],
    [
        "PL 29831/0716",
        "03/09/2021",
        "WOCKHARDT UK LIMITED",
        "LENALIDOMIDE 2.5 MG HARD CAPSULES",
        "LENALIDOMIDE",
        "2.5",
        "MILLIGRAMS",
        "POM",
        "UK",
    ],
    [
        "PLNI 54365/0001",
        "15/09/2021",
        "RHYTHM PHARMACEUTICALS LIMITED",
        "IMCIVREE 10 MG/ML SOLUTION FOR INJECTION",
        "SETMELANOTIDE",
        "10",
        "MILLIGRAMS PER MILLILITRE",
        "POM",
        "NI",
    ],
]


def mhra(**settings: Any) -> MHRA:
    config = Config(products=[ProductConfig(name="selinexor", aliases=["Nexpovio"])],
                    sources=SourcesConfig(mhra=MHRAConfig(**settings)))  # fmt: skip
    return MHRA.from_config(config)


def replay(store: Store, path: Path, source: MHRA | None = None) -> Any:
    (outcome,) = poll(store, source or mhra(), None, from_file=path)
    return outcome


def test_grants_pdf_one_authorisation_per_product_with_every_pl_number(
    store: Store, tmp_path: Path
) -> None:
    pdf = tmp_path / "september.pdf"
    pdf.write_bytes(grants_pdf(SEPTEMBER))
    outcome = replay(store, pdf)
    assert outcome.status == "changed" and outcome.records == 3
    events = {e.reference: e for e in store.events()}
    wegovy = events["PLGB 04668/0429"]
    assert wegovy.kind == "authorisation" and wegovy.event_date == dt.date(2021, 9, 24)
    assert wegovy.details["pl_numbers"] == ["PLGB 04668/0429", "PLGB 04668/0433"]
    assert wegovy.details["territory"] == ["GB"] and wegovy.details["holder"] == "NOVO NORDISK AS"
    assert "WEGOVY 2.4 MG" in wegovy.evidence and wegovy.product == "semaglutide"
    assert events["PLNI 54365/0001"].details["territory"] == ["NI"]
    assert replay(store, pdf).status == "unchanged"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            lambda: grants_pdf(SEPTEMBER, password="secret"),
            "cannot be read (encrypted or damaged?)",
        ),
        (image_only_pdf, "has no text (a scanned image?)"),
        (
            lambda: grants_pdf(SEPTEMBER, columns=[COLUMNS[1], COLUMNS[0], *COLUMNS[2:]]),
            "grants PDF columns changed",
        ),
    ],
)
def test_bad_grants_pdfs_are_health_failures(
    sqlite_store: Store, tmp_path: Path, content: Any, message: str
) -> None:
    pdf = tmp_path / "bad.pdf"
    pdf.write_bytes(content())
    outcome = replay(sqlite_store, pdf)
    assert outcome.status == "failed" and message in outcome.message
    assert sqlite_store.events() == []
    assert not sqlite_store.health()[0].healthy


def test_announcements_infer_conditional_approval_and_conversion(store: Store) -> None:
    with store.transaction() as tx:
        tx.sync_products([ProductConfig(name="selinexor", aliases=["Nexpovio"])])
    first = replay(store, DATA / "search_api_announcements.json")
    assert first.records == 2  # the Yellow Card reminder is not about an approval
    events = {e.reference: e for e in store.events()}
    conditional = events[
        "/government/news/mhra-grants-conditional-marketing-authorisation-for-selinexor-nexpovio"
    ]
    assert conditional.kind == "authorisation" and conditional.product == "selinexor"
    assert conditional.details == {"inferred": True, "conditional": True,
                                   "announcement": "MHRA grants conditional marketing authorisation for selinexor (Nexpovio)"}  # fmt: skip
    assert conditional.event_date == dt.date(2021, 6, 17) and conditional.date_kind == "publication"
    later = replay(store, DATA / "search_api_announcements_later.json")
    (news,) = later.news
    assert news.kind.value == "conversion_to_full" and news.details["inferred"] is True
    assert "converted" in news.evidence or "full marketing authorisation" in news.evidence
    zetamab = next(e for e in store.events() if "zetamab" in e.reference)
    assert zetamab.details["route"] == "International Recognition A"  # the grant's route


def test_smpc_wording_appears_then_goes(store: Store) -> None:
    first = replay(store, DATA / "products_index_nexpovio_2021.json")
    ((event, backfill),) = first.events
    assert event.kind.value == "authorisation" and event.details["conditional"] is True
    assert event.reference == "PLGB 15538/0030" and event.date_approximate and backfill
    later = replay(store, DATA / "products_index_nexpovio_2022.json")
    (news,) = later.news
    assert news.kind.value == "conversion_to_full" and news.details["inferred"] is True
    assert news.event_date == dt.date(2022, 10, 11) and "no longer says" in news.evidence


def test_publication_leads_to_its_pdfs_over_http(
    httpserver: HTTPServer, sqlite_store: Store
) -> None:
    publication = json.loads((DATA / "content_api_granted_2021.json").read_text())
    for attachment in publication["details"]["attachments"]:
        if attachment["content_type"] == "application/pdf":
            path = "/media/" + attachment["filename"]
            attachment["url"] = httpserver.url_for(path)
            rows = (
                SEPTEMBER
                if "September" in path
                else [[*SEPTEMBER[2][:1], "30/06/2021", *SEPTEMBER[2][2:]]]
            )
            httpserver.expect_request(path).respond_with_data(
                grants_pdf(rows), content_type="application/pdf"
            )
    httpserver.expect_request("/api/content/granted-2021").respond_with_json(publication)
    httpserver.expect_request("/api/search.json").respond_with_json({"results": []})
    source = MHRA(MHRAConfig(grants_url=httpserver.url_for("/api/content/granted-{year}"),
                             announcements_url=httpserver.url_for("/api/search.json")),
                  tracked=["selinexor"], today=dt.date(2021, 10, 5))  # fmt: skip
    outcomes = poll(
        sqlite_store,
        source,
        Fetcher(FetchConfig(min_interval_seconds=0, backoff_seconds=0.01, max_retry_wait=1)),
    )
    assert [o.status for o in outcomes] == ["changed", "changed", "changed", "changed"]
    assert {e.reference for e in sqlite_store.events()} >= {"PLGB 04668/0429", "PL 29831/0716"}
    (health,) = sqlite_store.health()
    assert health.notes == "products index skipped: no query key (set REGTRACK_MHRA_PRODUCTS_KEY)"


def test_feeds_add_next_years_page_in_december_and_products_with_a_key() -> None:
    december = MHRA(MHRAConfig(products_key="k"), tracked=["selinexor"], today=dt.date(2024, 12, 3))
    feeds = december.feeds()
    assert feeds[0].url.endswith("granted-in-2024") and feeds[1].url.endswith("granted-in-2025")
    assert any("search=selinexor" in f.url for f in feeds) and december.skipped() == []
    assert feeds[-1].params == {"api-key": "k"} and feeds[-1].kind == "mhra-products-index"
    assert "k" not in feeds[-1].url


def test_search_and_index_answers_that_lost_their_fields_are_shape_errors() -> None:
    search = json.loads((DATA / "search_api_announcements.json").read_text())
    assert search["results"], "the fixture lists announcements"
    for item in search["results"]:
        item["heading"] = item.pop("title", None)
    with pytest.raises(ShapeError, match="results have no 'title'"):
        announcements.read(json.dumps(search).encode())
    index = {"value": [{"type": "spc", "product_name": "NEXPOVIO 20 MG TABLETS"}]}
    with pytest.raises(ShapeError, match="documents have no 'doc_type'"):
        products.read(json.dumps(index).encode())
    # An index answer without SmPCs among its documents is simply empty.
    assert products.read(json.dumps({"value": [{"doc_type": "pil"}]}).encode()) == []


@pytest.mark.parametrize(
    ("text", "route"),
    [
        ("MHRA approves zetamab through the International Recognition Procedure (Recognition A)",
         "International Recognition A"),
        ("Approved via international recognition route B, relying on an EU approval",
         "International Recognition B"),
        ("Drug X approved using the international recognition route", "International Recognition"),
        ("First medicine approved under the Innovative Licensing and Access Pathway (ILAP)", "ILAP"),
        ("Approved through Project Orbis with the FDA and TGA", "Project Orbis"),
        ("MHRA approves drug Y for adults with asthma", None),
    ],
)  # fmt: skip
def test_an_announcement_names_the_route_of_the_grant(text: str, route: str | None) -> None:
    """The route GOV.UK's words give (none assumed when they name none)."""
    assert announcements.route(text) == route
