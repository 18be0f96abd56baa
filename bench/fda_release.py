"""Benchmark: a full-size Drugs@FDA release through the whole pipeline (SQLite).

Builds releases by script, in the real format (cp1252, CRLF, padded keys, the 2025 join
table): about 25,000 applications and 160,000 submissions, then a copy with 1% more
submissions. Prints first ingest, unchanged re-poll, the 1% delta re-poll and peak RSS.
Targets (issue 3): first <= 15 s, unchanged <= 0.5 s, 1% delta <= 3 s, peak RSS <= 400 MB.
Run: python bench/fda_release.py [--applications N]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from regtrack.config import Config, FDAConfig, SourcesConfig
from regtrack.poll import poll
from regtrack.sources.fda import FDA
from regtrack.store import Store

store = Store.open(sys.argv[1])
source = FDA.from_config(Config(sources=SourcesConfig(fda=FDAConfig(openfda=False))))
figures = {}
for label, path in (("first", sys.argv[2]), ("unchanged", sys.argv[2]), ("delta", sys.argv[3])):
    start = time.perf_counter()
    (outcome,) = poll(store, source, None, from_file=Path(path))
    figures[label] = time.perf_counter() - start
    figures[label + "_status"] = outcome.status
    figures[label + "_events"] = len(outcome.events)
figures["peak_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(figures))
"""

INGREDIENTS = [f"MOLECULE{n:05d}" for n in range(9000)]
SALTS = ["", " HYDROCHLORIDE", " SODIUM", " MALEATE"]


def table(rows: list[list[str]]) -> bytes:
    return ("\r\n".join("\t".join(r) for r in rows) + "\r\n").encode("cp1252")


def release(applications: int, extra_fraction: float, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    apps = [["ApplNo", "ApplType", "ApplPublicNotes", "SponsorName"]]
    subs = [["ApplNo", "SubmissionClassCodeID", "SubmissionType", "SubmissionNo",
             "SubmissionStatus", "SubmissionStatusDate", "SubmissionsPublicNotes",
             "ReviewPriority"]]  # fmt: skip
    prods = [["ApplNo", "ProductNo", "Form", "Strength", "ReferenceDrug", "DrugName",
              "ActiveIngredient", "ReferenceStandard"]]  # fmt: skip
    status = [["MarketingStatusID", "ApplNo", "ProductNo"]]
    join = [["SubmissionType", "j_submissionActionTypeID", "ApplNo", "SubmissionNo",
             "ActionTypes_LookupID"]]  # fmt: skip
    extra = random.Random(seed + 1)
    for n in range(applications):
        number = f"{200000 + n:06d}"
        kind = rng.choice(["NDA", "ANDA", "ANDA", "BLA"])
        apps.append([number, kind, "", f"SPONSOR {n % 3000} INC"])
        ingredient = rng.choice(INGREDIENTS) + rng.choice(SALTS)
        for p in range(1, rng.randint(1, 3) + 1):
            prods.append([number, f"{p:03d}", "TABLET;ORAL", f"{p * 10}MG", "0",
                          f"BRAND{n}", ingredient, "0"])  # fmt: skip
            status.append([rng.choice("1113"), number, f"{p:03d}"])
        count = rng.randint(1, 12)
        # The delta release adds submissions from its own generator, so that every other
        # row stays the same as in the base release.
        added = 1 if extra.random() < extra_fraction * 6.4 else 0
        for s in range(1, count + added + 1):
            r = rng if s <= count else extra
            stype = "ORIG      " if s == 1 else "SUPPL     "
            day = f"{r.randint(1985, 2024)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"
            subs.append([number, r.choice("2347"), stype, str(s), "AP",
                         f"{day} 00:00:00", "", r.choice(["STANDARD", "PRIORITY"])])  # fmt: skip
            join.append([stype, str(s), number, str(s), r.choice(["2", "8", "13", "31"])])
    lookups = {
        "SubmissionClass_Lookup.txt": [["SubmissionClassCodeID", "SubmissionClassCode",
            "SubmissionClassCodeDescription"], ["2", "EFFICACY", "Efficacy"],
            ["3", "LABELING", "Labeling"], ["4", "MANUF (CMC)", "Manufacturing (CMC)"],
            ["7", "TYPE 1", "Type 1 - New Molecular Entity"]],
        "MarketingStatus_Lookup.txt": [["MarketingStatusID", "MarketingStatusDescription"],
            ["1", "Prescription"], ["3", "Discontinued"]],
        "ActionTypes_Lookup.txt": [["ActionTypes_LookupID", "ActionTypes_LookupDescription"],
            ["2", "Efficacy"], ["8", "Efficacy-New Indication"], ["13", "Labeling"],
            ["31", "Manufacturing (CMC)"]],
    }  # fmt: skip
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, rows in {**lookups, "Applications.txt": apps, "Submissions.txt": subs,
                           "Products.txt": prods, "MarketingStatus.txt": status,
                           "Join_Submission_ActionTypes_Lookup.txt": join}.items():  # fmt: skip
            archive.writestr(name, table(rows))
    print(f"  release: {len(apps) - 1} applications, {len(subs) - 1} submissions, "
          f"{len(prods) - 1} products, {len(buffer.getvalue()) / 1e6:.1f} MB zipped",
          flush=True)  # fmt: skip
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--applications", type=int, default=25_000)
    count = parser.parse_args().applications
    with tempfile.TemporaryDirectory() as tmp:
        base, delta = Path(tmp, "base.zip"), Path(tmp, "delta.zip")
        print("building releases…")
        base.write_bytes(release(count, 0.0))
        delta.write_bytes(release(count, 0.01))
        out = subprocess.run(
            [sys.executable, "-c", CHILD, f"sqlite:///{tmp}/bench.db", str(base), str(delta)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
    f = json.loads(out.stdout)
    print(f"first ingest:      {f['first']:.2f} s  ({f['first_events']} events; target <= 15 s)")
    print(
        f"unchanged re-poll: {f['unchanged'] * 1000:.0f} ms"
        f"  ({f['unchanged_status']}; target <= 500 ms)"
    )
    print(f"1% delta re-poll:  {f['delta']:.2f} s  ({f['delta_events']} new events; target <= 3 s)")
    mb, mib = f["peak_kib"] * 1024 / 1e6, f["peak_kib"] / 1024
    print(f"peak RSS:          {mb:.0f} MB = {mib:.0f} MiB  (target <= 400 MB)")


if __name__ == "__main__":
    main()
