"""CDER's accelerated-approvals list: the real file read whole, and editions of our own
through the pipeline (a conversion is news; an indication withdrawn is not the product's end;
a list whose shape changed is a health failure)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from regtrack.config import Config, FDAConfig, SourcesConfig
from regtrack.poll import poll
from regtrack.reports import current
from regtrack.sources.fda import FDA, accelerated
from regtrack.store import EventFilter, Store

from .cder_pdf import accelerated_pdf

URL = "https://www.fda.gov/media/151146/download"
SCEMBLIX = ["NDA 215358", "SCEMBLIX", "ASCIMINIB", "NOVARTIS", "4/29/2021", "10/29/2021", "6.0",
            "PH+ CML IN CHRONIC PHASE, PREVIOUSLY TREATED", "Not Yet Converted", ""]  # fmt: skip
KEYTRUDA = ["BLA 125514 Supplement 136", "KEYTRUDA", "PEMBROLIZUMAB", "MERCK", "10/21/2022",
            "4/3/2023", "5.4", "WITH ENFORTUMAB VEDOTIN FOR UROTHELIAL CARCINOMA",
            "Not Yet Converted", ""]  # fmt: skip


def source() -> FDA:
    return FDA.from_config(Config(sources=SourcesConfig(fda=FDAConfig(accelerated_url=URL))))


def edition(tmp_path: Path, name: str, rows: list[list[str]], as_of: str) -> Path:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(accelerated_pdf(rows, as_of=as_of))
    return path


def test_the_real_list_reads_every_approval(samples: Path) -> None:
    pdf = samples / "fda" / "cder_accelerated_approvals_surrogate_endpoint_2024-03-31.pdf"
    as_of, rows = accelerated.read(pdf.read_bytes())
    assert as_of == dt.datetime(2024, 3, 31, tzinfo=dt.UTC)
    assert len(rows) == 310  # "Total Approvals 310"
    assert Counter(r["status"] for r in rows) == {
        "converted": 178, "ongoing": 87, "application withdrawn": 24, "indication withdrawn": 21,
    }  # fmt: skip
    (keytruda,) = [
        r for r in rows if (r["reference"], r["submission"]) == ("BLA125514", "SUPPL-136")
    ]
    (event,) = accelerated.history(accelerated.observation(keytruda))
    assert (event.kind, event.event_date) == ("conversion_to_full", dt.date(2023, 12, 15))
    assert event.details["scope"] == "indication" and "UROTHELIAL" in event.details["indication"]
    assert "KEYTRUDA" in event.evidence and "2023-04-03" in event.evidence
    ukoniq = {r["brand"] for r in rows if r["reference"] == "NDA213176"}
    assert ukoniq == {"UKONIQ"}  # spaced letter by letter in the PDF


def test_a_conversion_is_news_and_an_indication_withdrawn_is_not_the_end(
    store: Store, tmp_path: Path
) -> None:
    first = edition(tmp_path, "2024-03", [SCEMBLIX, KEYTRUDA], "March 31, 2024")
    (outcome,) = poll(store, source(), None, from_file=first)
    assert outcome.status == "changed" and outcome.news == []  # nothing converted yet
    converted = [*SCEMBLIX[:8], "Converted", "10/12/2024"]
    withdrawn = [*KEYTRUDA[:8], "Not Converted - Indication Withdrawn", "11/1/2024"]
    later = edition(tmp_path, "2024-12", [converted, withdrawn], "December 31, 2024")
    (outcome,) = poll(store, source(), None, from_file=later)
    news = {(d.reference, d.kind.value, d.details["scope"]) for d in outcome.news}
    assert news == {("NDA215358", "conversion_to_full", "application"),
                    ("BLA125514", "withdrawal", "indication")}  # fmt: skip
    rows = store.events(EventFilter(agency="FDA"))
    scemblix = current([r for r in rows if r.reference == "NDA215358"])["FDA"]
    assert "regular approval since 2024-10-12" in str(scemblix)
    keytruda = current([r for r in rows if r.reference == "BLA125514"]).get("FDA")
    assert keytruda is None or "ended" not in str(keytruda)  # one indication, not the licence
    (outcome,) = poll(store, source(), None, from_file=later)
    assert outcome.news == []  # read again: nothing twice


def test_a_list_whose_columns_changed_fails_loudly_and_removes_nothing(
    store: Store, tmp_path: Path
) -> None:
    (outcome,) = poll(
        store, source(), None, from_file=edition(tmp_path, "a", [SCEMBLIX], "May 1, 2024")
    )
    before = len(store.events())
    renamed = ("Application", *accelerated.COLUMNS[1:])
    changed = tmp_path / "changed.pdf"
    changed.write_bytes(accelerated_pdf([SCEMBLIX], as_of="June 1, 2024", columns=renamed))
    (outcome,) = poll(store, source(), None, from_file=changed)
    assert outcome.status == "failed" and outcome.shape_error
    assert "accelerated approvals columns changed" in outcome.message
    assert len(store.events()) == before
    (health,) = [h for h in store.health() if h.source == "fda"]
    assert health.consecutive_failures >= 1 and "accelerated approvals" in (health.last_error or "")


def test_the_data_files_and_cders_list_report_one_switch_with_both_evidences(
    store: Store, tmp_path: Path
) -> None:
    """Drugs@FDA's confirmatory approval (action type 4, since 2025) and CDER's "Converted"
    row for the same application on the same day: one conversion, quoting both."""
    from .fda_zip import build

    folder = Path(__file__).parent / "data" / "fda" / "release_2025-03-04"
    zipped = tmp_path / "release.zip"
    zipped.write_bytes(build(folder.glob("*.txt"), dt.date(2025, 3, 4)))
    cfg = Config(sources=SourcesConfig(fda=FDAConfig(min_applications=1, accelerated_url=URL)))
    fda = FDA.from_config(cfg)
    poll(store, fda, None, from_file=zipped)
    zetamab = ["BLA 761234", "ZETAVIA", "ZETAMAB", "ZETA BIO", "10/30/2020", "4/30/2021", "6.0",
               "REFRACTORY PULMONARY FIBROSIS", "Converted", "2/27/2025"]  # fmt: skip
    poll(store, fda, None, from_file=edition(tmp_path, "2025-03", [zetamab], "March 31, 2025"))
    (switch,) = store.events(EventFilter(kind="conversion_to_full", agency="FDA"))
    assert (switch.reference, switch.event_date) == ("BLA761234", dt.date(2025, 2, 27))
    assert "Confirmatory" in switch.evidence and "CDER accelerated approvals" in switch.evidence
    assert switch.details["action_types"] == [4] and switch.details["scope"] == "application"
