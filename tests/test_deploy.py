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
    assert "STOPSIGNAL SIGTERM" in text and "HEALTHCHECK" in text
    # Installed from the wheel, never editable: the templates are package data.
    assert "pip install --no-cache-dir /wheels/*.whl" in text and " -e " not in text
    assert 'CMD ["regtrack", "sources", "--check"]' in text


def test_systemd_install_steps_run_in_an_order_that_works_on_a_fresh_host() -> None:
    steps = [
        line.removeprefix("#").strip()
        for line in (DEPLOY / "regtrack.service").read_text().split("[Unit]")[0].splitlines()
        if line.startswith("#   ") and not line.startswith("#     ")
    ]

    def first(word: str) -> int:
        return next(i for i, step in enumerate(steps) if word in step)

    assert first("apt-get install") < first("python3 -m venv")
    assert first("useradd") < first("-g regtrack")  # the group exists before files get it
    assert first("git clone") < first("pip install /opt/regtrack/src")
    assert first("install -d") < first("/etc/regtrack/config.toml")  # the folder first
    assert first("regtrack.service /etc/systemd") < first("systemctl daemon-reload")
    assert not any("pip install -e" in step for step in steps)


def test_the_web_unit_serves_read_only_beside_the_daemon() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "regtrack-web.service")
    service = unit["Service"]
    assert service["ExecStart"].endswith("regtrack serve") and service["User"] == "regtrack"
    assert service["ReadWritePaths"] == "/var/lib/regtrack"  # WAL readers touch -shm
    assert "regtrack serve" in (DEPLOY / "Dockerfile").read_text()
