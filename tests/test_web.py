"""The web page and API: a real server on loopback over the demo's store, pages loaded in
headless Chromium, the API checked against its own OpenAPI description (schemathesis), and
hostile text escaped."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from click.testing import CliRunner
from hypothesis import HealthCheck, settings

from regtrack.cli import cli
from regtrack.config import load
from regtrack.store import Store
from regtrack.web import create_app
from regtrack.web.security import hash_password

CHROMIUM = shutil.which("chromium")


@pytest.fixture(scope="module")
def demo_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("web") / "demo"
    result = CliRunner().invoke(cli, ["demo", "--dir", str(folder)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    config = folder / "config.toml"
    # Hostile text in an event, as a scraped page might carry it.
    store = Store.open(load(config).database.url)
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE event SET evidence = evidence || ' <script>alert(1)</script><b>bold</b>' "
            "WHERE kind = 'conversion_to_full'"
        )
    store.close()
    return config


@pytest.fixture(scope="module")
def server(demo_config: Path) -> Iterator[str]:
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = load(demo_config)
    app = create_app(config, Store.open(config.database.url))
    runner = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(base + "/api/sources", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    yield base
    runner.should_exit = True
    thread.join(timeout=10)


@pytest.mark.parametrize(
    ("path", "shows"),
    [
        ("/", "Where products stand"),
        ("/products/selinexor", "Nexpovio full authorisation since 2022-07-18"),
        ("/products/xpovio", "XPOVIO (selinexor)"),
        ("/events", "conversion to full authorisation (II/0009)"),
        ("/events?agency=NICE&news=all", "TA970"),
        ("/sources", "ema"),
        ("/documents", "No documents are kept under watch"),
    ],
)
def test_every_page_answers_escaped_under_its_security_headers(
    server: str, path: str, shows: str
) -> None:
    response = httpx.get(server + path)
    assert response.status_code == 200 and shows in response.text
    assert "<script" not in response.text  # hostile evidence is escaped; no script of ours
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    assert response.headers["x-frame-options"] == "DENY"


def test_hostile_text_comes_out_escaped(server: str) -> None:
    for path in ("/products/selinexor", "/events?news=all"):  # pages that show evidence
        text = httpx.get(server + path).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;" in text
    assert "<b>bold</b>" not in httpx.get(server + "/").text
    api = httpx.get(server + "/api/events", params={"kind": "conversion_to_full"}).json()
    assert api[0]["evidence"].endswith("<script>alert(1)</script><b>bold</b>")  # data, as is


def test_events_paginate_in_sql_and_link_products(server: str) -> None:
    first = httpx.get(server + "/api/events", params={"limit": 5}).json()
    second = httpx.get(server + "/api/events", params={"limit": 5, "offset": 5}).json()
    assert len(first) == 5 and {e["id"] for e in first}.isdisjoint(e["id"] for e in second)
    assert set(first[0]) >= {"agency", "kind", "product", "brand", "reference", "event_date",
                             "detected_at", "source_url", "evidence", "details", "backfill"}  # fmt: skip
    page = httpx.get(server + "/events?news=all").text
    assert 'href="/products/selinexor"' in page
    assert httpx.get(server + "/products/selinexor.ics").text.startswith("BEGIN:VCALENDAR")
    assert "<feed" in httpx.get(server + "/feed.xml?product=selinexor").text
    assert httpx.get(server + "/products/unobtainium").status_code == 404


def test_nothing_writes_to_the_store(demo_config: Path, server: str) -> None:
    url = load(demo_config).database.url
    path = Path(url.removeprefix("sqlite:///"))
    before = path.stat().st_mtime_ns, (path.with_name(path.name + "-wal")).stat().st_size
    for page in ("/", "/products/selinexor", "/events", "/sources", "/api/events"):
        httpx.get(server + page)
    after = path.stat().st_mtime_ns, (path.with_name(path.name + "-wal")).stat().st_size
    assert before == after


@pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)
@pytest.mark.parametrize("path", ["/", "/products/selinexor", "/events", "/sources", "/documents"])
def test_pages_render_in_headless_chromium(server: str, path: str, tmp_path: Path) -> None:
    from PIL import Image

    shot = tmp_path / "page.png"
    subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--no-first-run", "--window-size=1280,900",
         f"--screenshot={shot}", server + path],
        capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 900)
    colours = image.getcolors(maxcolors=1 << 20) or []
    assert len(colours) > 20  # text and tables drawn, not a blank page
    if path == "/products/selinexor":  # the swimlanes: EMA's blue and FDA's red dots
        pixels = {c for _, c in colours}
        assert (31, 95, 168) in pixels and (192, 57, 43) in pixels
    else:  # the header bar of the layout
        assert image.getpixel((5, 5)) == (31, 59, 90)


def test_basic_auth_from_hashes(demo_config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    monkeypatch.setenv("REGTRACK_WEB_USERS", f"alice:{hash_password('s3cret')}")
    config = load(demo_config)
    client = TestClient(create_app(config, Store.open(config.database.url)))
    assert client.get("/").status_code == 401
    assert client.get("/api/events").status_code == 401
    assert client.get("/", auth=("alice", "wrong")).status_code == 401
    assert client.get("/", auth=("alice", "s3cret")).status_code == 200
    monkeypatch.setenv("REGTRACK_WEB_USERS", "bob:plaintext")
    from regtrack.errors import ConfigError

    with pytest.raises(ConfigError, match="plain passwords are refused"):
        create_app(config, Store.open(config.database.url))


def test_the_api_keeps_to_its_openapi_description(demo_config: Path) -> None:
    """Every operation of /openapi.json, called with cases schemathesis generates from it:
    no server error, documented statuses and content types, bodies that fit their schema."""
    from hypothesis import given

    config = load(demo_config)
    app = create_app(config, Store.open(config.database.url))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {
        "/api/events", "/api/products", "/api/products/{name}/timeline", "/api/status",
        "/api/sources",
    }  # fmt: skip
    for operation in operations:

        @given(operation.as_strategy())
        @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
        def call(case: Any) -> None:
            case.call_and_validate()

        call()
