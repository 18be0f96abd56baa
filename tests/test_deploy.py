"""The deployment files say what the daemon needs: a dedicated user, restart on failure,
secrets from an environment file, the config path, a clean stop."""

from __future__ import annotations

import configparser
from pathlib import Path

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"


def test_systemd_unit() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "regtrack.service")
    service = unit["Service"]
    assert service["User"] == "regtrack" and service["Restart"] == "on-failure"
    assert service["EnvironmentFile"] == "/etc/regtrack/regtrack.env"
    assert service["Environment"] == "REGTRACK_CONFIG=/etc/regtrack/config.toml"
    assert service["ExecStart"].endswith("regtrack run --log-format json")
    assert service["KillSignal"] == "SIGTERM"
    assert (
        "SMTP"
        not in (DEPLOY / "regtrack.service").read_text().split("EnvironmentFile")[1].split("\n")[0]
    )
    env = (DEPLOY / "regtrack.env.example").read_text()
    assert "REGTRACK_SMTP_PASSWORD=" in env


def test_dockerfile_runs_the_daemon_as_its_own_user() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert "USER regtrack" in text and 'CMD ["run", "--log-format", "json"]' in text
    assert "COPY templates ./templates" in text and "STOPSIGNAL SIGTERM" in text
