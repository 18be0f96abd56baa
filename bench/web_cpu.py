"""Benchmark: the web page's CPU per request, in the server process, against a bare server
returning the same bytes (issue 24's speed targets).

Two stores: the demo's (42 events), and the demo's with a scripted Drugs@FDA release of
--applications applications ingested beside it. For each, `regtrack serve` and a bare uvicorn
app that answers every path with the bytes regtrack gave for it run as whole processes; their
CPU (user+sys, from /proc) is read around --requests requests per page, rounds paired A B A B,
medians quoted. Printed beside the targets: a product page within 2x the CPU of /api/status,
a product search within 3x, both flat in the store's size; /api/events against the bare
server.
Run: python bench/web_cpu.py [--applications 5000] [--requests 200] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fda_release import release  # bench/fda_release.py

PAGES = {
    "status": "/api/status",
    "product": "/products/selinexor",
    "search": "/api/products?q=xpov",
    "events": "/api/events?limit=100",
}
BARE = r"""
import json, sys
pages = json.loads(open(sys.argv[1], "rb").read())
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    key = scope["path"] + ("?" + scope["query_string"].decode() if scope["query_string"] else "")
    body = pages.get(key, "").encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
import uvicorn
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""
INGEST = r"""
import sys
from pathlib import Path
from regtrack.config import Config, FDAConfig, SourcesConfig
from regtrack.poll import poll
from regtrack.sources.fda import FDA
from regtrack.store import Store
store = Store.open(sys.argv[1])
(outcome,) = poll(store, FDA.from_config(Config(sources=SourcesConfig(fda=FDAConfig(openfda=False, min_applications=1)))), None, from_file=Path(sys.argv[2]))
assert outcome.status == "changed", outcome.message
print(store.count_events())
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu(pid: int) -> float:
    """User+system CPU seconds of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_up(url: str) -> None:
    import httpx

    for _ in range(200):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise SystemExit(f"{url} did not come up")


def per_request(pid: int, client: object, url: str, n: int) -> float:
    """Milliseconds of the server's CPU per request."""
    before = cpu(pid)
    for _ in range(n):
        client.get(url)  # type: ignore[attr-defined]
    return (cpu(pid) - before) * 1000 / n


def measure(config: Path, requests: int, rounds: int) -> dict[str, tuple[float, float]]:
    import httpx

    port = free_port()
    env = {**os.environ, "REGTRACK_CONFIG": str(config)}
    serve = subprocess.Popen([sys.executable, "-m", "regtrack", "serve", "--port", str(port)],
                             env=env, stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    wait_up(base + "/api/status")
    with httpx.Client() as client:
        pages = {path: client.get(base + path).text for path in PAGES.values()}
    bodies = Path(tempfile.mkdtemp()) / "pages.json"
    bodies.write_text(json.dumps(pages))
    bare_port = free_port()
    bare = subprocess.Popen([sys.executable, "-c", BARE, str(bodies), str(bare_port)])
    bare_base = f"http://127.0.0.1:{bare_port}"
    wait_up(bare_base + "/")
    out: dict[str, tuple[float, float]] = {}
    try:
        with httpx.Client() as a, httpx.Client() as b:
            for label, path in PAGES.items():
                mine, floor = [], []
                per_request(serve.pid, a, base + path, 20)  # warm
                per_request(bare.pid, b, bare_base + path, 20)
                for _ in range(rounds):  # paired: A B A B
                    mine.append(per_request(serve.pid, a, base + path, requests))
                    floor.append(per_request(bare.pid, b, bare_base + path, requests))
                out[label] = (statistics.median(mine), statistics.median(floor))
    finally:
        serve.terminate()
        bare.terminate()
        serve.wait()
        bare.wait()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    subprocess.run([sys.executable, "-m", "regtrack", "demo", "--dir", str(work / "demo")],
                   check=True, capture_output=True)  # fmt: skip
    config = work / "demo" / "config.toml"
    small = measure(config, args.requests, args.rounds)
    zipped = work / "release.zip"
    zipped.write_bytes(release(args.applications, 0.0))
    url = config.read_text().split('url = "', 1)[1].split('"', 1)[0]
    ingested = subprocess.run([sys.executable, "-c", INGEST, url, str(zipped)], check=True,
                              capture_output=True, text=True)  # fmt: skip
    events = int(ingested.stdout.split()[-1])
    large = measure(config, args.requests, args.rounds)
    print(f"CPU per request in the server process, ms (median of {args.rounds} paired rounds of "
          f"{args.requests}); small store: the demo's events, large: {events:,} events")  # fmt: skip
    print(f"{'page':<10} {'small':>8} {'large':>8} {'bare':>7} {'vs bare':>8} {'vs status':>10}")
    for label in PAGES:
        s, l_ = small[label][0], large[label][0]
        print(f"{label:<10} {s:8.2f} {l_:8.2f} {large[label][1]:7.2f} "
              f"{l_ / large[label][1]:8.1f}x {l_ / large['status'][0]:9.1f}x")  # fmt: skip
    print("targets: product within 2x status, search within 3x status, both flat (large/small)")


if __name__ == "__main__":
    main()
