"""Benchmark: a poll cycle of every feed over many tracked products, from a local mirror.

Serves the five bodies' documents (this project's fixtures, and generated pages for N tracked
products) from a loopback HTTP server with ETags, then measures:
  - regtrack's first cycle and an unchanged cycle (conditional GETs answered 304);
  - the daemon's resident memory when idle after a cycle.
Targets (issue 7): unchanged cycle >= 10x cheaper than the first; daemon idle RSS <= 120 MB.
The cost of one more page beside urlwatch's is bench/page_cost.py: whole processes, paired.
(This benchmark once divided a cycle timed inside its own process by urlwatch timed as a cold
process: not like with like, so that row is gone.)
Run: python bench/poll_cycle.py [--products N]
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))


def mirror_documents(n: int) -> dict[str, tuple[bytes, str]]:
    """path -> (bytes, content type) for every feed and page of a cycle."""
    from fda_release import release  # bench/fda_release.py

    from mhra_pdf import grants_pdf  # tests/mhra_pdf.py

    data = ROOT / "tests" / "data"
    docs: dict[str, tuple[bytes, str]] = {}
    docs["/ema/report.json"] = (
        (data / "ema" / "report_2024-11-21.json").read_bytes(),
        "application/json",
    )
    docs["/fda/download"] = (release(500, 0.0), "application/zip")
    docs["/fda/drugsfda.json"] = (
        (data / "fda" / "openfda_NDA212306_2025-03-10.json").read_bytes(),
        "application/json",
    )
    publication = json.loads((data / "mhra" / "content_api_granted_2021.json").read_text())
    publication["details"]["attachments"] = [
        {
            "url": "http://127.0.0.1:{port}/mhra/june.pdf",
            "content_type": "application/pdf",
            "title": "June",
        }
    ]
    docs["/mhra/content"] = (json.dumps(publication).encode(), "application/json")
    rows = [
        [
            "PL 12345/0001",
            "30/06/2021",
            "HOLDER LTD",
            "PRODUCT 10 MG TABLETS",
            "PRODUCTIB",
            "10",
            "MILLIGRAMS",
            "POM",
            "UK",
        ]
    ]
    docs["/mhra/june.pdf"] = (grants_pdf(rows), "application/pdf")
    docs["/mhra/search.json"] = (
        (data / "mhra" / "search_api_announcements.json").read_bytes(),
        "application/json",
    )
    ta = (data / "nice" / "ta970.html").read_text()
    nice_docs, smc_items = [], []
    advice = (data / "smc" / "selinexor-nexpovio-abbreviated-smc2721.html").read_text()
    for i in range(n):
        name, ref, smc = f"benchmab{i:03d}", f"TA{2000 + i}", 3000 + i
        nice_docs.append(
            {
                "guidanceRef": ref,
                "title": f"{name.capitalize()} for treating condition {i}",
                "niceGuidanceType": ["Technology appraisal guidance"],
                "guidanceStatus": ["Published"],
                "publicationDate": "2024-05-08T12:00:00",
                "lastUpdated": "2024-05-08T12:00:00",
                "pathAndQuery": f"/guidance/{ref.lower()}",
            }
        )
        docs[f"/nice/guidance/{ref.lower()}"] = (
            ta.replace("TA970", ref).replace("Selinexor", name.capitalize()).encode(),
            "text/html",
        )
        smc_items.append(
            {
                "DrugId": smc,
                "Heading": f"{name} (Benchbrand{i})",
                "Indication": "x",
                "SubmissionType": "Full",
                "PublishedDateText": "07 October 2024",
                "AdviceDueDateText": None,
                "Link": {"Url": f"/smc/medicines-advice/{name}-full-smc{smc}/"},
            }
        )
        docs[f"/smc/medicines-advice/{name}-full-smc{smc}/"] = (
            advice.replace("SMC2721", f"SMC{smc}")
            .replace("selinexor (Nexpovio", f"{name} (Benchbrand{i}")
            .encode(),
            "text/html",
        )
    props = {
        "props": {"pageProps": {"results": {"documents": nice_docs, "pagerLinks": {"next": None}}}}
    }
    docs["/nice/guidance/published"] = (
        f'<html><body><h1>Published</h1><script id="__NEXT_DATA__" type="application/json">{json.dumps(props)}</script></body></html>'.encode(),
        "text/html",
    )
    docs["/smc/listing"] = (
        json.dumps({"PageCount": 1, "ResultCount": n, "SearchResults": smc_items}).encode(),
        "application/json",
    )
    return docs


def config_text(base: str, db: str, n: int) -> str:
    products = "\n".join(f'[[products]]\nname = "benchmab{i:03d}"' for i in range(n))
    return f"""
[database]
url = "{db}"
[fetch]
min_interval_seconds = 0
host_intervals = {{}}
robots_txt = false
[sources.ema]
url = "{base}/ema/report.json"
min_rows = 5
max_vanished_fraction = 0.5
follow_pages = "none"
[sources.fda]
datafiles_url = "{base}/fda/download"
openfda_url = "{base}/fda/drugsfda.json"
applications = ["NDA212306"]
min_applications = 100
[sources.mhra]
grants_url = "{base}/mhra/content"
announcements_url = "{base}/mhra/search.json"
[sources.nice]
base_url = "{base}/nice"
listings = ["/guidance/published"]
[sources.smc]
base_url = "{base}/smc"
listing_url = "{base}/smc/listing"
[mail]
directory = "{Path(db.removeprefix("sqlite:///")).parent / "mail"}"
[daemon]
spread_seconds = 0
{products}
"""


def regtrack_cycle(config: Path) -> tuple[float, int]:
    from regtrack import sources
    from regtrack.config import load
    from regtrack.fetch import Fetcher
    from regtrack.poll import poll
    from regtrack.store import Store

    cfg = load(config)
    store = Store.open(cfg.database.url)
    with store.transaction() as tx:
        tx.sync_products(cfg.products)
    fetcher = Fetcher(cfg.fetch)
    start = time.perf_counter()
    documents = 0
    for source in sources.enabled(cfg):
        documents += len(poll(store, source, fetcher))
    return time.perf_counter() - start, documents


def daemon_idle_rss(config: Path) -> float:
    """VmRSS of `regtrack run`, idle after its first cycle."""
    process = subprocess.Popen(
        [sys.executable, "-m", "regtrack", "--config", str(config), "run"],
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: set[str] = set()
    assert process.stderr is not None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not {"ema", "fda", "mhra", "nice", "smc"} <= seen:
        line = process.stderr.readline()
        for name in ("ema", "fda", "mhra", "nice", "smc"):
            if f" {name}: " in line:
                seen.add(name)
    time.sleep(5)
    rss_kb = next(
        int(line.split()[1])
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines()
        if line.startswith("VmRSS")
    )
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=120)
    return rss_kb / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--products", type=int, default=40, help="tracked products (pages per HTA body)"
    )
    n = parser.parse_args().products
    from regtrack.demo import serve

    docs = mirror_documents(n)
    server = serve(docs, lambda base, body: body.replace(b"http://127.0.0.1:{port}", base.encode()))
    base = server.base
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = folder / "config.toml"
        config.write_text(config_text(base, f"sqlite:///{folder / 'bench.db'}", n))
        first, documents = regtrack_cycle(config)
        requests_first = server.requests
        unchanged, _ = regtrack_cycle(config)
        requests_unchanged = server.requests - requests_first
        print(f"mirror: {len(docs)} documents; {n} tracked products per HTA body")
        print(
            f"regtrack first cycle:     {first:.2f} s, {requests_first} requests, {documents} documents parsed"
        )
        print(
            f"regtrack unchanged cycle: {unchanged:.3f} s, {requests_unchanged} requests (304s)"
            f"  -> {first / unchanged:.0f}x cheaper (target >= 10x)"
        )
        daemon_config = folder / "daemon.toml"
        daemon_config.write_text(config_text(base, f"sqlite:///{folder / 'daemon.db'}", n))
        rss = daemon_idle_rss(daemon_config)
        print(f"daemon idle RSS after a cycle: {rss:.0f} MiB (target <= 120 MB)")
    server.shutdown()


if __name__ == "__main__":
    main()
