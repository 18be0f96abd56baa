"""The CLI and the mail as a team uses them every day (issue 24): against the demo's store
and real processes."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from regtrack.cli import cli


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("daily") / "demo"
    result = CliRunner().invoke(cli, ["demo", "--dir", str(folder)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return folder


def run(demo: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(demo / "config.toml"), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_next_run_is_the_same_between_two_calls(demo: Path) -> None:
    def next_runs() -> list[str]:
        lines = run(demo, "sources").splitlines()
        return [re.findall(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", line)[-1] for line in lines[1:]]

    first = next_runs()
    assert first == next_runs() == next_runs()
    assert "NEXT RUN (±10 MIN)" in run(demo, "sources").splitlines()[0]


def test_a_digest_preview_shows_what_the_next_digest_would_hold(demo: Path) -> None:
    """The demo's reader subscribes to selinexor as it happens: the switch to full
    authorisation went out in cycle 2, so nothing is new; a daily preview looks a day back
    and shows the switch, without storing or sending anything."""
    outbox_before = run(demo, "outbox")
    immediate = run(demo, "digest", "--preview", "you@example.org")
    assert immediate.startswith("immediate: nothing new for you@example.org since ")
    assert run(demo, "outbox") == outbox_before  # stored nothing
    # With a daily subscription too, its first digest would hold the day's switch.
    daily_config = demo / "daily.toml"
    daily_config.write_text(
        (demo / "config.toml").read_text().replace(
            '  products = ["selinexor"]\n',
            '  products = ["selinexor"]\n  [[recipients.subscriptions]]\n  name = "daily"\n'
            '  frequency = "daily"\n  products = ["selinexor"]\n', 1,
        )
    )  # fmt: skip
    result = CliRunner().invoke(
        cli, ["--config", str(daily_config), "digest", "--preview", "YOU@example.org",
              "--frequency", "daily"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Subject: regtrack daily digest" in result.output
    assert "conversion to full authorisation" in result.output
    assert run(demo, "outbox") == outbox_before
    refused = CliRunner().invoke(
        cli, ["--config", str(demo / "config.toml"), "digest", "--preview", "x@y.org"]
    )
    assert refused.exit_code == 2 and "is not a recipient (you@example.org)" in refused.output


def test_the_tracking_email_opens_with_where_the_product_stands(demo: Path) -> None:
    from email import message_from_bytes, policy

    mails = sorted((demo / "mail").glob("*.eml"))
    tracking = next(
        m for m in (message_from_bytes(p.read_bytes(), policy=policy.default) for p in mails)
        if "now tracks" in str(m["Subject"])
    )  # fmt: skip
    text = tracking.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    now, history = text.index("Where it stands now:"), text.index("History:")
    assert now < history
    assert "NICE  recommended since 2024-05-08 (TA970)" in text[now:history]
    assert "EMA   Nexpovio" in text[now:history]


def test_an_unchanged_feed_is_one_plain_line(tmp_path: Path, httpserver: object) -> None:
    from pytest_httpserver import HTTPServer

    assert isinstance(httpserver, HTTPServer)
    report = (Path(__file__).parent / "data" / "ema" / "report_2024-11-21.json").read_bytes()
    httpserver.expect_request("/r.json", headers={"If-None-Match": '"v1"'}).respond_with_data(
        b"", status=304
    )
    httpserver.expect_request("/r.json").respond_with_data(
        report, content_type="application/json", headers={"ETag": '"v1"'}
    )
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "r.db"}"\n'
        "[fetch]\nrobots_txt = false\nmin_interval_seconds = 0\n"
        f'[sources.ema]\nurl = "{httpserver.url_for("/r.json")}"\nmin_rows = 5\n'
        'follow_pages = "none"\n'
    )
    first = CliRunner().invoke(cli, ["--config", str(config), "poll", "ema"])
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(cli, ["--config", str(config), "poll", "ema"])
    assert again.output.strip() == f"ema: unchanged (304) {httpserver.url_for('/r.json')}"


def test_serve_says_where_it_listens(demo: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "regtrack", "--config", str(demo / "config.toml"), "serve",
         "--port", str(port)],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stderr is not None
        line = server.stderr.readline()
        assert line.startswith(f"regtrack: serving http://127.0.0.1:{port}/")
    finally:
        server.terminate()
        server.wait(10)
    time.sleep(0)
