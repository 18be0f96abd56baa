"""Who hears of what: subscriptions, recipients, operators and the mail settings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from .base import Section

Frequency = Literal["immediate", "daily", "weekly"]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class SubscriptionConfig(Section):
    """What one person follows, and how often they hear of it."""

    frequency: Frequency = "daily"
    #: Product names or any alias (INN, brand, code); empty with no agencies or kinds = none.
    products: list[str] = []
    agencies: list[Literal["EMA", "MHRA", "FDA", "NICE", "SMC"]] = []
    kinds: list[str] = []
    everything: bool = False

    @field_validator("kinds")
    @classmethod
    def _known_kinds(cls, value: list[str]) -> list[str]:
        from ..model import EventKind

        known = [k.value for k in EventKind]
        unknown = [k for k in value if k not in known]
        if unknown:
            raise ValueError(f"unknown event kind(s) {unknown}; known: {', '.join(known)}")
        return value

    #: "summary": a product's variations at one body are one line in a digest; "full": each.
    variations: Literal["summary", "full"] = "summary"
    #: Named in the footer and the List-Unsubscribe header.
    name: str | None = None


class RecipientConfig(Section):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    name: str | None = None
    subscriptions: list[SubscriptionConfig] = Field(min_length=1)
    #: Apprise URLs (Slack, Teams, Discord, webhooks…) that get the same digests as the email,
    #: through the same outbox. Secrets come from the environment: `${SLACK_TOKEN}`.
    channels: list[str] = []

    @field_validator("channels")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if "://" not in url or any(c in url for c in "\r\n "):
                raise ValueError(f"{url!r} is not an Apprise URL (scheme://…)")
        return value


def _address(value: str) -> str:
    """An email address, or `Name <address>`: one line, with an @."""
    from email.utils import parseaddr

    _, address = parseaddr(value)
    if any(c in value for c in "\r\n") or not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", address):
        raise ValueError(f"{value!r} is not an email address")
    return value


class OperatorsConfig(Section):
    emails: list[str] = []

    @field_validator("emails")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        return [_address(v) for v in value]

    #: Consecutive failed polls of a source (however many of its feeds failed) before the
    #: operator hears of it.
    failures_before_alert: int = Field(default=3, ge=1)
    #: Hours after which a source's own document is stale (the EMA report is regenerated
    #: twice a day; the Drugs@FDA files weekly).
    stale_after_hours: dict[str, float] = {"ema": 72, "fda": 240}

    @field_validator("stale_after_hours")
    @classmethod
    def _known_sources(cls, value: dict[str, float]) -> dict[str, float]:
        known = ("ema", "fda", "mhra", "nice", "smc")
        unknown = [k for k in value if k not in known]
        if unknown:
            raise ValueError(f"unknown source(s) {unknown}; known: {', '.join(known)}")
        if any(not 0 < hours <= 87600 for hours in value.values()):
            raise ValueError("hours must be more than 0 and at most 87600")
        return value


class MailConfig(Section):
    #: "file" writes .eml files to `directory` (works with no mail server); "smtp" sends.
    backend: Literal["file", "smtp"] = "file"
    sender: str = "regtrack <regtrack@localhost>"
    directory: str = "var/mail"
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    #: The password never sits in config.toml: an environment variable, or a file (systemd's
    #: credentials, a Docker secret).
    password_env: str = "REGTRACK_SMTP_PASSWORD"
    password_file: str | None = None
    timeout_seconds: float = Field(default=30.0, gt=0)
    timezone: str = "Europe/London"
    daily_at: str = Field(default="07:00", pattern=r"^\d{2}:\d{2}$")
    weekly_on: Literal[
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
    ] = "monday"
    #: A folder whose templates override the bundled ones file by file (digest.html, …).
    templates: str | None = None
    max_attempts: int = Field(default=5, ge=1)
    retry_seconds: float = Field(default=60.0, ge=0)
    #: `security = "none"` with a username sends the password unencrypted: refused unless
    #: this says the operator means it (a relay on the same host), and then logged.
    allow_plaintext_login: bool = False

    @model_validator(mode="after")
    def _login_encrypted(self) -> MailConfig:
        if (
            self.backend == "smtp"
            and self.security == "none"
            and self.username
            and not self.allow_plaintext_login
        ):
            raise ValueError(
                'security = "none" with a username would send the SMTP password unencrypted: '
                'use "starttls" or "tls", or set allow_plaintext_login = true'
            )
        return self

    @field_validator("daily_at")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        hour, minute = (int(x) for x in value.split(":"))
        if hour > 23 or minute > 59:
            raise ValueError(f"{value!r} is not a time of day (00:00 to 23:59)")
        return value

    @field_validator("templates")
    @classmethod
    def _folder(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).expanduser().is_dir():
            raise ValueError(f"templates folder not found: {value}")
        return value

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        return _address(value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {value!r}") from err
        return value
