"""Benchmark: regtrack at register scale, each row of issue 14's table beside its target.

Builds a full-size Drugs@FDA release by script (bench/fda_release.py: ~25,000 applications,
~165,000 submissions), then measures, as whole processes (wall and CPU of the child, its
peak RSS), medians of --runs runs:
  - first ingest into SQLite and into PostgreSQL (COPY);
  - `regtrack events --format jsonl` over every event, beside the floor: a stdlib
    sqlite3 + json process writing the same bytes;
  - `regtrack status`, `lag` and `feed --backfill` on that store;
  - `regtrack timeline` while an ingest holds the write transaction (how long it waits);
  - start-up of `timeline` and `events --product` against `python -c "import sqlmodel"`;
  - the web page: a product page and an events page (first and 500th) on that store.
Run: python bench/register_scale.py [--applications N] [--runs N] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fda_release import release  # bench/fda_release.py

INGEST = r"""
import json, resource, sys, time
from pathlib import Path
from regtrack.config import Config, FDAConfig, SourcesConfig
from regtrack.poll import poll
from regtrack.sources.fda import FDA
from regtrack.store import Store

store = Store.open(sys.argv[1])
source = FDA.from_config(Config(sources=SourcesConfig(fda=FDAConfig(openfda=False))))
(outcome,) = poll(store, source, None, from_file=Path(sys.argv[2]))
print(json.dumps({"events": len(outcome.events), "status": outcome.status}))
"""

HOLD = r"""
import sys, time
from regtrack.store import Store

# What an ingest does to readers: it holds the write transaction (SQLite's write lock).
store = Store.open(sys.argv[1])
with store.transaction() as tx:
    tx.record_health("fda", ok=True)
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
"""

WEB = r"""
import json, statistics, sys, time
from fastapi.testclient import TestClient
from regtrack.config import load
from regtrack.store import Store
from regtrack.web import create_app

config = load(None)
client = TestClient(create_app(config, Store.open(config.database.url)))
out = {}
for label, path in (("product", f"/products/{sys.argv[1]}"), ("events", "/events?news=all"),
                    ("events_page_500", "/events?news=all&page=500")):
    client.get(path)  # warm
    times = []
    for _ in range(20):
        start = time.perf_counter()
        assert client.get(path).status_code == 200
        times.append(time.perf_counter() - start)
    out[label] = statistics.median(times)
print(json.dumps(out))
"""

FLOOR = r"""
import json, sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
out = sys.stdout
for row in conn.execute(
    "SELECT e.*, p.name FROM event e JOIN product p ON p.id = e.product_id "
    "ORDER BY coalesce(e.event_date, date(e.detected_at)), e.agency, e.id"
):
    out.write(json.dumps(row, ensure_ascii=False) + "\n")
"""


def run(args: list[str], env: dict[str, str] | None = None) -> dict[str, float]:
    """wall, cpu and peak RSS of one child process, from its own resource usage."""
    script = (
        "import os, resource, subprocess, sys, time, json\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
        "w = time.perf_counter() - t\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "if p.returncode: sys.exit(p.stderr.decode()[-2000:])\n"
        "print(json.dumps({'wall': w, 'cpu': u.ru_utime + u.ru_stime, 'rss': u.ru_maxrss / 1024}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, env=env
    )
    if done.returncode:
        raise SystemExit(f"{args[:5]} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def median(samples: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(s[k] for s in samples) for k in samples[0]}


def line(label: str, figures: dict[str, float], target: str, extra: str = "") -> None:
    print(
        f"{label:<44} {figures['wall']:7.2f} s wall {figures['cpu']:7.2f} s CPU "
        f"{figures['rss']:6.0f} MiB   target {target}{extra}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--applications", type=int, default=25_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgres", default=os.environ.get("REGTRACK_TEST_POSTGRES_URL"))
    options = parser.parse_args()
    regtrack = [sys.executable, "-m", "regtrack"]
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp, "base.zip")
        print("building the release…", flush=True)
        base.write_bytes(release(options.applications, 0.0))
        db = Path(tmp, "store.db")

        samples = []
        for _ in range(options.runs):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            samples.append(run([sys.executable, "-c", INGEST, f"sqlite:///{db}", str(base)]))
        line("FDA first ingest, SQLite", median(samples), "<= 5 s, <= 300 MiB")

        if options.postgres:
            import psycopg

            samples = []
            plain = options.postgres.replace("postgresql+psycopg://", "postgresql://")
            for number in range(options.runs):
                schema = f"bench_{os.getpid()}_{number}"
                with psycopg.connect(plain, autocommit=True) as conn:
                    conn.execute(f"CREATE SCHEMA {schema}")
                sep = "&" if "?" in plain else "?"
                url = f"{plain}{sep}options=-csearch_path%3D{schema}"
                try:
                    samples.append(run([sys.executable, "-c", INGEST, url, str(base)]))
                finally:
                    with psycopg.connect(plain, autocommit=True) as conn:
                        conn.execute(f"DROP SCHEMA {schema} CASCADE")
            line("FDA first ingest, PostgreSQL (COPY)", median(samples), "<= 6 s")
        else:
            print("FDA first ingest, PostgreSQL: skipped (no --postgres URL)")

        config = Path(tmp, "config.toml")
        config.write_text(f'[database]\nurl = "sqlite:///{db}"\n')
        env = {**os.environ, "REGTRACK_CONFIG": str(config)}
        count = subprocess.run(
            [sys.executable, "-c", f"import sqlite3; print(sqlite3.connect('{db}')"
             ".execute('select count(*) from event').fetchone()[0])"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        name = subprocess.run(
            [sys.executable, "-c", f"import sqlite3; print(sqlite3.connect('{db}')"
             ".execute('select name from product order by id limit 1 offset 7').fetchone()[0])"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        print(f"store: {count} events; timeline product: {name}")

        jsonl = median([run([*regtrack, "events", "--format", "jsonl"], env) for _ in range(5)])
        floor = median([run([sys.executable, "-c", FLOOR, str(db)]) for _ in range(5)])
        line("events --format jsonl (all)", jsonl, "<= 3 s, <= 100 MiB")
        line(
            "  floor: stdlib sqlite3 + json",
            floor,
            "",
            f"   ratio {jsonl['wall'] / floor['wall']:.1f}x",
        )
        for label, args in (
            ("status (no args)", ["status"]),
            ("lag", ["lag"]),
            ("feed --backfill", ["feed", "--backfill"]),
        ):
            line(label, median([run([*regtrack, *args], env) for _ in range(5)]), "<= 1 s")

        # A timeline while another process holds the write transaction, as an ingest does.
        waits = []
        for _ in range(options.runs):
            alone = run([*regtrack, "timeline", name], env)
            holder = subprocess.Popen(
                [sys.executable, "-c", HOLD, f"sqlite:///{db}", "8"],
                stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
            during = run([*regtrack, "timeline", name], env)
            holder.wait()
            waits.append(
                {"wall": during["wall"] - alone["wall"], "cpu": during["cpu"], "rss": during["rss"]}
            )
        line("timeline during an ingest: extra wait", median(waits), "never waits (~0 s)")

        web = json.loads(
            subprocess.run([sys.executable, "-c", WEB, name], env=env, capture_output=True,
                           text=True, check=True).stdout
        )  # fmt: skip
        for label, key in (("web: product page", "product"), ("web: events page 1", "events"),
                           ("web: events page 500", "events_page_500")):  # fmt: skip
            print(
                f"{label:<44} {web[key] * 1000:7.1f} ms (median of 20, in-process)   "
                "target <= 100 ms",
                flush=True,
            )

        base_import = median([run([sys.executable, "-c", "import sqlmodel"]) for _ in range(7)])
        for label, args in (
            ("timeline start-up", ["timeline", name]),
            ("events --product start-up", ["events", "--product", name]),
        ):
            figures = median([run([*regtrack, *args], env) for _ in range(7)])
            ratio = figures["wall"] / base_import["wall"]
            line(
                label,
                figures,
                "<= 1.0x import sqlmodel",
                f"   {ratio:.2f}x ({base_import['wall']:.2f} s)",
            )


if __name__ == "__main__":
    main()
