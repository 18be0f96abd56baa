"""EMA's monthly list of medicines under evaluation (XLSX, written here in its layout): each
substance under evaluation an event when it first appears; one that leaves the list is not
"removed"; a list whose headings changed is a health failure."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import openpyxl

from regtrack.config import Config, EMAConfig, SourcesConfig
from regtrack.poll import poll
from regtrack.reports import current
from regtrack.sources.ema import EMAReport
from regtrack.sources.ema.evaluation import KIND
from regtrack.store import EventFilter, Store

URL = "https://www.ema.europa.eu/en/documents/report/medicines-under-evaluation_en.xlsx"
HEADINGS = ("International non-proprietary name (INN) / common name", "Therapeutic area",
            "Summary of the therapeutic indication applied for")  # fmt: skip
ZETAMAB = ("zetamab", "Pulmonary fibrosis", "Treatment of refractory pulmonary fibrosis")
KETAMAB = ("ketamab", "Multiple myeloma", "Relapsed or refractory multiple myeloma")
GENERIC = ("apixaban", "Venous thromboembolism", None)


def evaluation_list(
    tmp_path: Path,
    month: str,
    rows: list[tuple[str | None, ...]],
    headings: tuple[str, ...] = HEADINGS,
) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Applications for new human medicines under evaluation by the Committee "
                  "for Medicinal Products for Human Use (CHMP)"])  # fmt: skip
    sheet.append([month])
    sheet.append([])
    sheet.append(list(headings))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    path = tmp_path / f"under-evaluation-{month.replace(' ', '-')}.xlsx"
    path.write_bytes(out.getvalue())
    return path


def source() -> EMAReport:
    settings = EMAConfig(under_evaluation_url=URL, min_rows=1)
    return EMAReport.from_config(Config(sources=SourcesConfig(ema=settings)))


def test_a_substance_new_to_the_list_is_news_and_one_that_leaves_is_not_removed(
    store: Store, tmp_path: Path
) -> None:
    first = evaluation_list(tmp_path, "January 2025", [ZETAMAB, GENERIC])
    (outcome,) = poll(store, source(), None, from_file=first)
    assert outcome.status == "changed" and outcome.news == []  # a first list: history
    rows = {e.reference: e for e in store.events(EventFilter(kind="under_evaluation"))}
    zetamab = rows["CHMP evaluation: zetamab (Pulmonary fibrosis)"]
    assert str(zetamab.event_date) == "2025-01-01" and zetamab.date_approximate
    assert "refractory pulmonary fibrosis" in zetamab.evidence
    status = current([zetamab])["EMA"]
    assert "under evaluation by the CHMP since 2025-01-01~" in str(status)

    later = evaluation_list(tmp_path, "February 2025", [ZETAMAB, KETAMAB])
    (outcome,) = poll(store, source(), None, from_file=later)
    assert [(d.kind.value, d.reference) for d in outcome.news] == [
        ("under_evaluation", "CHMP evaluation: ketamab (Multiple myeloma)")
    ]
    assert store.events(EventFilter(kind="record_removed")) == []  # apixaban left: no removal


def test_a_list_whose_headings_changed_fails_loudly(store: Store, tmp_path: Path) -> None:
    changed = evaluation_list(tmp_path, "March 2025", [ZETAMAB],
                              headings=("Substance", "Area", "Indication"))  # fmt: skip
    (outcome,) = poll(store, source(), None, from_file=changed)
    assert outcome.status == "failed" and outcome.shape_error
    assert "no heading row naming the INN and the therapeutic area" in outcome.message
    assert store.events() == []


def test_the_list_and_the_medicines_report_are_told_apart(tmp_path: Path) -> None:
    from .ema_xlsx import load_rows, write_xlsx

    listed = evaluation_list(tmp_path, "January 2025", [ZETAMAB]).read_bytes()
    assert source().sniff(listed) == KIND
    report = tmp_path / "report.xlsx"
    rows = load_rows(Path(__file__).parent / "data" / "ema" / "report_2024-09-01.json")
    write_xlsx(rows, report, dt.datetime(2024, 9, 1, tzinfo=dt.UTC))
    assert source().sniff(report.read_bytes()) == "ema-medicines-report"
