"""The `regtrack` command as users and other issues rely on it."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer

from regtrack.cli import cli
from regtrack.sources import SOURCES

SMALL_CONFIG = """
[database]
url = "sqlite:///{db}"
[sources.ema]
min_rows = 5
news_window_days = 0
max_vanished_fraction = 0.2
[[products]]
name = "selinexor"
aliases = ["Xpovio", "KPT-330"]
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(SMALL_CONFIG.format(db=tmp_path / "regtrack.db"))
    return path


def run(config: Path, *args: str) -> click.testing.Result:
    return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


def test_poll_then_timeline_on_the_real_report(tmp_path: Path, ema_sample: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "r.db"}"\n')
    first = run(config, "poll", "ema", "--from-file", str(ema_sample))
    assert first.exit_code == 0, first.output
    assert "ema: changed: 2096 records" in first.output
    assert "document generated 2024-08-22 15:06" in first.output
    again = run(config, "poll", "ema", "--from-file", str(ema_sample))
    assert "ema: unchanged" in again.output
    out = run(config, "timeline", "nexpovio").output
    lines = out.splitlines()
    assert lines[0] == "Nexpovio (selinexor)"
    assert lines[1] == "EMA   Nexpovio authorised since 2021-03-26 (EMEA/H/C/005127)"
    assert any(line.startswith("2021-01-28  EMA   Nexpovio  opinion (positive)") for line in lines)
    assert any(line.startswith("2021-03-26  EMA   Nexpovio  authorisation") for line in lines)


def test_poll_prints_news_and_events_filters(config: Path, ema_reports: dict[str, Path]) -> None:
    run(config, "poll", "ema", "--from-file", str(ema_reports["2024-09-01.xlsx"]))
    second = run(config, "poll", "ema", "--from-file", str(ema_reports["2024-11-21.xlsx"]))
    assert "9 new events" in second.output  # with Thetarin's expected Commission decision
    assert "+ 2022-07-18~ EMA conversion to full authorisation: EMEA/H/C/005127 Nexpovio" in (
        second.output
    )

    lines = run(config, "events", "--no-backfill", "--format", "jsonl").output.splitlines()
    events = [json.loads(line) for line in lines]
    assert len(events) == 9 and not any(e["backfill"] for e in events)
    conversion = next(e for e in events if e["kind"] == "conversion_to_full")
    assert conversion["details"]["procedure"] == "II/0009"
    assert conversion["date_approximate"] is True
    assert set(conversion) >= {"agency", "kind", "product", "reference", "event_date",
                               "date_kind", "published_at", "detected_at", "source_url",
                               "snapshot_id", "evidence", "details", "backfill"}  # fmt: skip

    by_alias = json.loads(run(config, "events", "--product", "KPT-330", "--format", "json").output)
    assert {e["reference"] for e in by_alias} == {"EMEA/H/C/005127"}
    assert {e["kind"] for e in by_alias} >= {"opinion", "authorisation", "conversion_to_full"}

    rows = list(csv.DictReader(io.StringIO(run(config, "events", "--kind", "refusal",
                                               "--format", "csv").output)))  # fmt: skip
    assert [(r["reference"], r["event_date"]) for r in rows] == [("EMEA/H/C/009005", "2024-11-15")]
    assert json.loads(rows[0]["details"]) == {}

    since = run(config, "events", "--since", "2024-11-01", "--agency", "ema").output
    assert "EMEA/H/C/009010" in since and "2021-03-26" not in since

    md = run(config, "timeline", "xpovio", "--format", "md").output
    assert md.startswith("# selinexor")
    assert "| 2022-07-18~ | EMA | Nexpovio | conversion to full authorisation (II/0009) |" in md
    timeline = json.loads(run(config, "timeline", "selinexor", "--format", "json").output)
    assert [e["kind"] for e in timeline["events"]][:2] == ["opinion", "authorisation"]


def test_sources_and_reparse(config: Path, ema_reports: dict[str, Path]) -> None:
    before = run(config, "sources").output
    assert "ema" in before and "never polled" in before
    run(config, "poll", "ema", "--from-file", str(ema_reports["2024-09-01.json"]))
    run(config, "poll", "ema", "--from-file", str(ema_reports["2024-11-21.json"]))
    lines = run(config, "reparse").output.splitlines()
    assert lines[0] == "ema: 2 snapshots replayed, 0 events added"
    assert lines[1:] == [
        f"{n}: 0 snapshots replayed, 0 events added" for n in sorted(SOURCES) if n != "ema"
    ]
    assert (
        run(config, "reparse", "ema").output.strip() == "ema: 2 snapshots replayed, 0 events added"
    )
    health = run(config, "sources").output.splitlines()[1]
    # healthy, but a report of 2024 is older than the 72 h [operators] allows: stale
    assert health.split()[:2] == ["ema", "STALE"] and "limit 72 h" in health


def test_reparse_skips_and_names_a_snapshot_whose_shape_is_wrong(
    config: Path, ema_reports: dict[str, Path], tmp_path: Path
) -> None:
    run(config, "poll", "ema", "--from-file", str(ema_reports["2024-09-01.json"]))
    cut = tmp_path / "cut.json"
    cut.write_bytes(ema_reports["2024-11-21.json"].read_bytes()[:-400])
    assert run(config, "poll", "ema", "--from-file", str(cut)).exit_code == 1
    result = CliRunner().invoke(cli, ["--config", str(config), "reparse", "ema"])
    assert result.exit_code == 0
    assert result.stdout.strip() == (
        "ema: 2 snapshots replayed, 0 events added, 1 skipped: their shape was wrong"
    )
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"  skipped: {cut}: ") and "JSON" in line


def test_long_work_shows_progress_on_a_terminal_only(
    config: Path, ema_reports: dict[str, Path]
) -> None:
    """On a terminal (a pseudo-terminal here) a poll says what it is doing on one line of
    stderr, and clears it; through a pipe (cron, scripts) it says nothing of it."""
    import os
    import pty

    report = str(ema_reports["2024-09-01.json"])
    command = [sys.executable, "-m", "regtrack", "--config", str(config), "poll", "ema"]
    leader, follower = pty.openpty()
    done = subprocess.run(
        [*command, "--from-file", report], stdout=subprocess.PIPE, stderr=follower, timeout=120
    )
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert done.returncode == 0
    assert b"ema: parsing" in seen and b"ema: storing" in seen
    assert seen.endswith(b"\r\x1b[K")  # the line is cleared at the end
    piped = subprocess.run(
        [*command, "--from-file", report], capture_output=True, timeout=120, check=True
    )
    assert piped.stderr == b"" and b"ema: unchanged" in piped.stdout


def test_bad_document_exits_non_zero_and_says_where(config: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.json"
    cut.write_text('[{"Category": "Human", "Name of medicine": ')  # a report cut off
    result = run(config, "poll", "ema", "--from-file", str(cut))
    assert result.exit_code == 1
    assert f"ema: failed: {cut}: " in result.output
    assert "UNHEALTHY" in run(config, "sources").output


def test_replaying_the_wrong_kind_of_file_says_so_and_leaves_health_alone(
    config: Path, tmp_path: Path, ema_reports: dict[str, Path]
) -> None:
    run(config, "poll", "ema", "--from-file", str(ema_reports["2024-09-01.json"]))
    page = tmp_path / "denied.html"
    page.write_text("<html>Access denied</html>")
    result = CliRunner().invoke(
        cli, ["--config", str(config), "poll", "ema", "--from-file", str(page)]
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{page}: not a document the ema source reads" in result.output
    (ema,) = [line for line in run(config, "sources").output.splitlines() if line.startswith("ema")]
    assert ema.split()[1] == "ok" and "UNHEALTHY" not in ema


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["poll", "nosuch"], "unknown source 'nosuch' (known: ema, fda, mhra, nice, smc)"),
        (
            ["poll", "ema", "--from-file", "/no/such/file.xlsx"],
            "cannot read /no/such/file.xlsx: No such file or directory",
        ),
        (["timeline", "unobtainium"], "no product known by the name 'unobtainium'"),
    ],
)
def test_errors_are_one_line_on_stderr(config: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    assert result.exit_code != 0
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [f"Error: {message}"]


@pytest.mark.parametrize(
    ("args", "listed"),
    [
        (["events", "--agency", "EMEA"], "'ema', 'mhra', 'fda', 'nice', 'smc'"),
        (["events", "--kind", "aproval"], "'authorisation'"),
        (["feed", "--limit", "-5"], "x>=1"),
    ],
)
def test_unknown_option_values_are_refused_with_the_valid_ones(
    config: Path, args: list[str], listed: str
) -> None:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    assert result.exit_code == 2 and listed in result.stderr
    assert "Traceback" not in result.output


def test_agency_and_kind_are_read_in_any_case(config: Path, ema_reports: dict[str, Path]) -> None:
    run(config, "poll", "ema", "--from-file", str(ema_reports["2024-09-01.json"]))
    upper = run(config, "events", "--agency", "ema", "--kind", "AUTHORISATION", "--format", "json")
    assert upper.exit_code == 0 and {e["kind"] for e in json.loads(upper.output)} == {
        "authorisation"
    }


def test_sources_shows_zones_and_keeps_notices_apart_from_errors(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "r.db"}"\n[[products]]\nname = "selinexor"\n'
    )
    from regtrack.store import Store

    store = Store.open(f"sqlite:///{tmp_path / 'r.db'}")
    with store.transaction() as tx:  # what a healthy MHRA poll without the products key leaves
        tx.record_health("mhra", ok=True, notes="products index skipped: no query key")
    store.close()
    result = run(config, "sources")
    (mhra,) = [line for line in result.output.splitlines() if line.startswith("mhra")]
    assert " ok " in mhra and "UTC" in mhra
    header = result.output.splitlines()[0]
    assert mhra.index("products index skipped") >= header.index("NOTES")
    assert run(config, "sources", "--check").exit_code == 0


def test_sources_check_fails_when_an_enabled_source_is_unhealthy(
    config: Path, tmp_path: Path
) -> None:
    cut = tmp_path / "cut.json"
    cut.write_text("[")
    run(config, "poll", "ema", "--from-file", str(cut))
    result = CliRunner().invoke(cli, ["--config", str(config), "sources", "--check"])
    assert result.exit_code == 1 and "Error: unhealthy or stale: ema" in result.stderr


def test_an_empty_smtp_password_is_missing_not_a_password() -> None:
    from regtrack.config import MailConfig
    from regtrack.errors import ConfigError
    from regtrack.mail import backend_from

    mail = MailConfig(backend="smtp", username="regtrack")
    with pytest.raises(ConfigError, match="no password: set REGTRACK_SMTP_PASSWORD"):
        backend_from(mail, {"REGTRACK_SMTP_PASSWORD": ""})


def test_bad_config_key_and_missing_config_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[sources.ema]\nmin_row = 5\n")
    result = CliRunner().invoke(cli, ["--config", str(bad), "events"])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {bad}: sources.ema.min_row: unknown key"
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "nope.toml"), "events"])
    assert result.exit_code == 1 and "config file not found" in result.stderr


def test_every_command_has_help() -> None:
    assert isinstance(cli, click.Group)
    for name, command in cli.commands.items():
        assert command.help, f"command {name} has no help"
        result = CliRunner().invoke(cli, [name, "--help"])
        opening = " ".join(command.help.split()[:8])  # click rewraps the text
        assert result.exit_code == 0 and opening in " ".join(result.output.split())


def test_console_script_runs_from_a_fresh_process(tmp_path: Path) -> None:
    env_db = f"sqlite:///{tmp_path / 'x.db'}"
    proc = subprocess.run(
        [sys.executable, "-m", "regtrack", "events"],
        capture_output=True, text=True, cwd=tmp_path,
        env={"REGTRACK_DATABASE_URL": env_db, "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [
        "DATE", "AGENCY", "PRODUCT", "BRAND", "EVENT", "REFERENCE", "NOTES"
    ]  # fmt: skip
    assert (tmp_path / "x.db").exists()


HEAVY = ("openpyxl", "bs4", "requests", "jinja2", "apscheduler", "lxml")
PROBE = """
import sys
from regtrack.cli import cli
from regtrack.sources import SOURCES
try:
    cli(sys.argv[1:], prog_name="regtrack")
except SystemExit:
    pass
print("LOADED:", ",".join(sorted({m.split(".")[0] for m in sys.modules} & set(%r))))
"""


@pytest.mark.parametrize("args", [["events", "--product", "selinexor"], ["timeline", "nexpovio"]])
def test_read_commands_import_nothing_heavy(
    tmp_path: Path, ema_reports: dict[str, Path], args: list[str]
) -> None:
    env = {"REGTRACK_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}", "PATH": "/usr/bin:/bin"}
    config = tmp_path / "c.toml"
    config.write_text(SMALL_CONFIG.format(db=tmp_path / "r.db"))
    run(config, "poll", "ema", "--from-file", str(ema_reports["2024-09-01.json"]))
    proc = subprocess.run(
        [sys.executable, "-c", PROBE % (HEAVY,), "--config", str(config), *args],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "selinexor" in proc.stdout  # the command really ran
    assert proc.stdout.splitlines()[-1] == "LOADED: "


ALERTS_CONFIG = (
    SMALL_CONFIG
    + """
[mail]
backend = "file"
directory = "{mail}"
sender = "regtrack <regtrack@example.org>"

[[recipients]]
email = "alice@example.org"
name = "Alice"
[[recipients.subscriptions]]
frequency = "immediate"
products = ["Nexpovio"]

[operators]
emails = ["ops@example.org"]
"""
)


def test_digest_command_composes_sends_and_lists(
    tmp_path: Path, ema_reports: dict[str, Path]
) -> None:
    config = tmp_path / "alerts.toml"
    config.write_text(ALERTS_CONFIG.format(db=tmp_path / "a.db", mail=tmp_path / "mail"))
    run(config, "poll", "ema", "--from-file", str(ema_reports["2024-09-01.json"]))
    run(config, "poll", "ema", "--from-file", str(ema_reports["2024-11-21.json"]))
    preview = run(config, "digest", "--dry-run").output
    assert (
        "regtrack now tracks selinexor for you" in preview
        and "conversion to full authorisation" in preview
    )
    assert not (tmp_path / "mail").exists()
    composed = run(config, "digest", "--send").output
    assert "composed for alice@example.org: regtrack now tracks selinexor for you" in composed
    assert (
        "composed for alice@example.org: regtrack immediate digest: 2 changes (selinexor)"
        in composed
    )
    # The operator hears of the vanished record and the stale report (generated 2024).
    assert "operator alert: regtrack operator: 2 problem(s), 0 recovered" in composed
    assert "sent 3, retrying 0, failed 0, uncertain 0" in composed
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 3
    listing = run(config, "outbox").output.splitlines()
    assert listing[0].split()[:3] == ["ID", "STATE", "TO"] and all(
        " sent " in row for row in listing[1:]
    )
    assert "sent 0" in run(config, "digest", "--send").output  # nothing twice


@pytest.fixture
def threaded_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", threaded=True)  # answers requests side by side
    server.start()
    yield server
    server.clear()
    server.stop()


def test_sources_are_polled_side_by_side(threaded_server: HTTPServer, tmp_path: Path) -> None:
    """Two sources on two hosts, each answering slowly: their requests overlap (one
    source's host delay does not hold up the other), and each source's lines print together."""
    import threading
    import time

    from werkzeug import Request, Response

    httpserver = threaded_server
    data = Path(__file__).parent / "data"
    spans: dict[str, tuple[float, float]] = {}
    lock = threading.Lock()

    def slow(path: Path, content_type: str) -> Any:
        def handler(request: Request) -> Response:
            start = time.monotonic()
            time.sleep(0.5)
            with lock:
                spans[request.path] = (start, time.monotonic())
            return Response(path.read_bytes(), content_type=content_type)

        return handler

    httpserver.expect_request("/ema.json").respond_with_handler(
        slow(data / "ema" / "report_2024-09-01.json", "application/json")
    )
    httpserver.expect_request("/smc.json").respond_with_handler(
        slow(data / "smc" / "listing_2024-10-07.json", "application/json")
    )
    # One server, two host names: the fetcher keeps one queue per host.
    ema_url = httpserver.url_for("/ema.json").replace("localhost", "127.0.0.1")
    smc_url = httpserver.url_for("/smc.json").replace("127.0.0.1", "localhost")
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "r.db"}"\n'
        "[fetch]\nmin_interval_seconds = 0\nrobots_txt = false\n"
        f'[sources.ema]\nurl = "{ema_url}"\nmin_rows = 5\nfollow_pages = "none"\n'
        f'[sources.smc]\nlisting_url = "{smc_url}"\nfollow_pages = "none"\n'
        "[sources.fda]\nenabled = false\n[sources.mhra]\nenabled = false\n"
        "[sources.nice]\nenabled = false\n"
    )
    result = run(config, "poll")
    assert result.exit_code == 0, result.output
    (ema_start, ema_end), (smc_start, smc_end) = spans["/ema.json"], spans["/smc.json"]
    assert ema_start < smc_end and smc_start < ema_end  # the two requests overlapped
    sources = [line.split(":")[0] for line in result.output.splitlines() if ":" in line]
    assert sources[0] == "ema" and sources[-1] == "smc"
    assert sources == sorted(sources, key=["ema", "smc"].index)
