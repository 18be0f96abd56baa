"""Typed, validated configuration read from TOML; only the CLI calls `load`.

Unknown keys are errors, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import ConfigError

DEFAULT_PATH = Path("config.toml")
DEFAULT_DATABASE_URL = "sqlite:///regtrack.db"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseConfig(_Strict):
    url: str = DEFAULT_DATABASE_URL


class FetchConfig(_Strict):
    #: Who we are, so a webmaster can reach us instead of blocking us.
    user_agent: str = "regtrack/0.1 (medicines regulatory tracker)"
    contact: str | None = None
    timeout_seconds: float = Field(default=60.0, gt=0)
    max_bytes: int = Field(default=200_000_000, gt=0)
    #: One deadline for a whole request, however slowly the server sends (timeout_seconds is
    #: per read). A document not read by then is a fetch failure, tried again next poll.
    deadline_seconds: float = Field(default=300.0, gt=0, le=86400)
    #: Least time between two requests to one host; per-host values override it
    #: (openFDA allows 240 requests a minute; NICE asks for a 1 s crawl delay).
    min_interval_seconds: float = Field(default=1.0, ge=0)
    host_intervals: dict[str, float] = {"api.fda.gov": 0.25, "www.nice.org.uk": 1.0}
    #: Retries after a connection error, a timeout, a 5xx or a 429, with exponential backoff
    #: (or the server's Retry-After); a wait longer than max_retry_wait seconds is not waited
    #: for: the failure is recorded and the next scheduled poll tries again.
    retries: int = Field(default=3, ge=0)
    backoff_seconds: float = Field(default=2.0, ge=0)
    max_retry_wait: float = Field(default=60.0, ge=0)
    robots_txt: bool = True
    #: Hosts a document URL (`regtrack check URL`, `[[documents]] url`) may reach though they
    #: are loopback, private or link-local addresses (an intranet's document server); any
    #: other such target, first request or redirect, is refused.
    private_hosts: list[str] = []


class EMAConfig(_Strict):
    enabled: bool = True
    url: str = (
        "https://www.ema.europa.eu/en/documents/report/medicines-output-medicines-report_en.xlsx"
    )
    #: EPAR pages and Commission Union Register pages to read for exact EU decision dates:
    #: "new" (products new or changed in the report; tracked products only on a first poll),
    #: "tracked" or "none".
    follow_pages: Literal["new", "tracked", "none"] = "new"
    union_register_url: str = (
        "https://ec.europa.eu/health/documents/community-register/html/h{number}.htm"
    )
    #: EU numbers for products whose EPAR page does not give one: product number -> EU number.
    eu_numbers: dict[str, str] = {}
    include_veterinary: bool = False
    #: Fewer rows than this is a truncated or wrong document, not a register.
    min_rows: int = Field(default=1000, ge=1)
    #: More than this share of known records vanishing at once is a shape problem.
    max_vanished_fraction: float = Field(default=0.05, ge=0, le=1)
    interval_hours: float = Field(default=12.0, gt=0, le=8760)
    #: An event a later document shows for the first time, dated more than this many days
    #: before the feed's previous document, was published late: news (marked late) when it
    #: changes a known record's status, else history (stored, never sent). 0: no window.
    news_window_days: int = Field(default=90, ge=0, le=36500)


class FDAConfig(_Strict):
    enabled: bool = True
    #: Drugs@FDA data files: the whole US register, a zip of tab-separated tables, weekly.
    datafiles_url: str = "https://www.fda.gov/media/89850/download"
    #: openFDA drugsfda endpoint, for fresher checks of tracked products.
    openfda_url: str = "https://api.fda.gov/drug/drugsfda.json"
    openfda: bool = True
    #: Raises the daily openFDA limit from 1,000 to 120,000 requests. Prefer the environment
    #: variable REGTRACK_OPENFDA_API_KEY to writing it here; it is never stored with snapshots.
    api_key: str | None = None
    #: Applications to check on openFDA (NDA212306, BLA125514), besides the [[products]] names.
    applications: list[str] = []
    #: Terms per openFDA OR query, and results per page (openFDA allows up to 1,000).
    batch_size: int = Field(default=20, ge=1, le=100)
    page_size: int = Field(default=100, ge=1, le=1000)
    #: A data-files release with fewer applications is truncated.
    min_applications: int = Field(default=1000, ge=1)
    max_vanished_fraction: float = Field(default=0.05, ge=0, le=1)
    interval_hours: float = Field(default=168.0, gt=0, le=8760)
    #: An event a later document shows for the first time, dated more than this many days
    #: before the feed's previous document, was published late: news (marked late) when it
    #: changes a known record's status, else history (stored, never sent). 0: no window.
    news_window_days: int = Field(default=90, ge=0, le=36500)
    openfda_interval_hours: float = Field(default=24.0, gt=0, le=8760)


FollowPages = Literal["new", "tracked", "none"]


class NICEConfig(_Strict):
    enabled: bool = True
    base_url: str = "https://www.nice.org.uk"
    #: Listing pages (their __NEXT_DATA__ JSON), paths below base_url; followed page by page.
    listings: list[str] = [
        "/guidance/published?ngt=Technology%20appraisal%20guidance&ps=50",
        "/guidance/terminated?ngt=Technology%20appraisal%20guidance&ps=50",
        "/guidance/indevelopment?ngt=Technology%20appraisal%20guidance&ps=50",
    ]
    #: Which TA and in-development pages to read for the decision: those new or changed in a
    #: listing ("new"; on the first poll only those of tracked products), only tracked
    #: products' ("tracked"), or none.
    follow_pages: FollowPages = "new"
    interval_hours: float = Field(default=24.0, gt=0, le=8760)
    #: An event a later document shows for the first time, dated more than this many days
    #: before the feed's previous document, was published late: news (marked late) when it
    #: changes a known record's status, else history (stored, never sent). 0: no window.
    news_window_days: int = Field(default=90, ge=0, le=36500)


class SMCConfig(_Strict):
    enabled: bool = True
    base_url: str = "https://www.scottishmedicines.org.uk"
    listing_url: str = (
        "https://www.scottishmedicines.org.uk/umbraco/Api/ListMedicineAdviceApi/"
        "GetResultsByType?active-tab=0&node-id=6990&current-page-0=1"
    )
    follow_pages: FollowPages = "new"
    #: Daily in the week of the monthly publication (second Monday), weekly otherwise.
    interval_hours: float = Field(default=24.0, gt=0, le=8760)
    #: An event a later document shows for the first time, dated more than this many days
    #: before the feed's previous document, was published late: news (marked late) when it
    #: changes a known record's status, else history (stored, never sent). 0: no window.
    news_window_days: int = Field(default=90, ge=0, le=36500)
    #: False polls every day (the offline demo, or a mirror that changes any day).
    publication_week_only: bool = True


class MHRAConfig(_Strict):
    enabled: bool = True
    #: GOV.UK Content API of the yearly grants publication; {year} is filled in. The next
    #: year's is read too from December on.
    grants_url: str = (
        "https://www.gov.uk/api/content/government/publications/"
        "marketing-authorisations-granted-in-{year}"
    )
    #: Earlier years to read as well (history).
    years: list[int] = []
    #: GOV.UK Search API: MHRA press releases and news stories, newest first.
    announcements_url: str = (
        "https://www.gov.uk/api/search.json?filter_organisations="
        "medicines-and-healthcare-products-regulatory-agency&filter_format=press_release"
        "&filter_format=news_story&order=-public_timestamp&count=50"
    )
    #: products.mhra.gov.uk search index (SmPC/PIL/PAR documents). It needs a query key:
    #: REGTRACK_MHRA_PRODUCTS_KEY or products_key; without one this feed is skipped.
    products_url: str = "https://mhraproducts4853.search.windows.net/indexes/products-index/docs"
    products_key: str | None = None
    #: A grants PDF with fewer rows is truncated or not a grants list.
    min_rows: int = Field(default=1, ge=1)
    interval_hours: float = Field(default=24.0, gt=0, le=8760)
    #: An event a later document shows for the first time, dated more than this many days
    #: before the feed's previous document, was published late: news (marked late) when it
    #: changes a known record's status, else history (stored, never sent). 0: no window.
    news_window_days: int = Field(default=90, ge=0, le=36500)


class SourcesConfig(_Strict):
    ema: EMAConfig = EMAConfig()
    fda: FDAConfig = FDAConfig()
    mhra: MHRAConfig = MHRAConfig()
    nice: NICEConfig = NICEConfig()
    smc: SMCConfig = SMCConfig()


Frequency = Literal["immediate", "daily", "weekly"]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class SubscriptionConfig(_Strict):
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
        from .model import EventKind

        known = [k.value for k in EventKind]
        unknown = [k for k in value if k not in known]
        if unknown:
            raise ValueError(f"unknown event kind(s) {unknown}; known: {', '.join(known)}")
        return value

    #: "summary": a product's variations at one body are one line in a digest; "full": each.
    variations: Literal["summary", "full"] = "summary"
    #: Named in the footer and the List-Unsubscribe header.
    name: str | None = None


class RecipientConfig(_Strict):
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


class OperatorsConfig(_Strict):
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


class MailConfig(_Strict):
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


class WebConfig(_Strict):
    #: `regtrack serve` binds here: loopback unless said otherwise (put a reverse proxy with
    #: TLS in front of it for others).
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    #: Where staff reach the page (digest emails link each product to it when set).
    public_url: str | None = None
    #: HTTP basic auth: a file of `user:hash` lines (`regtrack password-hash` makes a hash);
    #: the environment variable REGTRACK_WEB_USERS may hold the same lines. Neither: no auth.
    users_file: str | None = None


class ReportsConfig(_Strict):
    #: A folder whose templates override the bundled report templates (timeline.html).
    templates: str | None = None


class DaemonConfig(_Strict):
    #: How often the immediate digest (and the outbox) run, in minutes.
    immediate_minutes: float = Field(default=15.0, gt=0)
    #: Seconds between first runs on start, so not everything is polled at once.
    spread_seconds: float = Field(default=20.0, ge=0)


class ProductConfig(_Strict):
    name: str = Field(min_length=1)
    aliases: list[str] = []


class DocumentConfig(_Strict):
    """A document kept under watch: re-checked by the daemon, its owner told once of each
    claim in it that becomes untrue."""

    path: str | None = None
    url: str | None = None
    #: The products it is about (else those its text names).
    products: list[str] = []
    owner: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    #: When it was written (else the date it states).
    written: dt.date | None = None

    @model_validator(mode="after")
    def _one_place(self) -> DocumentConfig:
        if (self.path is None) == (self.url is None):
            raise ValueError("a document needs exactly one of path or url")
        return self

    @property
    def where(self) -> str:
        return self.path or self.url or ""


class Config(_Strict):
    database: DatabaseConfig = DatabaseConfig()
    fetch: FetchConfig = FetchConfig()
    sources: SourcesConfig = SourcesConfig()
    products: list[ProductConfig] = []
    mail: MailConfig = MailConfig()
    recipients: list[RecipientConfig] = []
    operators: OperatorsConfig = OperatorsConfig()
    daemon: DaemonConfig = DaemonConfig()
    reports: ReportsConfig = ReportsConfig()
    web: WebConfig = WebConfig()
    documents: list[DocumentConfig] = []

    def tracked_names(self) -> list[str]:
        """Every tracked product's name and aliases: what the sources look for."""
        return [n for p in self.products for n in (p.name, *p.aliases)]

    @field_validator("products")
    @classmethod
    def _unique_products(cls, value: list[ProductConfig]) -> list[ProductConfig]:
        names = [p.name.casefold() for p in value]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"product listed more than once: {', '.join(duplicates)}")
        return value


def load(path: Path | None = None, *, env: dict[str, str] | None = None) -> Config:
    """Read the config file: `path` if given (then it must exist), else `REGTRACK_CONFIG`,
    else ./config.toml when present, else built-in defaults. `REGTRACK_DATABASE_URL`
    overrides `[database] url`."""
    environ = os.environ if env is None else env
    explicit = path is not None or bool(environ.get("REGTRACK_CONFIG"))
    chosen = path or Path(environ.get("REGTRACK_CONFIG") or DEFAULT_PATH)
    data: dict[str, object] = {}
    if chosen.exists() or explicit:
        try:
            with chosen.open("rb") as handle:
                data = tomllib.load(handle)
        except FileNotFoundError as err:
            raise ConfigError(f"config file not found: {chosen}") from err
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{chosen}: not valid TOML: {err}") from err
        except OSError as err:
            raise ConfigError(f"{chosen}: cannot read: {err.strerror}") from err
    if data:
        data = _relative_to(data, chosen.resolve().parent)
    try:
        config = Config.model_validate(data)
    except ValidationError as err:
        raise ConfigError(f"{chosen}: {_describe(err)}") from err
    url = environ.get("REGTRACK_DATABASE_URL")
    if url:
        config = config.model_copy(update={"database": DatabaseConfig(url=url)})
    # Keys come from the environment rather than a file under version control.
    for section, field, variable in (
        ("fda", "api_key", "REGTRACK_OPENFDA_API_KEY"),
        ("mhra", "products_key", "REGTRACK_MHRA_PRODUCTS_KEY"),
    ):
        key = environ.get(variable)
        current = getattr(config.sources, section)
        if key and not getattr(current, field):
            updated = current.model_copy(update={field: key})
            sources = config.sources.model_copy(update={section: updated})
            config = config.model_copy(update={"sources": sources})
    return config


#: Keys that name a file or folder: (section, key); in a config file they are relative to it.
_PATHS = (("mail", "directory"), ("mail", "templates"), ("mail", "password_file"),
          ("reports", "templates"), ("web", "users_file"))  # fmt: skip


def _relative_to(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """Paths in a config file resolve against the file's folder, not the current one, so
    `regtrack --config /srv/x/config.toml` means the same from anywhere (a relative SQLite
    path included: `sqlite:///regtrack.db` is /srv/x/regtrack.db)."""

    def at(value: Any) -> Any:
        if not isinstance(value, str) or not value or Path(value).expanduser().is_absolute():
            return value
        return str(base / value)

    out = {k: dict(v) if isinstance(v, dict) else v for k, v in data.items()}
    for section, key in _PATHS:
        if isinstance(out.get(section), dict) and key in out[section]:
            out[section][key] = at(out[section][key])
    database = out.get("database")
    if isinstance(database, dict) and isinstance(database.get("url"), str):
        url = database["url"]
        rest = url.removeprefix("sqlite:///")
        if (
            url.startswith("sqlite:///")
            and rest
            and rest != ":memory:"
            and not rest.startswith("/")
        ):
            database["url"] = f"sqlite:///{base / rest}"
    if isinstance(out.get("documents"), list):
        out["documents"] = [
            {**d, "path": at(d["path"])} if isinstance(d, dict) and "path" in d else d
            for d in out["documents"]
        ]
    return out


def _describe(err: ValidationError) -> str:
    """One line per problem, naming the key path: 'sources.ema.min_rows: ...'."""
    parts = []
    for problem in err.errors():
        where = ".".join(str(p) for p in problem["loc"]) or "(top level)"
        message = "unknown key" if problem["type"] == "extra_forbidden" else problem["msg"]
        parts.append(f"{where}: {message}")
    return "; ".join(parts)
