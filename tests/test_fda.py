"""The FDA source: Drugs@FDA data files and openFDA, each quirk, both forms, bad input."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from pytest_httpserver import HTTPServer

from regtrack.config import Config, FDAConfig, FetchConfig, ProductConfig, SourcesConfig
from regtrack.errors import ShapeError
from regtrack.fetch import Document, Fetcher
from regtrack.poll import poll
from regtrack.sources.fda import FDA
from regtrack.store import EventFilter, Store

from .fda_zip import build

DATA = Path(__file__).parent / "data" / "fda"
RELEASE_1 = DATA / "release_2024-06-04"
RELEASE_2 = DATA / "release_2025-03-04"


def config(**fda: Any) -> Config:
    return Config(sources=SourcesConfig(fda=FDAConfig(min_applications=1, **fda)))


def release(tmp_path: Path, folder: Path, **kw: Any) -> Path:
    released = dt.date.fromisoformat(folder.name.split("_")[1])
    path = tmp_path / f"{folder.name}.zip"
    path.write_bytes(build(folder.glob("*.txt"), released, **kw))
    return path


def parse(content: bytes, url: str = "https://www.fda.gov/media/89850/download") -> Any:
    return FDA.from_config(config()).parse(Document("fda", url, content, dt.datetime.now(dt.UTC)))


def replay(store: Store, path: Path, cfg: Config | None = None) -> Any:
    (outcome,) = poll(store, FDA.from_config(cfg or config()), None, from_file=path)
    return outcome


def test_release_quirks(tmp_path: Path) -> None:
    result = parse(release(tmp_path, RELEASE_1).read_bytes())
    assert result.document_kind == "fda-datafiles-zip" and result.complete
    assert result.generated_at.date() == dt.date(2024, 6, 4)
    apps = {o.reference: o.fields for o in result.observations}
    assert sorted(apps) == ["208999", "212306", "214999", "761234"]
    assert apps["761234"]["sponsor"] == "LABORATOIRES SERVIÉ"  # cp1252
    assert apps["214999"]["sponsor"] == '"GENERIC" PHARMA LLC'  # quotes are literal text
    assert set(apps["212306"]["submissions"]) == {"ORIG-1", "SUPPL-2", "SUPPL-6", "SUPPL-9"}
    assert apps["212306"]["submissions"]["SUPPL-9"]["date"] is None  # empty date kept
    assert apps["212306"]["submissions"]["ORIG-1"]["action_types"] is None  # no join table
    # A submission whose application row is missing is kept; its type is unknown.
    orphan = apps["208999"]
    assert (orphan["reference"], orphan["appl_type"]) == ("208999", None)
    assert orphan["submissions"]["SUPPL-15"]["class"] == "MANUF (CMC)"


def test_join_table_marks_accelerated_approval_and_confirmation(tmp_path: Path) -> None:
    result = parse(release(tmp_path, RELEASE_2).read_bytes())
    source = FDA.from_config(config())
    xpovio = next(o for o in result.observations if o.reference == "212306")
    events = {e.discriminator: e for e in source.history(xpovio, result)}
    assert events["ORIG-1"].kind.value == "authorisation"
    assert events["ORIG-1"].details["accelerated"] is True
    assert events["ORIG-1"].event_date == dt.date(2019, 7, 3)
    assert events["SUPPL-2"].kind.value == "indication_extension"
    assert events["SUPPL-2"].details["accelerated"] is True
    assert "Efficacy-Accelerated Approval" in events["SUPPL-2"].evidence
    assert events["SUPPL-9"].kind.value == "variation" and events["SUPPL-9"].event_date is None
    assert events["SUPPL-9"].date_kind.value == "detected"
    assert {n.name for n in xpovio.names} >= {"selinexor", "XPOVIO"}


def test_later_release_yields_exactly_what_is_new(store: Store, tmp_path: Path) -> None:
    first = replay(store, release(tmp_path, RELEASE_1))
    assert first.status == "changed" and first.news == []
    second = replay(store, release(tmp_path, RELEASE_2))
    expected = json.loads((DATA / "release_2025-03-04.expected.json").read_text())["events"]
    got = {(d.reference, d.key): d for d in second.news}
    assert sorted(got) == sorted((e["reference"], e["discriminator"]) for e in expected)
    for e in expected:
        draft = got[(e["reference"], e["discriminator"])]
        assert draft.kind.value == e["kind"]
        assert (draft.event_date.isoformat() if draft.event_date else None) == e["event_date"]
        assert e["details"].items() <= draft.details.items()
    # History stored from the first release is refined by what the second one says.
    events = {(e.reference, e.discriminator): e for e in store.events()}
    assert events[("NDA212306", "ORIG-1")].details["accelerated"] is True
    suppl2 = events[("NDA212306", "SUPPL-2")]
    assert suppl2.kind == "indication_extension" and suppl2.backfill
    assert replay(store, release(tmp_path, RELEASE_2)).status == "unchanged"
    assert len(store.events(EventFilter(backfill=False))) == len(expected)


def test_openfda_after_the_data_files_adds_only_the_fresher_submission(
    store: Store, tmp_path: Path
) -> None:
    replay(store, release(tmp_path, RELEASE_2))
    outcome = replay(store, DATA / "openfda_NDA212306_2025-03-10.json")
    assert outcome.status == "changed"
    assert [(d.reference, d.key, d.kind.value) for d in outcome.news] == [
        ("NDA212306", "SUPPL-14", "variation")
    ]
    assert outcome.news[0].evidence.startswith("openFDA drugsfda (data of 2025-03-10)")
    with store.transaction() as tx:
        fields = tx.known("fda")["212306"].fields
    assert fields["submissions"]["SUPPL-12"]["action_types"] == [8]  # not lost to openFDA
    assert "partial_only" not in fields
    suppl12 = [e for e in store.events() if e.discriminator == "SUPPL-12"]
    assert len(suppl12) == 1 and suppl12[0].kind == "indication_extension"


def test_openfda_first_then_the_register(store: Store, tmp_path: Path, samples: Path) -> None:
    real = samples / "fda" / "openfda_drugsfda_NDA019952_response_2024-07-05.json"
    assert replay(store, real).news == []  # the feed's first answer is history
    # A new application in a feed already read is news (replays share the feed's base URL).
    fresh = replay(store, DATA / "openfda_NDA212306_2025-03-10.json").news
    assert {(d.reference, d.key) for d in fresh} >= {
        ("NDA212306", "ORIG-1"),
        ("NDA212306", "SUPPL-14"),
    }
    outcome = replay(store, release(tmp_path, RELEASE_2))
    # The register's first release is history too; NDA019952, only known from openFDA, is
    # not in this small register and must not be reported as removed.
    assert outcome.news == []
    assert not [e for e in store.events() if e.kind == "record_removed"]
    assert replay(store, release(tmp_path, RELEASE_2)).status == "unchanged"


def test_real_extract_rows(tmp_path: Path, samples: Path) -> None:
    folder = samples / "fda"
    files = [*folder.glob("EXTRACT_*/*.txt"), *folder.glob("drugsatfda_2019_lookups/*.txt")]
    if not files:
        pytest.skip("real Drugs@FDA extract not in REGTRACK_SAMPLES")
    result = parse(build(files, dt.date(2019, 7, 2)))
    apps = {o.fields["reference"]: o for o in result.observations}
    assert sorted(apps) == ["BLA125514", "NDA208434"]
    keytruda = apps["BLA125514"]
    assert len(keytruda.fields["submissions"]) == 32
    assert keytruda.fields["submissions"]["ORIG-1"]["date"] == "2014-09-04"
    assert keytruda.fields["submissions"]["SUPPL-3"]["class"] == "LABELING"
    assert {n.name for n in keytruda.names} == {"pembrolizumab", "KEYTRUDA"}
    assert {n.name for n in apps["NDA208434"].names} >= {"alectinib", "ALECENSA"}
    events = FDA.from_config(config()).history(keytruda, result)
    assert len(events) == 32 and events[0].details["accelerated"] is None


def test_real_openfda_response(samples: Path) -> None:
    path = samples / "fda" / "openfda_drugsfda_NDA019952_response_2024-07-05.json"
    url = 'https://api.fda.gov/drug/drugsfda.json?search=application_number:"NDA019952"&limit=1'
    result = parse(path.read_bytes(), url)
    assert result.generated_at.date() == dt.date(2024, 7, 5) and not result.complete
    (obs,) = result.observations
    assert obs.fields["reference"] == "NDA019952" and len(obs.fields["submissions"]) == 20
    assert {p["status"] for p in obs.fields["products"].values()} == {"Prescription"}
    (following,) = result.links  # total 27,440 results at one a page: all are read
    assert following.url.endswith("&skip=1") and following.always


def test_not_found_is_an_empty_answer(sqlite_store: Store) -> None:
    outcome = replay(sqlite_store, DATA / "openfda_not_found.json")
    assert outcome.status == "changed" and outcome.records == 0


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"drop": ("Products.txt",)}, "lacks table(s): Products"),
        ({"edit": {"Submissions.txt": b"ApplNo\tSubmissionType\r\n1\tORIG\r\n"}},
         "table Submissions: column(s) missing or renamed: SubmissionClassCodeID"),
    ],
)  # fmt: skip
def test_bad_release_changes_nothing(
    store: Store, tmp_path: Path, kw: dict[str, Any], message: str
) -> None:
    replay(store, release(tmp_path, RELEASE_1))
    before = [(e.reference, e.discriminator) for e in store.events()]
    bad = release(tmp_path, RELEASE_2, **kw)
    outcome = replay(store, bad)
    assert outcome.status == "failed" and message in outcome.message
    assert [(e.reference, e.discriminator) for e in store.events()] == before
    (health,) = store.health()
    assert not health.healthy


def test_truncated_zip_and_json_error_bodies(tmp_path: Path) -> None:
    content = release(tmp_path, RELEASE_2).read_bytes()
    with pytest.raises(ShapeError, match="cannot be opened"):
        parse(content[: len(content) // 2])
    error = json.dumps({"error": {"code": "BAD_REQUEST", "message": "Invalid search"}}).encode()
    with pytest.raises(ShapeError, match="openFDA error BAD_REQUEST: Invalid search"):
        parse(error)
    with pytest.raises(ShapeError, match="not JSON"):
        parse(b'{"meta": {')


def test_openfda_over_http_pages_keys_and_limits(
    httpserver: HTTPServer, sqlite_store: Store
) -> None:
    page = json.loads((DATA / "openfda_NDA212306_2025-03-10.json").read_text())
    real = page["results"][0]
    other = real | {"application_number": "NDA219001", "submissions": real["submissions"][:1]}
    query = {"search": 'application_number:"NDA212306"', "limit": "1", "api_key": "sekrit"}
    for skip, result in ((0, real), (1, other)):
        meta = page["meta"] | {"results": {"skip": skip, "limit": 1, "total": 2}}
        expected = query | ({"skip": str(skip)} if skip else {})
        httpserver.expect_oneshot_request(
            "/drug/drugsfda.json", query_string=expected
        ).respond_with_json({"meta": meta, "results": [result]})
    cfg = Config(
        fetch=FetchConfig(min_interval_seconds=0, backoff_seconds=0.01, max_retry_wait=1),
        sources=SourcesConfig(fda=FDAConfig(
            datafiles_url=httpserver.url_for("/none.zip"), min_applications=1,
            openfda_url=httpserver.url_for("/drug/drugsfda.json"), applications=["NDA212306"],
            page_size=1, api_key="sekrit")),
    )  # fmt: skip
    source = FDA.from_config(cfg)
    httpserver.expect_request("/none.zip").respond_with_data("gone", status=404)
    outcomes = poll(sqlite_store, source, Fetcher(cfg.fetch))
    assert [o.status for o in outcomes] == ["failed", "changed", "changed"]
    assert "HTTP 404" in outcomes[0].message  # a 404 from the data files is a failure...
    assert {o.records for o in outcomes[1:]} == {1}  # ...from openFDA, two pages of answers
    urls = [s.url for s in sqlite_store.snapshots("fda")]
    assert len(urls) == 2 and not any("sekrit" in u for u in urls)
    assert all("sekrit" not in e.source_url for e in sqlite_store.events())


def test_rate_limit_is_a_health_failure_naming_the_wait(
    httpserver: HTTPServer, sqlite_store: Store
) -> None:
    httpserver.expect_request("/drug/drugsfda.json").respond_with_data(
        '{"error": {"code": "OVER_RATE_LIMIT"}}', status=429, headers={"Retry-After": "120"}
    )
    cfg = Config(sources=SourcesConfig(fda=FDAConfig(
        datafiles_url=httpserver.url_for("/x.zip"), applications=["NDA212306"],
        openfda_url=httpserver.url_for("/drug/drugsfda.json"))))  # fmt: skip
    httpserver.expect_request("/x.zip").respond_with_data("", status=503)
    outcomes = poll(
        sqlite_store,
        FDA.from_config(cfg),
        Fetcher(FetchConfig(min_interval_seconds=0, backoff_seconds=0.01, max_retry_wait=1)),
    )
    assert outcomes[1].status == "failed" and "HTTP 429" in outcomes[1].message
    assert "retry after 120 s" in outcomes[1].message
    assert sqlite_store.snapshots("fda") == [] and sqlite_store.events() == []


def test_query_urls_batch_applications_and_names() -> None:
    source = FDA.from_config(Config(
        products=[ProductConfig(name="selinexor", aliases=["Xpovio"])],
        sources=SourcesConfig(fda=FDAConfig(applications=["NDA212306", "bla125514"], batch_size=3)),
    ))  # fmt: skip
    feeds = [unquote(feed.url) for feed in source.feeds()]
    assert feeds[0] == "https://www.fda.gov/media/89850/download"
    assert len(feeds) == 3  # four terms, three to a query
    assert 'application_number:"NDA212306"+application_number:"BLA125514"' in feeds[1]
    assert 'openfda.brand_name:"XPOVIO"' in feeds[2] and "limit=100" in feeds[2]


def test_one_product_across_the_atlantic(
    sqlite_store: Store, tmp_path: Path, ema_reports: dict[str, Path], small_config: Config
) -> None:
    from regtrack.sources.ema import EMAReport

    poll(
        sqlite_store,
        EMAReport.from_config(small_config),
        None,
        from_file=ema_reports["2024-09-01.json"],
    )
    replay(sqlite_store, release(tmp_path, RELEASE_2))
    for name in ("selinexor", "Xpovio", "NEXPOVIO"):
        product, aliases = sqlite_store.find_product(name)
        assert product.name == "selinexor"
    events = sqlite_store.events(EventFilter(product_id=product.id))
    assert {(e.agency, e.reference) for e in events} >= {
        ("EMA", "EMEA/H/C/005127"),
        ("FDA", "NDA212306"),
        ("FDA", "ANDA214999"),
    }
    assert {a.name for a in aliases} >= {"Nexpovio", "XPOVIO", "selinexor"}


RELEASE_3 = DATA / "release_2025-06-03"


def test_old_decisions_published_late_are_history_not_news(store: Store, tmp_path: Path) -> None:
    """A release that newly shows decisions of 1998 and 2001 (a register cleaning its data)
    beside this quarter's: only this quarter's are news; the old are stored, flagged late."""
    replay(store, release(tmp_path, RELEASE_1))
    replay(store, release(tmp_path, RELEASE_2))
    third = replay(store, release(tmp_path, RELEASE_3))
    expected = json.loads((DATA / "release_2025-06-03.expected.json").read_text())
    keys = [(e["reference"], e["discriminator"]) for e in expected["news"]]
    assert sorted((d.reference, d.key) for d in third.news) == sorted(keys)
    stored = {(e.reference, e.discriminator): e for e in store.events()}
    for case in expected["news"] + expected["late"]:
        event = stored[(case["reference"], case["discriminator"])]
        assert (event.kind, str(event.event_date)) == (case["kind"], case["event_date"])
    for case in expected["late"]:
        event = stored[(case["reference"], case["discriminator"])]
        assert event.backfill and event.details.get("late") is True
    # Reparse rebuilds the same flags from the stored documents.
    from regtrack.ingest import reparse

    reparse(store, FDA.from_config(config()))
    again = {(e.reference, e.discriminator): e for e in store.events()}
    assert {k: (e.backfill, e.details.get("late")) for k, e in again.items()} == {
        k: (e.backfill, e.details.get("late")) for k, e in stored.items()
    }
    # The window is per source: with none, the old decisions would have been news.
    assert FDA.from_config(config(news_window_days=0)).news_window_days == 0


def test_a_digest_reads_like_a_briefing(tmp_path: Path) -> None:
    """The third release through a daily digest: the new approval above the variations, the
    three variations of one product in one line, the late history as one summary line."""
    from regtrack import compose
    from regtrack.alerts import Alerts
    from regtrack.config import MailConfig, RecipientConfig, SubscriptionConfig
    from regtrack.emails import Renderer, preview

    store = Store.open(f"sqlite:///{tmp_path / 'd.db'}")
    cfg = config().model_copy(
        update={
            "mail": MailConfig(directory=str(tmp_path / "mail"), timezone="UTC"),
            "recipients": [
                RecipientConfig(
                    email="ra@example.org",
                    subscriptions=[SubscriptionConfig(frequency="daily", agencies=["FDA"])],
                )
            ],
        }
    )
    replay(store, release(tmp_path, RELEASE_1), cfg)
    replay(store, release(tmp_path, RELEASE_2), cfg)
    start = dt.datetime.now(dt.UTC)
    replay(store, release(tmp_path, RELEASE_3), cfg)
    alerts = Alerts(cfg, store, Renderer())
    end = start + dt.timedelta(hours=1)
    messages = compose.digests(
        cfg, Renderer(), alerts.window("daily", start, end), alerts.following()
    )
    (text,) = [preview(m.content) for m in messages]
    assert text.startswith("From: ")
    assert "Content-Transfer-Encoding" not in text  # readable, not raw MIME
    status = text.index("== Status changes ==")
    assert text.index("NDA219500") > status
    assert text.index("3 variations: SUPPL-13, SUPPL-14, SUPPL-15") > text.index("NDA219500")
    assert "ORIG-1" not in text.split("== Status changes ==")[0]
    assert "FDA published 2 older decisions; regtrack events --history --agency FDA" in text
    assert "1998" not in text.split("History published late")[0]  # old decisions not as news
    from regtrack.briefing import window_words

    assert window_words(start, end, "UTC") in text  # the window said in words
