"""Reports on the offline demo's data: every timeline format checked for content, status, lag,
the Atom feed, --as-of, and the HTML page rendered by headless Chromium."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from regtrack.cli import cli

MHRA_PATH = (
    "/government/news/mhra-grants-conditional-marketing-authorisation-for-selinexor-nexpovio"
)
STATUS = {
    "EMA": "Nexpovio full authorisation since 2022-07-18 (EMEA/H/C/005127)",
    "FDA": "XPOVIO regular approval since 2020-12-18 (NDA212306); "
    "approved since 2025-01-15 (ANDA214999)",
    "MHRA": f"Nexpovio conditional authorisation since 2021-06-17~ ({MHRA_PATH})",
    # each appraisal with its own date: TA974 was published a week after TA970
    "NICE": "recommended since 2024-05-08 (TA970) / "
    "recommended with restrictions since 2024-05-15 (TA974)",
    "SMC": "accepted since 2024-10-07 (SMC2721) / "
    "recommended with restrictions since 2024-10-07 (SMC2722)",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("demo") / "run"
    result = CliRunner().invoke(cli, ["demo", "--dir", str(folder)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return folder / "config.toml", result.output


def run(config: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_demo_shows_the_switch_in_its_digest_and_prints_the_timeline(
    demo: tuple[Path, str],
) -> None:
    config, output = demo
    assert "cycle 1:" in output and "cycle 2:" in output
    digest = output[output.index("Subject: regtrack immediate digest") :]
    assert digest.startswith("Subject: regtrack immediate digest: 2 changes (selinexor)")
    assert (
        "*** 2022-07-18  EMA  selinexor (Nexpovio): conversion to full authorisation (II/0009)"
        "  EMEA/H/C/005127" in digest
    )
    assert "selinexor (also: KPT-330, Nexpovio, Xpovio)" in output
    emails = list((config.parent / "mail").glob("*.eml"))
    assert len(emails) == 2  # "now tracking" in cycle 1, the switch in cycle 2
    for path in emails:
        raw = path.read_bytes()
        (header,) = [line for line in raw.split(b"\n") if line.startswith(b"List-Unsubscribe:")]
        # One raw header a mail client can act on, not RFC 2047 encoded words.
        assert header.startswith(b"List-Unsubscribe: <mailto:regtrack@example.org?subject=")
        assert b"=?utf-8?" not in header
    tracking = next(p for p in emails if b"now tracks" in p.read_bytes())
    import email
    from email import policy

    html = email.message_from_bytes(tracking.read_bytes(), policy=policy.default).get_body(
        ("html",)
    )
    assert html is not None and "<strong>EMA</strong>" in html.get_content()
    assert "<strong>NICE</strong>" in html.get_content()


def test_table_opens_with_the_status_of_every_body(demo: tuple[Path, str]) -> None:
    lines = run(demo[0], "timeline", "selinexor").splitlines()
    assert lines[0] == "selinexor (also: KPT-330, Nexpovio, Xpovio)"
    order = ("EMA", "MHRA", "FDA", "NICE", "SMC")
    assert lines[1:6] == [f"{body:<5} {STATUS[body]}" for body in order]  # a line per body
    dates = [line.split()[0] for line in lines[7:] if line[:2] == "20"]
    assert dates == sorted(dates, key=lambda d: d.rstrip("~*"))  # grouped by date
    assert any(
        line.startswith("2021-06-17~  MHRA  Nexpovio  authorisation (conditional)")
        for line in lines
    )
    assert all(len(line) <= 120 for line in lines[7:])  # the table fits 120 columns


def test_a_brand_shows_its_own_authorisations_and_names_the_others(demo: tuple[Path, str]) -> None:
    lines = run(demo[0], "timeline", "xpovio").splitlines()
    assert lines[0] == "XPOVIO (selinexor)"
    assert lines[1] == "Other selinexor brands: Nexpovio"
    # The US brand at the FDA; the EU brand's authorisations are not XPOVIO's; HTA decisions
    # are on the substance and stay.
    assert lines[2].startswith("EMA   no XPOVIO authorisation; 1 other selinexor medicine fully")
    assert any(
        line.startswith("FDA   XPOVIO regular approval since 2020-12-18 (NDA212306)")
        for line in lines
    )
    assert "NICE  recommended since 2024-05-08 (TA970) / recommended with restrictions since " \
        "2024-05-15 (TA974)" in lines  # fmt: skip
    assert not any(" EMA " in line for line in lines[7:])


def test_json_csv_and_markdown(demo: tuple[Path, str]) -> None:
    data = json.loads(run(demo[0], "timeline", "selinexor", "--format", "json"))
    assert data["status"] == STATUS
    conversion = next(
        e for e in data["events"] if e["kind"] == "conversion_to_full" and e["agency"] == "EMA"
    )
    assert (conversion["event_date"], conversion["date_approximate"]) == ("2022-07-18", False)
    rows = list(
        csv.DictReader(io.StringIO(run(demo[0], "timeline", "selinexor", "--format", "csv")))
    )
    assert len(rows) == len(data["events"])
    assert {(r["agency"], r["reference"]) for r in rows} >= {
        ("NICE", "TA974"),
        ("SMC", "SMC2722"),
        ("FDA", "NDA212306"),
    }
    md = run(demo[0], "timeline", "selinexor", "--format", "md")
    assert md.startswith("# selinexor")
    assert "**Status:** EMA: Nexpovio full authorisation since 2022-07-18" in md
    assert "| 2024-05-15 | NICE |  | HTA decision (recommended with restrictions) | TA974 |" in md
    assert all(r["brand"] for r in rows if r["agency"] == "EMA")


def test_as_of_shows_what_was_known_then(demo: tuple[Path, str]) -> None:
    then = run(demo[0], "timeline", "selinexor", "--as-of", "2021-12-31").splitlines()
    assert then[0].endswith("as known on 2021-12-31")
    assert then[1:4] == [
        "EMA   Nexpovio conditional authorisation since 2021-03-26 (EMEA/H/C/005127)",
        f"MHRA  Nexpovio conditional authorisation since 2021-06-17~ ({MHRA_PATH})",
        # CDER's list: the accelerated approval of 2019 converted on 18 December 2020.
        "FDA   XPOVIO regular approval since 2020-12-18 (NDA212306)",
    ]
    assert not any("TA970" in line for line in then)  # NICE had not decided yet


def test_ics_parses_with_icalendar(demo: tuple[Path, str]) -> None:
    import icalendar

    calendar = icalendar.Calendar.from_ical(
        run(demo[0], "timeline", "selinexor", "--format", "ics")
    )
    events = list(calendar.walk("VEVENT"))
    data = json.loads(run(demo[0], "timeline", "selinexor", "--format", "json"))
    assert len(events) == sum(1 for e in data["events"] if e["event_date"])
    switch = next(
        e
        for e in events
        if "EMA" in str(e["SUMMARY"]) and "conversion to full" in str(e["SUMMARY"])
    )
    assert str(switch["DTSTART"].dt) == "2022-07-18" and str(switch["DTEND"].dt) == "2022-07-19"
    assert str(switch["URL"]).startswith("http://127.0.0.1:")
    assert len({str(e["UID"]) for e in events}) == len(events)


def test_status_lag_and_feed(demo: tuple[Path, str]) -> None:
    status = run(demo[0], "status", "selinexor").splitlines()
    assert status[0].split() == ["PRODUCT", "BODY", "STATUS"]
    assert status[1].split()[:2] == ["selinexor", "EMA"]
    assert "full authorisation since 2022-07-18" in status[1]
    assert "NICE  recommended with restrictions since 2024-05-15 (TA974)" in "\n".join(status)
    assert all(len(line) <= 120 for line in status)  # fits 120 columns
    lag = run(demo[0], "lag").splitlines()
    selinexor = next(line for line in lag if line.startswith("selinexor"))
    # First approval: FDA 2019-07-03; EU +632 days, MHRA +715, NICE +1771, SMC +1923.
    assert selinexor.split()[1:] == ["FDA", "2019-07-03", "+632", "+715", "+0", "+1771", "+1923"]
    assert lag[-1].startswith("median")
    feed = ElementTree.fromstring(run(demo[0], "feed", "--product", "nexpovio").encode())
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = feed.findall("a:entry", ns)
    titles = [e.findtext("a:title", namespaces=ns) for e in entries]
    assert any("conversion to full authorisation" in t for t in titles)
    assert all("history" not in (e.findtext("a:content", namespaces=ns) or "") for e in entries)
    assert len({e.findtext("a:id", namespaces=ns) for e in entries}) == len(entries)
    # Entries are dated when regtrack detected them; the body's date is in the content.
    switch = next(
        e for e in entries if "conversion" in (e.findtext("a:title", namespaces=ns) or "")
    )
    assert not (switch.findtext("a:updated", namespaces=ns) or "").startswith("2022")
    assert "decision 2022-07-18" in (switch.findtext("a:content", namespaces=ns) or "")
    assert not any(c.get("term") == "record_removed" for c in feed.iter(f"{{{ns['a']}}}category"))
    linked = ElementTree.fromstring(
        run(demo[0], "feed", "--self-url", "https://regtrack.example.org/feed.xml").encode()
    )
    (self_link,) = [link for link in linked.findall("a:link", ns) if link.get("rel") == "self"]
    assert self_link.get("href") == "https://regtrack.example.org/feed.xml"


def test_html_page_is_self_contained_and_escapes(demo: tuple[Path, str]) -> None:
    html = run(demo[0], "timeline", "selinexor", "--format", "html")
    assert html.count('<rect x="0"') == 5 and html.count("<circle") >= 15
    assert "<script" not in html and "http" not in html.split("<table>")[0].replace(
        "http://www.w3.org/2000/svg", ""
    )
    assert "Current status</strong>" in html and "full authorisation since 2022-07-18" in html


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)
def test_html_page_in_headless_chromium_shows_the_swimlane(
    demo: tuple[Path, str], tmp_path: Path
) -> None:
    from PIL import Image

    page = tmp_path / "selinexor.html"
    page.write_text(run(demo[0], "timeline", "selinexor", "--format", "html"))
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1200,900",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    image = Image.open(shot).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20) or []
    count = {rgb: n for n, rgb in colours}

    def pixels(hex_colour: str) -> int:
        return count.get(tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)), 0)  # type: ignore[arg-type]

    # The two alternating lane bands fill most of the drawing; each body's dots are there.
    assert pixels("#f4f7fb") > 50_000 and pixels("#e9eef5") > 30_000
    for colour in ("#1f5fa8", "#c0392b", "#7b3fa0", "#1e8449", "#d68910"):  # EMA FDA MHRA NICE SMC
        assert pixels(colour) > 40, colour


def _brands_report(path: Path) -> Path:
    """Our 2024-09-01 fixture plus two more brands of one INN: one withdrawn (as Trudexa was
    beside Humira), one authorised; every other row as it was."""
    rows = json.loads(
        (Path(__file__).parent / "data" / "ema" / "report_2024-09-01.json").read_text()
    )
    template = rows[0]
    withdrawn = template | {
        "name_of_medicine": "Adalbrand",
        "ema_product_number": "EMEA/H/C/000482",
        "medicine_status": "Withdrawn",
        "international_non_proprietary_name_inn_common_name": "adalimumab",
        "active_substance": "adalimumab",
        "marketing_authorisation_date": "01/09/2003",
        "withdrawal_expiry_revocation_lapse_of_marketing_authorisation_date": "14/04/2008",
        "conditional_approval": "No",
    }
    authorised = withdrawn | {
        "name_of_medicine": "Adalmain",
        "ema_product_number": "EMEA/H/C/000481",
        "medicine_status": "Authorised",
        "marketing_authorisation_date": "08/09/2003",
        "withdrawal_expiry_revocation_lapse_of_marketing_authorisation_date": None,
    }
    path.write_text(json.dumps([*rows, withdrawn, authorised]))
    return path


def test_each_brand_has_its_own_status(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "r.db"}"\n[sources.ema]\nmin_rows = 5\n'
    )
    run(config, "poll", "ema", "--from-file", str(_brands_report(tmp_path / "r.json")))
    main = run(config, "timeline", "adalmain").splitlines()
    assert main[:3] == [
        "Adalmain (adalimumab)",
        "Other adalimumab brands: Adalbrand",
        "EMA   Adalmain authorised since 2003-09-08 (EMEA/H/C/000481); "
        "1 other adalimumab medicine withdrawn",
    ]
    assert not any("EMEA/H/C/000482" in line for line in main)
    gone = run(config, "timeline", "Adalbrand").splitlines()
    assert gone[2].startswith("EMA   Adalbrand authorisation ended (withdrawn)")
    both = run(config, "timeline", "adalimumab").splitlines()
    assert both[1] == (
        "EMA   Adalmain authorised since 2003-09-08 (EMEA/H/C/000481); "
        "Adalbrand authorisation ended (withdrawn) since 2008-04-14 (EMEA/H/C/000482)"
    )
    data = json.loads(run(config, "timeline", "adalimumab", "--format", "json"))
    assert {(a["brand"], a["status"]) for a in data["authorisations"]} == {
        ("Adalmain", "authorised"),
        ("Adalbrand", "authorisation ended (withdrawn)"),
    }
    assert {e["brand"] for e in data["events"]} == {"Adalmain", "Adalbrand"}
    status = run(config, "status", "adalmain").splitlines()
    assert status[1].startswith("Adalmain (adalimumab)  EMA   Adalmain authorised since 2003-09-08")
    assert "1 other adalimumab medicine withdrawn" in "\n".join(status)


def test_a_misspelt_name_suggests_the_close_ones(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "r.db"}"\n[sources.ema]\nmin_rows = 5\n'
    )
    run(config, "poll", "ema", "--from-file", str(_brands_report(tmp_path / "r.json")))
    result = CliRunner().invoke(cli, ["--config", str(config), "timeline", "adalmian"])
    assert result.exit_code == 1 and "did you mean: Adalmain" in result.stderr


def test_real_report_brands_of_one_substance(tmp_path: Path, ema_sample: Path) -> None:
    """The real 2024-08-22 report: Humira's own status, not Trudexa's; three semaglutides."""
    config = tmp_path / "c.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "r.db"}"\n')
    run(config, "poll", "ema", "--from-file", str(ema_sample))
    humira = run(config, "timeline", "Humira").splitlines()
    assert humira[2] == (
        "EMA   Humira authorised since 2003-09-08 (EMEA/H/C/000481); "
        "15 other adalimumab medicines: 10 authorised, 5 withdrawn"
    )
    assert "Trudexa" in humira[1]
    trudexa = run(config, "timeline", "Trudexa").splitlines()
    # The register does not date the withdrawal: no later than the report, never "today".
    assert trudexa[2].startswith(
        "EMA   Trudexa authorisation ended (withdrawn) no later than 2024-08-22 (EMEA/H/C/000482)"
    )
    assert any(
        line.startswith("2024-08-22~  EMA   Trudexa  end of authorisation") for line in trudexa
    )
    semaglutide = run(config, "timeline", "semaglutide").splitlines()
    assert semaglutide[1] == (
        "EMA   Ozempic authorised since 2018-02-08 (EMEA/H/C/004174); "
        "Rybelsus authorised since 2020-04-03 (EMEA/H/C/004953); "
        "Wegovy authorised since 2022-01-06 (EMEA/H/C/005422)"
    )


def test_each_event_links_to_the_most_specific_page(demo: tuple[Path, str]) -> None:
    data = json.loads(run(demo[0], "timeline", "selinexor", "--format", "json"))
    links = {(e["agency"], e["kind"], e["reference"]): e["link"] for e in data["events"]}
    assert links[("EMA", "authorisation", "EMEA/H/C/005127")].endswith("/ema/epar/nexpovio")
    # The Union Register page gave the switch its exact date: the switch links there.
    assert links[("EMA", "conversion_to_full", "EMEA/H/C/005127")].endswith("/ec/h1537.htm")
    assert links[("FDA", "authorisation", "NDA212306")] == (
        "https://www.accessdata.fda.gov/scripts/cder/daf/index.cfm?event=overview.process"
        "&ApplNo=212306"
    )
    assert links[("NICE", "hta_decision", "TA970")].endswith("/nice/guidance/ta970")
    # The feed stays in the evidence's source_url.
    assert all(e["source_url"] for e in data["events"])
    html = run(demo[0], "timeline", "selinexor", "--format", "html")
    assert (
        'href="https://www.accessdata.fda.gov/scripts/cder/daf/index.cfm?event=overview.process&amp;ApplNo=212306"'
        in html
    )
