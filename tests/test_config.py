"""Configuration: the repository's own config.toml, unknown keys, overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from regtrack.config import DEFAULT_DATABASE_URL, load
from regtrack.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def test_repository_config_is_valid_and_says_what_the_defaults_say() -> None:
    config = load(ROOT / "config.toml", env={})
    # the default's relative path, resolved against the config file's folder
    assert config.database.url == DEFAULT_DATABASE_URL.replace("///", f"///{ROOT}/")
    assert config.sources.ema.enabled and config.sources.ema.url.startswith(
        "https://www.ema.europa.eu/"
    )
    assert config.sources.ema.min_rows == 1000
    assert [p.name for p in config.products] == ["selinexor"]
    assert {"Xpovio", "Nexpovio", "KPT-330"} <= set(config.products[0].aliases)


def test_no_file_at_the_default_path_means_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = load(None, env={})
    assert config.database.url == DEFAULT_DATABASE_URL and config.products == []


def test_environment_names_the_file_and_overrides_the_database(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[database]\nurl = "sqlite:///a.db"\n')
    assert load(None, env={"REGTRACK_CONFIG": str(path)}).database.url == (
        f"sqlite:///{tmp_path / 'a.db'}"
    )
    env = {"REGTRACK_CONFIG": str(path), "REGTRACK_DATABASE_URL": "postgresql://h/db"}
    assert load(None, env=env).database.url == "postgresql://h/db"
    with pytest.raises(ConfigError, match="config file not found"):
        load(None, env={"REGTRACK_CONFIG": str(tmp_path / "missing.toml")})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[databse]\nurl = 'x'\n", "databse: unknown key"),
        (
            "[sources.ema]\nmin_rows = 0\n",
            "sources.ema.min_rows: Input should be greater than or equal to 1",
        ),
        ("[sources.ema]\nmax_vanished_fraction = 2\n", "sources.ema.max_vanished_fraction"),
        ("[sources.who]\nenabled = true\n", "sources.who: unknown key"),
        ("[sources.nice]\nfollow_pages = 'all'\n", "sources.nice.follow_pages: Input should be"),
        ("[sources.fda]\nbatch_size = 500\n", "sources.fda.batch_size: Input should be less than"),
        (
            "[[products]]\nname = 'a'\n[[products]]\nname = 'A'\n",
            "product listed more than once: a",
        ),
        ("[fetch\n", "not valid TOML"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")) as info:
        load(path, env={})
    assert str(path) in str(info.value)


def _documented_keys(text: str) -> set[str]:
    """Keys config.toml sets or shows in a comment (`# key = …`), with their section."""
    import re

    found, section = set(), ""
    for raw in text.splitlines():
        line = raw.strip().lstrip("#").strip()
        header = re.fullmatch(r"\[\[?([\w.]+)\]?\]", line)
        if header:
            section = header[1]
            found.add(section)
            continue
        for key in re.findall(r"(?:^|[ ,])(\w+) =", line):
            found.add(f"{section}.{key}" if section else key)
    return found


def _model_keys(model: type[object], prefix: str = "") -> set[str]:
    from typing import get_args

    from pydantic import BaseModel

    keys: set[str] = set()
    for name, info in model.model_fields.items():  # type: ignore[attr-defined]
        path = f"{prefix}.{name}" if prefix else name
        inner = [info.annotation, *get_args(info.annotation)]
        nested = [t for t in inner if isinstance(t, type) and issubclass(t, BaseModel)]
        if nested:
            keys |= _model_keys(nested[0], path)
        else:
            keys.add(path)
    return keys


def test_repository_config_documents_every_key_the_config_accepts() -> None:
    from regtrack.config import Config

    documented = _documented_keys((ROOT / "config.toml").read_text())
    missing = sorted(k for k in _model_keys(Config) if k not in documented)
    assert missing == [], f"config.toml does not document: {missing}"


def test_paths_in_a_config_file_are_relative_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`regtrack --config /srv/x/config.toml` run from elsewhere reads /srv/x's database and
    writes /srv/x's mail folder, not ones made anew in the current folder."""
    folder = tmp_path / "srv"
    folder.mkdir()
    path = folder / "config.toml"
    path.write_text(
        '[database]\nurl = "sqlite:///state/r.db"\n[mail]\ndirectory = "mail"\n'
        '[[documents]]\npath = "leaflet.pdf"\nowner = "a@example.org"\n'
    )
    monkeypatch.chdir(tmp_path)
    config = load(path, env={})
    assert config.database.url == f"sqlite:///{folder / 'state' / 'r.db'}"
    assert config.mail.directory == str(folder / "mail")
    assert config.documents[0].path == str(folder / "leaflet.pdf")
    absolute = folder / "abs.toml"
    absolute.write_text('[database]\nurl = "sqlite:////var/r.db"\n[mail]\ndirectory = "/m"\n')
    config = load(absolute, env={})
    assert (config.database.url, config.mail.directory) == ("sqlite:////var/r.db", "/m")
