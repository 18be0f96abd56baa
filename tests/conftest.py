"""Shared fixtures: where the real samples are, and stores on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from regtrack.config import Config, EMAConfig, SourcesConfig
from regtrack.store import Store

from .ema_xlsx import load_rows, write_xlsx

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
POSTGRES_URL = os.environ.get("REGTRACK_TEST_POSTGRES_URL")


@pytest.fixture(scope="session")
def samples() -> Path:
    """The real documents in ../shared/samples (or REGTRACK_SAMPLES); skip when absent."""
    path = Path(os.environ.get("REGTRACK_SAMPLES") or ROOT.parent / "shared" / "samples")
    if not path.is_dir():
        pytest.skip(f"real samples not found at {path} (set REGTRACK_SAMPLES)")
    return path


@pytest.fixture(scope="session")
def ema_sample(samples: Path) -> Path:
    path = samples / "ema" / "medicines_output_medicines_en__generated_2024-08-22.xlsx"
    if not path.is_file():
        pytest.skip(f"real EMA medicines report not found at {path}")
    return path


@pytest.fixture
def small_config() -> Config:
    """Config for the project's small fixtures: a register of a few rows is not truncated, and
    reports of 2024 replayed today, with no date of their own, have no news window."""
    return Config(
        sources=SourcesConfig(
            ema=EMAConfig(min_rows=5, max_vanished_fraction=0.2, news_window_days=0)
        )
    )


@pytest.fixture
def ema_reports(tmp_path: Path) -> dict[str, Path]:
    """The two fixture reports in both real forms: JSON as written, XLSX built from them."""
    out = {}
    for name, stamp in (("2024-09-01", dt.datetime(2024, 9, 1, 6, 0)),
                        ("2024-11-21", dt.datetime(2024, 11, 21, 6, 0))):  # fmt: skip
        json_path = DATA / "ema" / f"report_{name}.json"
        out[f"{name}.json"] = json_path
        out[f"{name}.xlsx"] = write_xlsx(load_rows(json_path), tmp_path / f"{name}.xlsx", stamp)
    return out


def _postgres_store() -> Iterator[Store]:
    if not POSTGRES_URL:
        pytest.skip("REGTRACK_TEST_POSTGRES_URL is not set: PostgreSQL store tests skipped")
    import psycopg

    schema = f"rt_{uuid.uuid4().hex[:12]}"
    plain = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in POSTGRES_URL else "?"
    store = Store.open(f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}")
    try:
        yield store
    finally:
        store.close()
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh store per test, on a SQLite file and on PostgreSQL."""
    if request.param == "postgresql":
        yield from _postgres_store()
        return
    store = Store.open(f"sqlite:///{tmp_path / 'regtrack.db'}")
    yield store
    store.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(f"sqlite:///{tmp_path / 'regtrack.db'}")
    yield store
    store.close()
