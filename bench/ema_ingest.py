"""Benchmark: the real EMA medicines report (2,433 rows) through the whole pipeline.

Prints: first ingest time, unchanged re-poll time, peak memory of the ingest, and the start-up
cost of `regtrack events` / `regtrack timeline` beside `python -c "import sqlmodel"`.
Targets (issue 2): first ingest <= 3 s, unchanged re-poll <= 0.3 s, start-up <= 0.2 s above
the sqlmodel import. Run: python bench/ema_ingest.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = "ema/medicines_output_medicines_en__generated_2024-08-22.xlsx"

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from regtrack.config import Config
from regtrack.poll import poll
from regtrack.sources.ema import EMAReport
from regtrack.store import Store

store = Store.open(sys.argv[1])
source = EMAReport.from_config(Config())
path = Path(sys.argv[2])
start = time.perf_counter()
(first,) = poll(store, source, None, from_file=path)
first_s = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
again = []
for _ in range(int(sys.argv[3])):
    start = time.perf_counter()
    (outcome,) = poll(store, source, None, from_file=path)
    again.append(time.perf_counter() - start)
    assert outcome.status == "unchanged", outcome
print(json.dumps({"first": first_s, "records": first.records, "events": len(first.events),
                  "again": again, "peak_kib": peak_kib}))
"""


def samples() -> Path:
    path = Path(os.environ.get("REGTRACK_SAMPLES") or ROOT.parent / "shared" / "samples")
    if not (path / SAMPLE).is_file():
        sys.exit(f"the real EMA report is not at {path / SAMPLE} (set REGTRACK_SAMPLES)")
    return path / SAMPLE


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="repetitions of timed commands")
    runs = parser.parse_args().runs
    sample = samples()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        out = subprocess.run(
            [sys.executable, "-c", CHILD, url, str(sample), str(runs)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        figures = json.loads(out.stdout)
        env = os.environ | {
            "REGTRACK_DATABASE_URL": url,
            "REGTRACK_CONFIG": str(ROOT / "config.toml"),
        }
        floor, events, timeline = [], [], []
        for _ in range(runs):  # interleaved, so drift in machine load hits all three alike
            floor.append(timed([sys.executable, "-c", "import sqlmodel"], env))
            events.append(
                timed([sys.executable, "-m", "regtrack", "events", "--product", "selinexor"], env)
            )
            timeline.append(timed([sys.executable, "-m", "regtrack", "timeline", "nexpovio"], env))

    again = statistics.median(figures["again"])
    base = statistics.median(floor)
    print(f"EMA medicines report: {figures['records']} human records, {figures['events']} events")
    print(f"first ingest:         {figures['first']:.2f} s   (target <= 3 s)")
    print(f"unchanged re-poll:    {again * 1000:.1f} ms  (median of {runs}; target <= 300 ms)")
    print(f"peak RSS of ingest:   {figures['peak_kib'] / 1024:.0f} MiB")
    print(f"import sqlmodel:      {base * 1000:.0f} ms  (median of {runs}: the floor)")
    for name, times in (("regtrack events", events), ("regtrack timeline", timeline)):
        med = statistics.median(times)
        over = (med - base) * 1000
        print(
            f"{name + ':':22}{med * 1000:.0f} ms  (+{over:.0f} ms over the floor; target <= +200)"
        )


if __name__ == "__main__":
    main()
