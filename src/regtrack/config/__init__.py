"""Typed, validated configuration read from TOML; only the CLI calls `load`.

Unknown keys are errors, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import (
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ..errors import ConfigError
from .base import Section
from .mail import (
    WEEKDAYS,
    Frequency,
    MailConfig,
    OperatorsConfig,
    RecipientConfig,
    SubscriptionConfig,
)
from .sources import (
    EMAConfig,
    FDAConfig,
    FetchConfig,
    FollowPages,
    MHRAConfig,
    NICEConfig,
    SMCConfig,
    SourceConfig,
    SourcesConfig,
)

__all__ = ["DEFAULT_DATABASE_URL", "WEEKDAYS", "Config", "DocumentConfig", "EMAConfig",
           "FDAConfig", "FetchConfig", "FollowPages", "Frequency", "MHRAConfig", "MailConfig",
           "NICEConfig", "OperatorsConfig", "ProductConfig", "RecipientConfig", "SMCConfig",
           "SourceConfig", "SourcesConfig", "SubscriptionConfig", "load"]  # fmt: skip

DEFAULT_PATH = Path("config.toml")
DEFAULT_DATABASE_URL = "sqlite:///regtrack.db"


class DatabaseConfig(Section):
    url: str = DEFAULT_DATABASE_URL


class WebConfig(Section):
    #: `regtrack serve` binds here: loopback unless said otherwise (put a reverse proxy with
    #: TLS in front of it for others).
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    #: Where staff reach the page (digest emails link each product to it when set).
    public_url: str | None = None
    #: HTTP basic auth: a file of `user:hash` lines (`regtrack password-hash` makes a hash);
    #: the environment variable REGTRACK_WEB_USERS may hold the same lines. Neither: no auth.
    users_file: str | None = None


class ReportsConfig(Section):
    #: A folder whose templates override the bundled report templates (timeline.html).
    templates: str | None = None


class DaemonConfig(Section):
    #: How often the immediate digest (and the outbox) run, in minutes.
    immediate_minutes: float = Field(default=15.0, gt=0)
    #: Seconds between first runs on start, so not everything is polled at once.
    spread_seconds: float = Field(default=20.0, ge=0)


class ProductConfig(Section):
    name: str = Field(min_length=1)
    aliases: list[str] = []


class DocumentConfig(Section):
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


class Config(Section):
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
