"""The web page as a team uses it every day (issue 24): every page at a phone's 390 px and a
desktop's 1280 px in headless Chromium (Debian's, driven by Playwright), the front page's
search and colours, /events' choices, order, count, downloads and keyset pages, HTML error
pages for a browser and JSON for the API."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from .test_web import demo_config, server  # noqa: F401  (the same demo store and server)

CHROMIUM = shutil.which("chromium")
PAGES = ["/", "/products/selinexor", "/events?news=all", "/upcoming", "/sources", "/documents",
         "/products/unobtainium", "/search?q=xpo"]  # fmt: skip
SHOTS = Path(__file__).parent.parent / "docs" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Any:
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--no-first-run"],
        )  # fmt: skip
        yield launched
        launched.close()


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("path", PAGES)
def test_every_page_fits_a_phone_and_a_desktop(
    browser: Any,
    server: str,  # noqa: F811
    path: str,
    width: int,
    tmp_path: Path,
) -> None:
    """No page is wider than the window (what does not fit scrolls inside its own box, not
    the page), the navigation bar is whole, and every link of it is on screen."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(server + path)
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{path} is {scroll} px wide in a {width} px window"
        links = page.eval_on_selector_all(
            "header a", "els => els.map(e => [e.textContent, e.getBoundingClientRect().right])"
        )
        assert [t for t, _ in links] == [
            "regtrack", "Events", "Upcoming", "Sources", "Documents", "API"
        ]  # fmt: skip
        assert all(right <= width for _, right in links)
        shot = tmp_path / "page.png"
        page.screenshot(path=str(shot), full_page=False)
        assert shot.stat().st_size > 5_000  # drawn, not blank
        if path in ("/", "/products/selinexor") and SHOTS.is_dir():
            name = "index" if path == "/" else "product"
            shutil.copy(shot, SHOTS / f"{name}-{width}.png")
    finally:
        page.close()


def test_the_front_page_searches_and_colours_its_statuses(server: str) -> None:  # noqa: F811
    page = httpx.get(server + "/").text
    assert 'action="/search"' in page
    assert 'class="st st-auth"' in page or 'class="st st-cond"' in page
    for words in ("authorised", "conditional / accelerated", "withdrawn, refused, suspended",
                  "recommended", "not recommended"):  # fmt: skip
        assert f">{words}</span>" in page  # the legend
    found = httpx.get(server + "/search", params={"q": "xpovio"}, follow_redirects=False)
    assert found.status_code == 303 and found.headers["location"] == "/products/selinexor"
    none = httpx.get(server + "/search", params={"q": "unobtainium"})
    assert none.status_code == 200 and "No product has a name" in none.text


def test_events_choose_sort_count_download_and_page_by_key(server: str) -> None:  # noqa: F811
    page = httpx.get(server + "/events", params={"news": "all"}).text
    assert '<select name="agency"' in page and '<option value="NICE">NICE</option>' in page
    assert '<option value="conversion_to_full">conversion to full authorisation</option>' in page
    total = int(page.split("<strong>")[1].split("</strong>")[0])
    api = httpx.get(server + "/api/events", params={"limit": 1000}).json()
    assert total == len(api)
    rows = list(csv.DictReader(io.StringIO(
        httpx.get(server + "/events.csv", params={"news": "all"}).text.lstrip("\ufeff")
    )))  # fmt: skip
    assert len(rows) == total
    days = [r["event_date"] or r["detected_at"][:10] for r in rows]
    assert days == sorted(days, reverse=True)  # latest first, by the body's date
    xlsx = httpx.get(server + "/events.xlsx", params={"agency": "EMA", "news": "all"})
    assert xlsx.content[:2] == b"PK"
    only = httpx.get(server + "/events.csv", params={"agency": "NICE", "news": "all"}).text
    assert {r["agency"] for r in csv.DictReader(io.StringIO(only.lstrip("\ufeff")))} == {"NICE"}
    # Keyset pages: the next page starts after the last row's day and id, never repeats.
    key = f"{days[0]}:{rows[0]['id']}"
    after = httpx.get(server + "/events", params={"news": "all", "after": key}).text
    assert "← first page" in after
    shown = after.split("<tbody>")[1].count("<tr>")
    assert shown == min(total - 1, 100)  # every row after the key's, the key's own not again


def test_a_browser_gets_error_pages_the_api_json(server: str) -> None:  # noqa: F811
    missing = httpx.get(server + "/products/selinexer")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "Did you mean" in missing.text and 'href="/products/selinexor"' in missing.text
    assert "<header>" in missing.text  # the navigation bar, as on every page
    bad = httpx.get(server + "/events", params={"since": "not a date"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("text/html")
    api = httpx.get(server + "/api/events", params={"agency": "XYZ"})
    assert api.status_code == 422 and api.headers["content-type"] == "application/json"
    assert "EMA" in api.text and "SMC" in api.text  # the valid values
    assert (
        httpx.get(server + "/api/products/unobtainium/timeline").headers["content-type"]
        == "application/json"
    )
    unknown = httpx.get(server + "/events", params={"agency": "XYZ"})
    assert unknown.status_code == 422 and "one of EMA, MHRA, FDA, NICE, SMC" in unknown.text
