"""The EMA medicines report parser: the real 2024 report, both forms, and bad documents."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from regtrack.config import Config, EMAConfig, SourcesConfig
from regtrack.errors import ShapeError
from regtrack.fetch import Document
from regtrack.model import NameKind
from regtrack.sources.ema import EMAReport

from .ema_xlsx import HEADERS, load_rows, write_xlsx

AMSTERDAM = dt.timezone(dt.timedelta(hours=2))


def doc(content: bytes) -> Document:
    return Document("ema", "https://example.test/report.xlsx", content, dt.datetime.now(dt.UTC))


def source(config: Config | None = None) -> EMAReport:
    return EMAReport.from_config(config or Config())


def test_real_report_has_every_human_row(ema_sample: Path) -> None:
    result = source().parse(doc(ema_sample.read_bytes()))
    assert result.document_kind == "ema-medicines-report-xlsx"
    assert result.generated_at == dt.datetime(2024, 8, 22, 15, 6, tzinfo=AMSTERDAM)
    assert len(result.observations) == 2096  # 2,433 rows, 337 of them veterinary
    # The real report has slips in this column: 'H/C/005084', 'H/C/002840/N/0049' are read
    # as product numbers; three rows carry a procedure number instead and are flagged.
    irregular = {o.reference for o in result.observations if o.fields.get("reference_irregular")}
    assert irregular == {"H/C/PSUSA/00001187/202308", "R/0023", "H/C/WS2451"}
    refs = {o.reference for o in result.observations}
    assert {"EMEA/H/C/005084", "EMEA/H/C/002840"} <= refs
    assert all(r.startswith("EMEA/H/C/") for r in refs - irregular)
    nexpovio = next(o for o in result.observations if o.reference == "EMEA/H/C/005127")
    f = nexpovio.fields
    assert (f["name"], f["inn"], f["status"]) == ("Nexpovio", "selinexor", "Authorised")
    assert f["opinion_date"] == "2021-01-28"
    assert f["authorisation_date"] == "2021-03-26"
    assert f["ec_decision_date"] == "2023-08-14"
    assert (f["conditional"], f["revision"], f["latest_procedure"]) == (False, 8, "N/0016")
    assert ("Nexpovio", NameKind.BRAND, "EU") in [
        (n.name, n.kind, n.region) for n in nexpovio.names
    ]


def test_veterinary_rows_behind_a_setting(ema_sample: Path) -> None:
    config = Config(sources=SourcesConfig(ema=EMAConfig(include_veterinary=True)))
    result = source(config).parse(doc(ema_sample.read_bytes()))
    assert len(result.observations) == 2433
    assert sum(o.fields["category"] == "Veterinary" for o in result.observations) == 337


def test_xlsx_and_json_forms_give_the_same_observations(
    ema_reports: dict[str, Path], small_config: Config
) -> None:
    ema = source(small_config)
    for name in ("2024-09-01", "2024-11-21"):
        from_xlsx = ema.parse(doc(ema_reports[f"{name}.xlsx"].read_bytes()))
        from_json = ema.parse(doc(ema_reports[f"{name}.json"].read_bytes()))
        assert from_json.document_kind == "ema-medicines-report-json"
        assert [o.fields for o in from_xlsx.observations] == [
            o.fields for o in from_json.observations
        ]
        assert "EMEA/V/C/009100" not in {o.reference for o in from_json.observations}
    # The later JSON is the {"meta", "data"} form with the other INN and generic key spellings.
    later = ema.parse(doc(ema_reports["2024-11-21.json"].read_bytes()))
    assert later.generated_at == dt.datetime(
        2024, 11, 21, 6, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))
    )
    assert {o.fields["inn"] for o in later.observations} >= {"selinexor", "thetarinase"}


def test_renamed_required_column_is_a_shape_error(tmp_path: Path, small_config: Config) -> None:
    rows = load_rows(Path(__file__).parent / "data" / "ema" / "report_2024-09-01.json")
    headers = [h if h != "Conditional approval" else "Conditional MA" for h in HEADERS]
    path = write_xlsx(rows, tmp_path / "renamed.xlsx", dt.datetime(2024, 9, 1), headers)
    with pytest.raises(ShapeError, match="Conditional approval"):
        source(small_config).parse(doc(path.read_bytes()))


def test_renamed_column_in_json_is_a_shape_error(small_config: Config) -> None:
    rows = [
        {k.replace("ema_product_number", "product_no"): v for k, v in r.items()}
        for r in load_rows(Path(__file__).parent / "data" / "ema" / "report_2024-09-01.json")
    ]
    with pytest.raises(ShapeError, match="EMA product number"):
        source(small_config).parse(doc(json.dumps(rows).encode()))


def test_truncated_xlsx_is_a_shape_error(ema_sample: Path) -> None:
    content = ema_sample.read_bytes()
    with pytest.raises(ShapeError, match="truncated or damaged"):
        source().parse(doc(content[: len(content) // 2]))


def test_report_with_too_few_rows_is_partial(ema_reports: dict[str, Path]) -> None:
    with pytest.raises(ShapeError, match=r"only 9 rows \(at least 1000 expected\)"):
        source().parse(doc(ema_reports["2024-09-01.xlsx"].read_bytes()))


def test_html_error_page_served_as_the_report(small_config: Config) -> None:
    page = b"<!DOCTYPE html><html><body><h1>Access denied</h1></body></html>"
    with pytest.raises(ShapeError, match="HTML/XML page"):  # fetched from the report's feed
        source(small_config).parse(replace(doc(page), kind="ema-medicines-report"))
    with pytest.raises(ShapeError, match="neither an XLSX nor a JSON"):
        source(small_config).parse(replace(doc(b"\x00\x01garbage"), kind="ema-medicines-report"))
    # Recognised from its bytes alone (a replayed file), it is no document of this source.
    assert source(small_config).sniff(page) is None
    with pytest.raises(ShapeError, match="not a document the ema source reads"):
        source(small_config).parse(doc(page))


def test_unreadable_date_names_row_and_column(tmp_path: Path, small_config: Config) -> None:
    rows = load_rows(Path(__file__).parent / "data" / "ema" / "report_2024-09-01.json")
    rows[2]["marketing_authorisation_date"] = "2023-03-24"  # ISO, not the report's dd/mm/yyyy
    path = write_xlsx(rows, tmp_path / "bad-date.xlsx", dt.datetime(2024, 9, 1))
    with pytest.raises(ShapeError, match=r"row 12, column 'Marketing authorisation date'"):
        source(small_config).parse(doc(path.read_bytes()))


def test_sheet_missing_is_a_shape_error(small_config: Config) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Something else"
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(ShapeError, match="no sheet 'Medicine'"):
        source(small_config).parse(doc(buffer.getvalue()))


def test_zip_that_is_not_a_workbook(small_config: Config) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    with pytest.raises(ShapeError, match="cannot be opened"):
        source(small_config).parse(doc(buffer.getvalue()))
