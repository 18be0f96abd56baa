"""What a NICE appraisal's guidance documents recommend: the draft put to consultation, the
final draft guidance, and a reversal between them (news)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from regtrack import reports
from regtrack.config import Config, FetchConfig, NICEConfig, ProductConfig, SourcesConfig
from regtrack.detect import Known, detect
from regtrack.errors import ShapeError
from regtrack.fetch import Document, Fetcher
from regtrack.poll import poll
from regtrack.sources.nice import NICE, documents, guidance
from regtrack.store import EventFilter, Store
from regtrack.timeline import render_timeline

from .cder_pdf import accelerated_pdf
from .nice_pdf import DRAFT_1, FINAL_1, guidance_pdf

DATA = Path(__file__).parent / "data" / "nice"
ZETAMAB = [ProductConfig(name="zetamab", aliases=["Zetavia"])]
TITLE = "Zetamab for treating refractory pulmonary fibrosis after antifibrotic treatment [ID6401]"
WHEN = dt.datetime(2025, 4, 15, tzinfo=dt.UTC)


def source(base: str = "https://www.nice.org.uk") -> NICE:
    return NICE.from_config(Config(products=ZETAMAB, sources=SourcesConfig(nice=NICEConfig(
        base_url=base, listings=["/guidance/indevelopment"]))))  # fmt: skip


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("indev_project_GID-TA10730_no_schedule.json",
         [["Draft guidance", "https://www.nice.org.uk/guidance/GID-TA10730/documents/129",
           "2022-10-12"],
          ["Draft guidance: 2", "https://www.nice.org.uk/guidance/GID-TA10730/documents/129-2",
           "2023-02-21"]]),
        ("indev_project_GID-TA10914_with_provisional_schedule.json",
         [["Draft guidance: 1", "https://www.nice.org.uk/guidance/GID-TA10914/documents/129",
           "2023-02-22"]]),
    ],
)  # fmt: skip
def test_real_projects_name_their_draft_guidance_pdfs_only(
    samples: Path, name: str, expected: list[list[str]]
) -> None:
    """Of each real project's panels, the consultation document's PDF: not the online
    commenting copy, the committee papers, the slides or the scope."""
    content = (samples / "nice" / name).read_bytes()
    _, (record,), _ = documents.indev_json(content, "https://x", "https://www.nice.org.uk")
    assert record["guidance_documents"] == expected
    result = source().parse(Document("nice", "https://x", content, WHEN, kind="nice-indev-json"))
    assert [(ln.url, ln.kind) for ln in result.links] == [
        (u, guidance.KIND) for _, u, _ in expected
    ]


def test_a_documents_page_names_each_stages_pdf_under_its_heading() -> None:
    """A project's documents page as HTML: the PDFs under each stage's heading, not the
    notice page, the online-commenting copy or the committee papers."""
    from regtrack.sources import pages

    html = """<html><body><h2>Final draft guidance</h2><ul>
      <li><a href="/guidance/gid-ta11401/documents/final-draft-guidance">Final draft guidance (PDF 310 KB)</a></li>
      <li><a href="/guidance/gid-ta11401/documents/committee-papers-2">Committee papers (PDF 2 MB)</a></li></ul>
      <h2>Draft guidance</h2><ul>
      <li><a href="/guidance/gid-ta11401/documents/html-content-2">Draft guidance</a></li>
      <li><a href="/guidance/gid-ta11401/documents/129">Appraisal consultation document (PDF 250 KB)</a></li>
      <li><a href="/guidance/gid-ta11401/documents/97">Appraisal consultation document (online commenting)</a></li>
      </ul></body></html>"""  # fmt: skip
    base = "https://www.nice.org.uk/guidance/indevelopment/gid-ta11401/documents"
    found = guidance.from_page(pages.soup(html), base)
    assert found == [
        ["Final draft guidance",
         "https://www.nice.org.uk/guidance/gid-ta11401/documents/final-draft-guidance", None],
        ["Draft guidance", "https://www.nice.org.uk/guidance/gid-ta11401/documents/129", None],
    ]  # fmt: skip


@pytest.mark.parametrize("etag", [True, False], ids=["304", "same-bytes"])
def test_a_draft_not_recommended_reversed_by_the_final_draft_is_news(
    httpserver: HTTPServer, sqlite_store: Store, etag: bool
) -> None:
    """A tracked project's page names its guidance documents; a first poll reads the draft
    (history: not recommended); the final draft guidance a later poll finds recommends the
    product: news that reverses the draft, with both sentences quoted, and the product's
    NICE status says so."""
    base = httpserver.url_for("").rstrip("/")

    def listing(*gids: str) -> bytes:
        entries = [{"title": TITLE if g == "gid-ta11401" else f"Otherumab {g}",
                    "niceGuidanceType": ["Technology appraisal guidance"],
                    "guidanceStatus": ["In progress"], "pathAndQuery": f"/guidance/indevelopment/{g}"}
                   for g in gids]  # fmt: skip
        data = {"props": {"pageProps": {"results": {"documents": entries}}}}
        return (f'<html><body><script id="__NEXT_DATA__" type="application/json">'
                f"{json.dumps(data)}</script></body></html>").encode()  # fmt: skip

    pdf = "application/pdf"

    def serve(gids: tuple[str, ...], page: str, *pdfs: tuple[str, bytes]) -> None:
        httpserver.clear()
        body = listing(*gids)
        tag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'

        def answer(request: Request) -> Response:  # with an ETag, and a 304 when it matches
            if etag and request.headers.get("If-None-Match") == tag:
                return Response(status=304)
            return Response(body, content_type="text/html", headers={"ETag": tag} if etag else {})

        httpserver.expect_request("/guidance/indevelopment").respond_with_handler(answer)
        httpserver.expect_request("/guidance/indevelopment/gid-ta11401").respond_with_data(
            (DATA / page).read_bytes(), content_type="text/html"
        )
        for path, document in pdfs:
            httpserver.expect_request(f"/guidance/GID-TA11401/documents/{path}").respond_with_data(
                document, content_type=pdf)  # fmt: skip

    nice = source(base)
    fetcher = Fetcher(FetchConfig(min_interval_seconds=0, robots_txt=False, retries=0))
    draft = ("129", guidance_pdf("Draft guidance consultation", DRAFT_1))
    serve(("gid-ta11401",), "gid-ta11401_2025-03-01.html", draft)
    first = poll(sqlite_store, nice, fetcher)
    assert [o.status for o in first] == ["changed", "changed", "changed"], first[0].message
    assert [e for o in first for e in o.news] == []
    (read,) = [
        e for e in sqlite_store.events(EventFilter(kind="hta_stage")) if "outcome" in e.details
    ]
    assert read.backfill and read.event_date == dt.date(2025, 2, 6)
    assert (read.details["stage"], read.details["outcome"]) == (
        "draft guidance consultation",
        "not_recommended",
    )
    assert DRAFT_1 in read.evidence

    final = ("final-draft-guidance", guidance_pdf("Final draft guidance", FINAL_1, preamble=False))
    # The listing is the same (a 304, or the same bytes): the tracked project's page is read again.
    serve(("gid-ta11401",), "gid-ta11401_2025-04-15.html", draft, final)
    later = poll(sqlite_store, nice, fetcher)
    assert later[0].status == ("not_modified" if etag else "unchanged")
    news = [e for o in later for e in o.news if e.kind.value == "hta_stage"]
    assert sorted((e.details["stage"], e.details.get("outcome", "")) for e in news) == [
        ("final draft guidance", ""), ("final draft guidance", "recommended_restricted")]  # fmt: skip
    (reversal,) = [e for e in news if e.details.get("outcome")]
    assert reversal.details["reverses"] == "not_recommended"
    assert reversal.event_date == dt.date(2025, 4, 10)
    assert FINAL_1 in reversal.evidence and DRAFT_1 in reversal.evidence
    # The draft was read once: a later poll of the same documents brings nothing.
    assert [e for o in poll(sqlite_store, nice, fetcher) for e in o.news] == []
    product, aliases = sqlite_store.find_product("zetamab")
    rows = sqlite_store.events(EventFilter(product_id=product.id))
    html = render_timeline(product, aliases, rows, "html")
    assert html.count('class="switch"') == 1  # the reversal's row, marked as a conversion is
    status = reports.current(rows)["NICE"]
    assert str(status) == (
        "final draft guidance: recommended with restrictions (GID-TA11401) since 2025-04-10"
    )


def test_a_page_without_its_documents_leads_to_its_documents_tab(
    httpserver: HTTPServer, sqlite_store: Store
) -> None:
    """A project page whose data names no documents links its "Project documents" tab: read
    next, its PDFs then, so the draft's recommendation is known all the same."""
    import re

    base = httpserver.url_for("").rstrip("/")
    page = (DATA / "gid-ta11401_2025-03-01.html").read_text()
    found = re.search(r'(?<=type="application/json">).*?(?=</script>)', page)
    assert found is not None
    props = json.loads(found[0])
    del props["props"]["pageProps"]["project"]["embedded"]  # the panels
    page = page.replace(found[0], json.dumps(props))
    page = page.replace("</body>", '<a href="/guidance/indevelopment/gid-ta11401/documents">'
                                   "Project documents</a></body>")  # fmt: skip
    tab = ('<html><body><h2>Draft guidance</h2><a href="/guidance/GID-TA11401/documents/129">'
           "Appraisal consultation document (PDF 250 KB)</a></body></html>")  # fmt: skip
    entry = {"title": TITLE, "niceGuidanceType": ["Technology appraisal guidance"],
             "guidanceStatus": ["In progress"], "pathAndQuery": "/guidance/indevelopment/gid-ta11401"}  # fmt: skip
    data = {"props": {"pageProps": {"results": {"documents": [entry]}}}}
    listing = (f'<html><body><script id="__NEXT_DATA__" type="application/json">'
               f"{json.dumps(data)}</script></body></html>")  # fmt: skip
    for path, body, kind in (
        ("/guidance/indevelopment", listing, "text/html"),
        ("/guidance/indevelopment/gid-ta11401", page, "text/html"),
        ("/guidance/indevelopment/gid-ta11401/documents", tab, "text/html"),
        ("/guidance/GID-TA11401/documents/129",
         guidance_pdf("Draft guidance consultation", DRAFT_1), "application/pdf"),
    ):  # fmt: skip
        httpserver.expect_request(path).respond_with_data(body, content_type=kind)
    fetcher = Fetcher(FetchConfig(min_interval_seconds=0, robots_txt=False, retries=0))
    outcomes = poll(sqlite_store, source(base), fetcher)
    assert [o.status for o in outcomes] == ["changed"] * 4, [o.message for o in outcomes]
    (read,) = [
        e for e in sqlite_store.events(EventFilter(kind="hta_stage")) if "outcome" in e.details
    ]
    assert read.details["outcome"] == "not_recommended" and read.backfill
    assert read.event_date == dt.date(2025, 2, 6)  # the stage's day on the timeline


def test_a_documents_tab_naming_no_document_at_all_is_a_shape_error() -> None:
    """Every project has documents from its scoping on: a tab with none changed layout."""
    url = "https://www.nice.org.uk/guidance/indevelopment/gid-ta11401/documents"
    page = b"<html><body><h2>Project documents</h2><p>Nothing here</p></body></html>"
    with pytest.raises(ShapeError, match="no documents"):
        source().parse(Document("nice", url, page, WHEN, kind=guidance.DOCUMENTS))
    scope = b'<html><body><a href="/guidance/gid-ta11401/documents/final-scope">Final scope</a>'
    (record,) = (
        source().parse(Document("nice", url, scope, WHEN, kind=guidance.DOCUMENTS)).observations
    )
    assert record.fields["guidance_documents"] is None  # before its draft guidance: no error


def test_an_unchanged_listing_that_no_longer_parses_is_a_health_failure(
    httpserver: HTTPServer, sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unchanged listing is read again for its tracked projects' pages: if it no longer
    parses (the parser changed since), the poll says so instead of following nothing."""
    entry = {"title": TITLE, "niceGuidanceType": ["Technology appraisal guidance"],
             "guidanceStatus": ["In progress"], "pathAndQuery": "/guidance/indevelopment/gid-ta11401"}  # fmt: skip
    data = {"props": {"pageProps": {"results": {"documents": [entry]}}}}
    httpserver.expect_request("/guidance/indevelopment").respond_with_data(
        f'<html><body><script id="__NEXT_DATA__" type="application/json">{json.dumps(data)}'
        "</script></body></html>", content_type="text/html")  # fmt: skip
    httpserver.expect_request("/guidance/indevelopment/gid-ta11401").respond_with_data(
        (DATA / "gid-ta11401_2025-03-01.html").read_bytes(), content_type="text/html")  # fmt: skip
    httpserver.expect_request("/guidance/GID-TA11401/documents/129").respond_with_data(
        guidance_pdf("Draft guidance consultation", DRAFT_1), content_type="application/pdf")  # fmt: skip
    nice = source(httpserver.url_for("").rstrip("/"))
    fetcher = Fetcher(FetchConfig(min_interval_seconds=0, robots_txt=False, retries=0))
    assert [o.status for o in poll(sqlite_store, nice, fetcher)] == ["changed"] * 3

    def changed_parser(*_: object) -> None:
        raise ShapeError("results moved")

    monkeypatch.setattr(documents, "listing", changed_parser)
    (listing, *_) = poll(sqlite_store, nice, fetcher)
    assert (listing.status, listing.shape_error) == ("failed", True)
    assert "results moved" in listing.message
    (health,) = [h for h in sqlite_store.health() if h.source == "nice"]
    assert not health.healthy


def test_documents_a_later_stage_superseded_are_history() -> None:
    """A project known before its documents were read (regtrack upgraded, say): its draft,
    superseded by the final draft guidance, is history; the final draft guidance is news."""
    nice = source()
    page = (DATA / "gid-ta11401_2025-04-15.html").read_bytes()
    url = "https://www.nice.org.uk/guidance/indevelopment/gid-ta11401"
    (project,) = nice.parse(Document("nice", url, page, WHEN, kind="nice-indev-page")).observations
    known = {"GID-TA11401": Known(project.fields)}
    drafts = []
    for path, body in (("129", guidance_pdf("Draft guidance consultation", DRAFT_1)),
                       ("final-draft-guidance", guidance_pdf("Final draft guidance", FINAL_1))):  # fmt: skip
        doc = Document("nice", f"https://www.nice.org.uk/guidance/GID-TA11401/documents/{path}",
                       body, WHEN, kind=guidance.KIND)  # fmt: skip
        result = nice.parse(doc)
        found = detect(nice, known, result, first_poll=False)
        known = {"GID-TA11401": Known(found.upserts[0].fields)}
        drafts += found.events
    assert [(d.details["stage"], d.details.get("reverses"), past) for d, past in drafts] == [
        ("draft guidance consultation", None, True),
        ("final draft guidance", "not_recommended", False),
    ]


@pytest.mark.parametrize(
    "content",
    [b"%PDF-1.4 not really", b"<html>a page</html>",
     accelerated_pdf([], as_of="March 31, 2024")],  # another PDF at the address
)  # fmt: skip
def test_a_document_without_its_recommendation_is_a_shape_error(content: bytes) -> None:
    doc = Document("nice", "https://www.nice.org.uk/guidance/GID-TA11401/documents/129",
                   content, WHEN, kind=guidance.KIND)  # fmt: skip
    with pytest.raises(ShapeError, match="GID-TA11401/documents/129"):
        source().parse(doc)
    with pytest.raises(ShapeError, match="names no project"):
        guidance.read(content, "https://www.nice.org.uk/guidance/ta99/documents/1", "https://x")
