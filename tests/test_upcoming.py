"""What's coming (issue 27, first part): an EMA opinion that awaits the Commission has an
expected decision date (67 days on), settled by the decision; `regtrack upcoming` and the
web page's /upcoming list what still waits."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner

from regtrack.cli import cli
from regtrack.config import Config
from regtrack.poll import poll
from regtrack.sources.ema import EMAReport
from regtrack.store import Store
from regtrack.upcoming import upcoming

from .test_web import demo_config, server  # noqa: F401

DATA = Path(__file__).parent / "data" / "ema"


def replay(store: Store, cfg: Config, path: Path) -> Any:
    (outcome,) = poll(store, EMAReport.from_config(cfg), None, from_file=path)
    return outcome


def test_an_opinion_expects_the_commission_within_67_days_until_it_decides(
    store: Store, small_config: Config
) -> None:
    replay(store, small_config, DATA / "report_2024-09-01.json")
    (expected,) = [e for e in store.events() if e.kind == "expected_date"]
    assert expected.reference == "EMEA/H/C/009001" and expected.date_approximate
    opinion = dt.date.fromisoformat(expected.details["opinion_date"])
    assert expected.event_date == opinion + dt.timedelta(days=67)
    assert "within 67 days" in expected.evidence
    today = opinion + dt.timedelta(days=10)
    assert [e.reference for e in upcoming(store.events(), today, 90)] == ["EMEA/H/C/009001"]
    # The next report shows the authorisation: the expected date is settled, gone from view.
    replay(store, small_config, DATA / "report_2024-11-21.json")
    assert upcoming(store.events(), today, 90) == []


def test_the_upcoming_command_and_page(demo_config: Path, server: str) -> None:  # noqa: F811
    result = CliRunner().invoke(cli, ["--config", str(demo_config), "upcoming", "--days", "3650"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["EXPECTED", "BODY", "PRODUCT"]
    assert any("EMA" in line and "European Commission decision" in line for line in lines)
    none = CliRunner().invoke(
        cli, ["--config", str(demo_config), "upcoming", "--product", "selinexor"]
    )
    assert none.output.strip() == "nothing expected in the next 90 days"
    page = httpx.get(server + "/upcoming", params={"days": 3650}).text
    assert "European Commission decision" in page and "EMEA/H/C/009001" in page


def test_a_weekly_digest_says_what_is_coming_up(
    store: Store, small_config: Config, tmp_path: Path
) -> None:
    """Thetarin's positive opinion of 14 November 2024 (the second report) awaits the
    Commission: a weekly digest lists it under "Coming up"; Alphamab's, settled by its
    authorisation, is not."""
    from regtrack.alerts import Alerts
    from regtrack.config import MailConfig, RecipientConfig, SubscriptionConfig
    from regtrack.emails import Renderer

    cfg = small_config.model_copy(update={
        "mail": MailConfig(directory=str(tmp_path / "mail"), timezone="UTC"),
        "recipients": [RecipientConfig(email="ra@example.org", subscriptions=[
            SubscriptionConfig(frequency="weekly", agencies=["EMA"])])],
    })  # fmt: skip
    replay(store, cfg, DATA / "report_2024-09-01.json")
    replay(store, cfg, DATA / "report_2024-11-21.json")
    _, (text,) = Alerts(cfg, store, Renderer()).preview(
        "ra@example.org", "weekly", dt.datetime.now(dt.UTC)
    )
    coming = text.split("== Coming up ==")[1].split("\n--\n")[0]
    assert "2025-01-20~" in coming and "EMEA/H/C/009010" in coming
    assert "EMEA/H/C/009001" not in coming
