"""The floor for a first Drugs@FDA ingest: a plain sqlite3 loader, standard library only.

It reads the release's zip as regtrack does (cp1252, tab-separated), and writes the same rows
into a store regtrack created empty (so the same tables and indexes): one product and its
aliases per active ingredient and brand, one record state per application holding its
submissions as JSON, one event per submission with its evidence text and details. Like
regtrack's bulk path, it builds the event table's secondary indexes after the rows. It skips
what a loader would not do: no rules beyond "ORIG is an authorisation".
Run: python bench/floor_loader.py STORE.db RELEASE.zip
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import sqlite3
import sys
import zipfile


def table(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    text = archive.read(name).decode("cp1252")
    return [{k.strip(): (v or "").strip() for k, v in row.items()}
            for row in csv.DictReader(io.StringIO(text), delimiter="\t")]  # fmt: skip


def main() -> None:
    db, release = sys.argv[1], sys.argv[2]
    with zipfile.ZipFile(release) as archive:
        apps = table(archive, "Applications.txt")
        subs = table(archive, "Submissions.txt")
        prods = table(archive, "Products.txt")
        marketed = table(archive, "MarketingStatus.txt")
        joined = table(archive, "Join_Submission_ActionTypes_Lookup.txt")
        classes = {
            r["SubmissionClassCodeID"]: r for r in table(archive, "SubmissionClass_Lookup.txt")
        }
        statuses = {r["MarketingStatusID"]: r["MarketingStatusDescription"]
                    for r in table(archive, "MarketingStatus_Lookup.txt")}  # fmt: skip
        actions = {r["ActionTypes_LookupID"]: r["ActionTypes_LookupDescription"]
                   for r in table(archive, "ActionTypes_Lookup.txt")}  # fmt: skip
    status_of = {(r["ApplNo"], r["ProductNo"]): statuses.get(r["MarketingStatusID"])
                 for r in marketed}  # fmt: skip
    action_ids: dict[tuple[str, str, str], list[int]] = {}
    for r in joined:
        key = (r["ApplNo"], r["SubmissionType"], r["SubmissionNo"])
        action_ids.setdefault(key, []).append(int(r["ActionTypes_LookupID"]))
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    today = dt.date.today().isoformat()
    products: dict[str, list[dict[str, str]]] = {}
    for p in prods:
        products.setdefault(p["ApplNo"], []).append(p)
    submissions: dict[str, list[dict[str, str]]] = {}
    for s in subs:
        submissions.setdefault(s["ApplNo"], []).append(s)

    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("BEGIN IMMEDIATE")
    product_ids: dict[str, int] = {}
    aliases: dict[str, tuple[int, str, str]] = {}
    for app in apps:
        for p in products.get(app["ApplNo"], []):
            inn = p["ActiveIngredient"]
            if inn not in product_ids:
                product_ids[inn] = len(product_ids) + 1
            for name, kind in ((inn, "inn"), (p["DrugName"], "brand")):
                aliases.setdefault(name.lower(), (product_ids[inn], name, kind))
    conn.executemany("INSERT INTO product (id, name, created_at) VALUES (?, ?, ?)",
                     [(i, name, now) for name, i in product_ids.items()])  # fmt: skip
    conn.executemany(
        "INSERT INTO alias (product_id, name, norm, kind, origin) VALUES (?, ?, ?, ?, 'fda')",
        [(pid, name, norm, kind) for norm, (pid, name, kind) in aliases.items()],
    )
    records, events = [], []
    for app in apps:
        number = app["ApplNo"]
        reference = app["ApplType"] + number
        names = products.get(number, [])
        pid = product_ids[names[0]["ActiveIngredient"]] if names else 1
        brand = names[0]["DrugName"] if names else None
        link = ("https://www.accessdata.fda.gov/scripts/cder/daf/index.cfm?"
                f"event=overview.process&ApplNo={number}")  # fmt: skip
        held = {}
        for s in submissions.get(number, []):
            key = f"{s['SubmissionType']}-{s['SubmissionNo']}"
            day = s["SubmissionStatusDate"][:10] or None
            cls = classes.get(s["SubmissionClassCodeID"], {})
            ids = action_ids.get((number, s["SubmissionType"], s["SubmissionNo"]), [])
            words = [actions.get(str(i), "") for i in ids]
            details = {"submission": key, "class": cls.get("SubmissionClassCode"),
                       "priority": s["ReviewPriority"], "action_types": ids}  # fmt: skip
            held[key] = {"status": s["SubmissionStatus"], "date": day, "class": details["class"],
                         "class_description": cls.get("SubmissionClassCodeDescription"),
                         "priority": s["ReviewPriority"], "action_types": ids, "actions": words}  # fmt: skip
            evidence = (f"Drugs@FDA data files (release of {today}): {reference} {key}: status "
                        f"{s['SubmissionStatus']} on {day}; class {details['class']} "
                        f"({held[key]['class_description']}); review priority "
                        f"{s['ReviewPriority']}; action types: {', '.join(words)}")  # fmt: skip
            kind = "authorisation" if s["SubmissionType"] == "ORIG" else "variation"
            events.append(("FDA", kind, reference, brand, key, day, "decision", False, None, now,
                           "fda", "https://www.fda.gov/media/89850/download", link, evidence,
                           json.dumps(details), True, pid))  # fmt: skip
        fields = {"reference": reference, "appl_no": number, "appl_type": app["ApplType"],
                  "sponsor": app["SponsorName"], "submissions": held,
                  "products": {p["ProductNo"]: {"name": p["DrugName"],
                               "ingredient": p["ActiveIngredient"],
                               "status": status_of.get((number, p["ProductNo"]))}
                               for p in names}}  # fmt: skip
        text = json.dumps(fields, sort_keys=True)
        digest = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
        records.append(("fda", number, pid, json.dumps(fields), digest, True, now, now))
    conn.executemany(
        "INSERT INTO recordstate (source, reference, product_id, fields, digest, present, "
        "first_seen_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        records,
    )
    indexes = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'event' "
        "AND sql IS NOT NULL"
    ).fetchall()
    for (sql,) in indexes:
        conn.execute("DROP INDEX " + sql.split(" INDEX ", 1)[1].split(" ON ")[0])
    conn.executemany(
        "INSERT INTO event (agency, kind, reference, brand, discriminator, event_date, "
        "date_kind, date_approximate, published_at, detected_at, source, source_url, link, "
        "evidence, details, backfill, product_id) VALUES "
        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        events,
    )
    for (sql,) in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")
    print(json.dumps({"events": len(events), "records": len(records)}))


if __name__ == "__main__":
    main()
