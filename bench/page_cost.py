"""Benchmark: what one more page costs a poll, beside urlwatch, and whether it grows with the
records already stored (issue 14's poll-cycle row).

A loopback mirror serves the NICE and SMC listings and one page per tracked product per body
(bench/poll_cycle.py's mirror). Both tools run as whole processes on the same pages, first
run on an empty store: `regtrack poll nice smc` and `urlwatch`. Each is run at two sizes
(--small and --large products), and the cost of one extra page is the difference divided by
the extra pages, in wall and CPU time of the child (start-up cancels out). The same regtrack
measure is then taken on a store already holding --stored NICE records (a big listing polled
first, no pages followed): flat means the extra page costs the same.
Medians of --runs runs; ratios are of figures measured in the same run.
`--code SRC` runs regtrack's processes from another checkout's src/ (an earlier commit, on
the same mirror), for a before/after measured in one run.
Run: python bench/page_cost.py [--small 20] [--large 80] [--stored 20000] [--runs 5] [--code SRC]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from poll_cycle import config_text, mirror_documents  # bench/poll_cycle.py

SYNC = """
import sys
from pathlib import Path
from regtrack.config import load
from regtrack.store import Store
config = load(Path(sys.argv[1]))
with Store.open(config.database.url).transaction() as tx:
    tx.sync_products(config.products)
"""


#: The environment of regtrack's processes (PYTHONPATH set by --code).
ENV = dict(os.environ)


#: urlwatch beside this Python (a venv's, active or not), else on PATH.
URLWATCH = next(
    (str(p) for p in [Path(sys.executable).parent / "urlwatch"] if p.exists()),
    shutil.which("urlwatch"),
)


def child(args: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one child process, CPU from its own resource usage."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, env=ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def big_listing(n: int) -> bytes:
    """A NICE listing page naming n appraisals nobody tracks (stored, never followed)."""
    docs = [
        {"guidanceRef": f"TA{10000 + i}", "title": f"Storedmab{i} for condition {i}",
         "niceGuidanceType": ["Technology appraisal guidance"], "guidanceStatus": ["Published"],
         "publicationDate": "2020-01-01T12:00:00", "lastUpdated": "2020-01-01T12:00:00",
         "pathAndQuery": f"/guidance/ta{10000 + i}"}
        for i in range(n)
    ]  # fmt: skip
    props = {"props": {"pageProps": {"results": {"documents": docs, "pagerLinks": {}}}}}
    script = f'<script id="__NEXT_DATA__" type="application/json">{json.dumps(props)}</script>'
    return f"<html><body><h1>Published</h1>{script}</body></html>".encode()


def regtrack_run(base: str, folder: Path, n: int, stored: int) -> tuple[float, float, int]:
    """A first poll of NICE and SMC for n tracked products: (wall, CPU, pages fetched)."""
    db = f"sqlite:///{folder / f'r{n}-{stored}.db'}"
    config = folder / f"r{n}-{stored}.toml"
    text = config_text(base, db, n)
    if stored:
        prefill = folder / f"prefill{n}-{stored}.toml"
        prefill.write_text(text.replace('listings = ["/guidance/published"]',
                                        'listings = ["/guidance/stored"]'))  # fmt: skip
        subprocess.run(
            [sys.executable, "-m", "regtrack", "--config", str(prefill), "poll", "nice"],
            check=True, capture_output=True, env=ENV,
        )  # fmt: skip
    config.write_text(text)
    # The tracked products are made known first, outside the measure (`poll` does it once,
    # for the config, whatever the pages): the measure is the pages'.
    subprocess.run(
        [sys.executable, "-c", SYNC, str(config)], check=True, capture_output=True, env=ENV
    )
    wall, cpu = child([sys.executable, "-m", "regtrack", "--config", str(config), "poll", "nice",
                       "smc"])  # fmt: skip
    return wall, cpu, 2 + 2 * n


def urlwatch_run(base: str, folder: Path, n: int) -> tuple[float, float]:
    jobs = folder / f"urls{n}.yaml"
    urls = [f"{base}/nice/guidance/published", f"{base}/smc/listing"]
    urls += [f"{base}/nice/guidance/ta{2000 + i}" for i in range(n)]
    urls += [f"{base}/smc/medicines-advice/benchmab{i:03d}-full-smc{3000 + i}/" for i in range(n)]
    jobs.write_text("\n---\n".join(f"name: page{i}\nurl: {u}" for i, u in enumerate(urls)))
    settings = folder / "urlwatch.yaml"
    settings.write_text("report:\n  stdout:\n    enabled: false\n  text:\n    details: false\n")
    cache = folder / f"cache{n}-{time.monotonic_ns()}.db"
    assert URLWATCH is not None
    return child([URLWATCH, "--urls", str(jobs), "--config", str(settings),
                  "--cache", str(cache)])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=20)
    parser.add_argument("--large", type=int, default=80)
    parser.add_argument("--stored", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--code", help="src/ folder of the regtrack to run (default: installed)")
    args = parser.parse_args()
    if args.code:
        ENV["PYTHONPATH"] = args.code
    from regtrack.demo import serve

    docs = mirror_documents(args.large)
    docs["/nice/guidance/stored"] = (big_listing(args.stored), "text/html")
    server = serve(docs, lambda base, body: body.replace(b"http://127.0.0.1:{port}", base.encode()))
    has_urlwatch = URLWATCH is not None
    rows: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        rows.setdefault(name, []).append(value)

    extra = 2 * (args.large - args.small)
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            small = regtrack_run(server.base, folder, args.small, 0)
            large = regtrack_run(server.base, folder, args.large, 0)
            wall, cpu = (large[0] - small[0]) / extra, (large[1] - small[1]) / extra
            add("regtrack wall", wall)
            add("regtrack cpu", cpu)
            s_small = regtrack_run(server.base, folder, args.small, args.stored)
            s_large = regtrack_run(server.base, folder, args.large, args.stored)
            add("stored wall", (s_large[0] - s_small[0]) / extra)
            add("stored cpu", (s_large[1] - s_small[1]) / extra)
            add("stored ratio", (s_large[1] - s_small[1]) / max(1e-9, large[1] - small[1]))
            if has_urlwatch:
                u_small = urlwatch_run(server.base, folder, args.small)
                u_large = urlwatch_run(server.base, folder, args.large)
                u_wall, u_cpu = (u_large[0] - u_small[0]) / extra, (u_large[1] - u_small[1]) / extra
                add("urlwatch wall", u_wall)
                add("urlwatch cpu", u_cpu)
                add("cpu ratio", cpu / max(1e-9, u_cpu))
        print(f"run {run + 1} of {args.runs} done", file=sys.stderr, flush=True)
    server.shutdown()

    def ms(name: str) -> str:
        return f"{statistics.median(rows[name]) * 1000:6.2f} ms"

    print(f"pages per size: {2 + 2 * args.small} and {2 + 2 * args.large}; medians of {args.runs}")
    print(f"regtrack, per extra page:        {ms('regtrack wall')} wall {ms('regtrack cpu')} CPU"
          "   target <= 4 ms CPU")  # fmt: skip
    print(f"  with {args.stored:,} NICE records stored: {ms('stored wall')} wall "
          f"{ms('stored cpu')} CPU   ratio to empty {statistics.median(rows['stored ratio']):.2f}"
          "   target flat (1.0)")  # fmt: skip
    if has_urlwatch:
        print(f"urlwatch, per extra page:        {ms('urlwatch wall')} wall "
              f"{ms('urlwatch cpu')} CPU")  # fmt: skip
        print(f"CPU per page, regtrack / urlwatch (same run): "
              f"{statistics.median(rows['cpu ratio']):.2f}")  # fmt: skip
    else:
        print("urlwatch is not installed (pip install -e '.[bench]'): comparison skipped")


if __name__ == "__main__":
    main()
