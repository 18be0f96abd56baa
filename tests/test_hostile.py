"""Faults and hostile input found by an adversarial run, each reproduced against the real
pipeline (and a real local HTTP server): none may crash a poll or reach an inbox."""

from __future__ import annotations

import datetime as dt
import io
import json
import time
import zipfile
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from regtrack.config import Config, FDAConfig, FetchConfig, SourcesConfig, load
from regtrack.errors import ConfigError, FetchError
from regtrack.fetch import Fetcher
from regtrack.poll import poll
from regtrack.sources.ema import EMAReport
from regtrack.sources.fda import FDA
from regtrack.store import Store

from .fda_zip import build

DATA = Path(__file__).parent / "data"


def replay(store: Store, source: object, path: Path) -> object:
    (outcome,) = poll(store, source, None, from_file=path)  # type: ignore[arg-type]
    return outcome


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("deep.json", b"[" * 100_000 + b"]" * 100_000),  # RecursionError in any JSON reader
        (
            "types.json",
            json.dumps([{"ema_product_number": {"x": 1}, "category": ["Human"]}] * 6).encode(),
        ),
        (
            "ints.json",
            json.dumps(
                [{"category": 1, "name_of_medicine": 2, "ema_product_number": 3}] * 6
            ).encode(),
        ),
        (
            "bad-date.json",
            json.dumps(
                [
                    json.loads((DATA / "ema" / "report_2024-09-01.json").read_text())[0]
                    | {"marketing_authorisation_date": "31/02/2024"}
                ]
                * 6
            ).encode(),
        ),
        ("not-utf8.json", b'[{"category": "Human", "name_of_medicine": "\xff\xfe"}]'),
    ],
)
def test_odd_json_is_a_shape_failure_not_a_crash(
    store: Store, small_config: Config, tmp_path: Path, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    outcome = replay(store, EMAReport.from_config(small_config), path)
    assert outcome.status == "failed" and outcome.shape_error  # type: ignore[attr-defined]
    (health,) = store.health()
    assert not health.healthy and (health.parse_health or "").startswith("failed")
    assert [s.parse_ok for s in store.snapshots("ema")] == [False]  # the document is kept


def _bomb(names: list[str], size: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            archive.writestr(name, b"\0" * size)
    return buffer.getvalue()


def test_an_archive_that_unpacks_to_gigabytes_is_refused_unread(
    store: Store, tmp_path: Path
) -> None:
    """A small zip of 450 MB of zeros: refused by its declared sizes, memory stays small."""
    import resource

    path = tmp_path / "bomb.zip"
    path.write_bytes(_bomb(["Applications.txt", "Submissions.txt", "Products.txt"], 150_000_000))
    assert path.stat().st_size < 2_000_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcome = replay(store, FDA.from_config(Config()), path)
    grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert outcome.status == "failed" and "would unpack to" in outcome.message  # type: ignore[attr-defined]
    assert grew < 100_000  # KiB: nothing was decompressed


def test_control_characters_never_reach_names_evidence_or_headers(
    store: Store, small_config: Config, tmp_path: Path
) -> None:
    rows = json.loads((DATA / "ema" / "report_2024-09-01.json").read_text())
    rows[0]["name_of_medicine"] = "Nexpovio\r\nBcc: victim@example.org\x1b]0;pwned\x07"
    path = tmp_path / "report.json"
    path.write_text(json.dumps(rows))
    replay(store, EMAReport.from_config(small_config), path)
    events = store.events()
    for event in events:
        for text in (event.brand or "", event.product, event.evidence):
            assert not any(ord(c) < 32 and c not in "\n\t" for c in text), text
    assert any((e.brand or "").startswith("Nexpovio Bcc: victim@example.org") for e in events)


def test_a_server_that_trickles_meets_one_deadline(httpserver: HTTPServer) -> None:
    def trickle(_: Request) -> Response:
        def body():  # type: ignore[no-untyped-def]
            for _ in range(40):
                time.sleep(0.1)
                yield b"x"

        return Response(body(), content_type="application/json")

    httpserver.expect_request("/slow").respond_with_handler(trickle)
    config = FetchConfig(robots_txt=False, retries=0, timeout_seconds=5, deadline_seconds=1)
    started = time.monotonic()
    with pytest.raises(FetchError, match="took over 1 s"):
        Fetcher(config).get("ema", httpserver.url_for("/slow"))
    assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[mail]\ndaily_at = "25:99"\n', "is not a time of day"),
        ("[sources.ema]\ninterval_hours = 1e12\n", "less than or equal to 8760"),
        (
            '[[recipients]]\nemail = "a@b.c"\n[[recipients.subscriptions]]\nkinds = ["aproval"]\n',
            "unknown event kind",
        ),
        ("[operators]\nstale_after_hours = { emma = 72 }\n", "unknown source"),
        ('[operators]\nemails = ["not an address"]\n', "is not an email address"),
        ('[mail]\nsender = "x\\nBcc: y@z"\n', "is not an email address"),
        ('[mail]\ntemplates = "/no/such/folder"\n', "templates folder not found"),
    ],
)
def test_bad_config_is_refused_when_read(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load(path, env={})


def test_a_status_column_empty_in_every_row_is_a_shape_failure(
    store: Store, small_config: Config, tmp_path: Path
) -> None:
    rows = json.loads((DATA / "ema" / "report_2024-09-01.json").read_text())
    path = tmp_path / "empty.json"
    path.write_text(json.dumps([r | {"medicine_status": None} for r in rows]))
    outcome = replay(store, EMAReport.from_config(small_config), path)
    assert outcome.status == "failed" and "'Medicine status' is empty" in outcome.message  # type: ignore[attr-defined]


def test_a_mass_change_of_statuses_is_a_shape_failure_not_news(
    store: Store, small_config: Config, tmp_path: Path
) -> None:
    first = DATA / "ema" / "report_2024-09-01.json"
    replay(store, EMAReport.from_config(small_config), first)
    before = len(store.events())
    rows = json.loads(first.read_text())
    path = tmp_path / "renamed.json"
    path.write_text(json.dumps([r | {"medicine_status": "Authorised (renamed)"} for r in rows]))
    outcome = replay(store, EMAReport.from_config(small_config), path)
    assert outcome.status == "failed" and "changed status in one document" in outcome.message  # type: ignore[attr-defined]
    assert len(store.events()) == before


def _fda_release(folder: Path, released: str, lookup: dict[str, str]) -> Path:
    """A small Drugs@FDA release: 12 applications, one marketed product each."""
    folder.mkdir()
    tables = {
        "Applications": [["ApplNo", "ApplType", "SponsorName"]]
        + [[f"2100{i:02d}", "NDA", "SPONSOR"] for i in range(12)],
        "Products": [["ApplNo", "ProductNo", "DrugName", "ActiveIngredient"]]
        + [[f"2100{i:02d}", "001", f"BRAND{i}", f"substance{i}"] for i in range(12)],
        "MarketingStatus": [["MarketingStatusID", "ApplNo", "ProductNo"]]
        + [["1", f"2100{i:02d}", "001"] for i in range(12)],
        "MarketingStatus_Lookup": [["MarketingStatusID", "MarketingStatusDescription"]]
        + [[k, v] for k, v in lookup.items()],
        "Submissions": [
            ["ApplNo", "SubmissionClassCodeID", "SubmissionType", "SubmissionNo",
             "SubmissionStatus", "SubmissionStatusDate", "ReviewPriority"]
        ]
        + [[f"2100{i:02d}", "7", "ORIG", "1", "AP", "2020-01-02 00:00:00", "STANDARD"]
           for i in range(12)],
        "SubmissionClass_Lookup": [
            ["SubmissionClassCodeID", "SubmissionClassCode", "SubmissionClassCodeDescription"],
            ["7", "TYPE 1", "New Molecular Entity"],
        ],
    }  # fmt: skip
    for name, rows in tables.items():
        (folder / f"{name}.txt").write_text("\r\n".join("\t".join(r) for r in rows) + "\r\n")
    path = folder.with_suffix(".zip")
    path.write_bytes(build(folder.glob("*.txt"), dt.date.fromisoformat(released)))
    return path


LOOKUP = {"1": "Prescription", "2": "Over-the-counter", "3": "Discontinued",
          "4": "None (Tentative Approval)"}  # fmt: skip


@pytest.mark.parametrize(
    ("lookup", "message"),
    [
        # Renumbered: every marketed product would read "Discontinued".
        (LOOKUP | {"1": "Discontinued", "3": "Prescription"}, "changed status in one document"),
        ({}, "MarketingStatus_Lookup has no rows"),
        (LOOKUP | {"1": "Rx"}, "unknown status(es) 'Rx'"),
        ({k: v for k, v in LOOKUP.items() if k != "1"}, "status id(s) not in"),
    ],
    ids=["renumbered", "empty", "new-word", "id-missing"],
)
def test_a_changed_fda_status_lookup_is_a_shape_failure_not_news(
    store: Store, tmp_path: Path, lookup: dict[str, str], message: str
) -> None:
    source = FDA.from_config(Config(sources=SourcesConfig(fda=FDAConfig(min_applications=1))))
    first = _fda_release(tmp_path / "release_2025-01-07", "2025-01-07", LOOKUP)
    assert replay(store, source, first).status == "changed"  # type: ignore[attr-defined]
    before = len(store.events())
    second = _fda_release(tmp_path / "release_2025-01-14", "2025-01-14", lookup)
    outcome = replay(store, source, second)
    assert outcome.status == "failed" and message in outcome.message  # type: ignore[attr-defined]
    assert len(store.events()) == before  # no "end of authorisation", no news
    assert not next(h for h in store.health() if h.source == "fda").healthy
    # The real release the week after is read as it is: nothing changed.
    third = _fda_release(tmp_path / "release_2025-01-21", "2025-01-21", LOOKUP)
    assert replay(store, source, third).status == "changed"  # type: ignore[attr-defined]
    assert len(store.events()) == before


def test_openfda_brand_name_as_a_string_is_a_shape_failure(store: Store, tmp_path: Path) -> None:
    data = json.loads((DATA / "fda" / "openfda_NDA212306_2025-03-10.json").read_text())
    data["results"][0]["openfda"]["brand_name"] = "XPOVIO"
    path = tmp_path / "openfda.json"
    path.write_text(json.dumps(data))
    outcome = replay(store, FDA.from_config(Config()), path)
    assert outcome.status == "failed" and "not a list of names" in outcome.message  # type: ignore[attr-defined]
    assert not any(len(a) == 1 for a in store.alias_names())


def test_a_document_does_not_choose_the_hosts_regtrack_fetches(
    httpserver: HTTPServer, sqlite_store: Store
) -> None:
    """The report's "Medicine URL" naming another host (a loopback admin page, here
    127.0.0.1 while the source is configured on localhost) is not fetched, and neither is a
    redirect to it."""
    from regtrack.config import EMAConfig, SourcesConfig

    admin: list[str] = []
    httpserver.expect_request("/admin").respond_with_handler(
        lambda r: admin.append(r.path) or Response("secret")  # type: ignore[func-returns-value]
    )
    rows = json.loads((DATA / "ema" / "report_2024-09-01.json").read_text())
    other = f"http://127.0.0.1:{httpserver.port}"  # the same server, by another host name
    rows[0]["medicine_url"] = f"{other}/admin"
    httpserver.expect_request("/report.json").respond_with_json(rows)
    httpserver.expect_request("/moved").respond_with_data(
        "", status=302, headers={"Location": f"{other}/admin"}
    )
    local = f"http://localhost:{httpserver.port}"
    from regtrack.config import ProductConfig

    config = Config(
        products=[ProductConfig(name="selinexor")],  # a first poll follows tracked ones
        fetch=FetchConfig(robots_txt=False, retries=0, min_interval_seconds=0),
        sources=SourcesConfig(ema=EMAConfig(url=f"{local}/report.json", min_rows=5,
                                            follow_pages="new", news_window_days=0)),
    )  # fmt: skip
    source = EMAReport.from_config(config)
    assert "localhost" in source.hosts() and "127.0.0.1" not in source.hosts()
    outcomes = poll(sqlite_store, source, Fetcher(config.fetch))
    refused = [o for o in outcomes if "is not one this source fetches from" in o.message]
    assert refused and admin == []
    with pytest.raises(FetchError, match=r"host 127\.0\.0\.1 is not one this source fetches"):
        Fetcher(config.fetch).get("ema", f"{local}/moved", hosts=source.hosts())
    assert admin == []


def _zip_of(name: str, text: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, text)
    return out.getvalue()


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"%PDF-1.4\n%%EOF",
        b"PK\x03\x04 a truncated archive",
        bytes(range(256)) * 8,
        b"<html><body><h1>SMC decisions April 2026</h1></body></html>",
        b"SMC decisions Foo 2026\nZetamab (Zetavia) was accepted",
        _zip_of("xl/sharedStrings.xml", "medicines under evaluation INN"),
    ],
    ids=["empty", "empty-pdf", "truncated-zip", "binary", "release-without-medicines",
         "release-without-month", "xlsx-without-sheets"],
)  # fmt: skip
def test_the_forward_looking_readers_fail_odd_input_as_a_shape(content: bytes) -> None:
    """CDER's list, EMA's list under evaluation, SMC's monthly release, a NICE guidance
    document: odd bytes are a ShapeError (a health failure), never another exception."""
    from regtrack.errors import ShapeError
    from regtrack.sources.ema import evaluation
    from regtrack.sources.fda import accelerated
    from regtrack.sources.nice import guidance
    from regtrack.sources.smc import releases

    nice = "https://www.nice.org.uk/guidance/GID-TA11401/documents/129"
    for read in (accelerated.read, evaluation.read, lambda c: releases.read(c, "https://x"),
                 lambda c: guidance.read(c, nice, "https://www.nice.org.uk")):  # fmt: skip
        with pytest.raises(ShapeError):
            read(content)
