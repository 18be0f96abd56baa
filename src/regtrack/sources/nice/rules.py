"""NICE events: HTA decisions and updates of appraisals; status, stages (draft guidance
consultation, final draft guidance) and expected dates of projects.

Pure functions of NICE records (see `records`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ...model import DateKind, EventDraft, EventKind, Observation, ParseResult
from .. import pages
from . import guidance, records
from .stages import DRAFT, FINAL, Stage, round_of, scheduled, stage_of, stages


def history(obs: Observation, result: ParseResult) -> list[EventDraft]:
    f = obs.fields
    if f["record"] == "project":
        events = [_status(obs)] if f.get("status") else []
        events += [_stage(obs, stage) for stage in stages(f.get("timeline"))]
        events += [_expected_stage(obs, stage) for stage in scheduled(f.get("schedule"))]
        events += _recommendations(obs, {})
        return events + ([_expected(obs)] if f.get("expected_publication") else [])
    events = [_decision(obs)] if f.get("publication_date") or f.get("outcome") else []
    updated, published = f.get("last_updated"), f.get("publication_date")
    if updated and published and updated > published:
        events.append(_update(obs))
    return events


def changes(before: Mapping[str, Any], obs: Observation, result: ParseResult) -> list[EventDraft]:
    f = obs.fields
    events = []
    if f["record"] == "project":
        # A timeline that moved may date the status a listing gave undated (the same event).
        moved = f.get("timeline") != before.get("timeline")
        if f.get("status") and (f.get("status") != before.get("status") or moved):
            events.append(_status(obs))
        seen = {stage.key for stage in stages(before.get("timeline"))}
        events += [_stage(obs, s) for s in stages(f.get("timeline")) if s.key not in seen]
        planned = {stage.text for stage in scheduled(before.get("schedule"))}
        events += [_expected_stage(obs, s) for s in scheduled(f.get("schedule"))
                   if s.text not in planned]  # fmt: skip
        moved = f.get("expected_publication") != before.get("expected_publication")
        if moved and f.get("expected_publication"):
            events.append(_expected(obs))
        return events + _recommendations(obs, before.get("guidance") or {})
    decided = f.get("outcome") != before.get("outcome") or f.get("status") != before.get("status")
    if decided or (f.get("publication_date") and not before.get("publication_date")):
        events.append(_decision(obs))
    updated = f.get("last_updated")
    if updated and updated != before.get("last_updated") and updated != f.get("publication_date"):
        events.append(_update(obs))
    return events


def merge(before: Mapping[str, Any], obs: Observation) -> Observation:
    """A listing says less than a TA page, a guidance document less than its project: what
    one leaves out is kept, and the documents read are added to those read before."""
    fields = {**before, **{k: v for k, v in obs.fields.items() if v is not None}}
    if obs.fields.get("guidance") and before.get("guidance"):
        fields["guidance"] = {**before["guidance"], **obs.fields["guidance"]}
    return (
        records.observation(fields)
        if obs.fields.get("guidance")
        else Observation(obs.reference, obs.names, fields)
    )


def _decision(obs: Observation) -> EventDraft:
    f = obs.fields
    outcome = f.get("outcome") or ("terminated" if f.get("status") == "Terminated" else None)
    evidence = f.get("decision") or f"NICE {f['reference']}: {f.get('title')} ({f.get('status')})"
    return _draft(
        EventKind.HTA_DECISION,
        obs,
        f.get("publication_date"),
        evidence,
        {"outcome": outcome, "title": f.get("title")},
    )


def _update(obs: Observation) -> EventDraft:
    f = obs.fields
    return _draft(
        EventKind.HTA_UPDATE,
        obs,
        f["last_updated"],
        f"NICE {f['reference']} last updated {f['last_updated']}"
        f" (published {f.get('publication_date')})",
        {},
        discriminator=f"updated {f['last_updated']}",
    )


def _status(obs: Observation) -> EventDraft:
    f = obs.fields
    # The status changed on the latest timeline item that names it ("Suspended. The company…").
    # Its key counts those items, not their dates: a listing (no timeline) and the project's
    # page report one event, the page adding its date; a status taken again is a new one.
    status = f["status"].lower()
    dated = [
        (day, what)
        for when, what in f.get("timeline") or []
        if (day := pages.long_date(when)) and what.lower().startswith(status)
    ]
    latest = max(dated, default=(None, None), key=lambda d: d[0] or dt.date.min)
    evidence = f"NICE {f['reference']}: status {f['status']}"
    if latest[1]:
        evidence += f"; timeline {latest[0]}: {latest[1]}"
    details = {
        "status": f["status"],
        "process": f.get("process"),
        "id_number": f.get("id_number"),
        "product_reference": f.get("product_reference"),
    }
    return _draft(
        EventKind.HTA_STATUS,
        obs,
        latest[0].isoformat() if latest[0] else None,
        evidence,
        details,
        discriminator=f"status {f['status']}" + (f" {len(dated)}" if len(dated) > 1 else ""),
        date_kind=DateKind.PUBLICATION,
    )


def _stage(obs: Observation, stage: Stage) -> EventDraft:
    """A stage reached: final draft guidance with the end of its appeal window, a draft
    guidance consultation with its closing day."""
    f = obs.fields
    evidence = f"NICE {f['reference']}: timeline {stage.day.isoformat()}: {stage.text}"
    if stage.closes and stage.name == FINAL:
        evidence += f"; appeals close about {stage.closes.isoformat()} (15 working days)"
    elif stage.closes:
        evidence += f"; consultation closes {stage.closes.isoformat()}"
    details = {"stage": stage.name, "closes": stage.closes.isoformat() if stage.closes else None,
               "round": stage.round, "id_number": f.get("id_number")}  # fmt: skip
    known = {k: v for k, v in details.items() if v is not None}
    return _draft(EventKind.HTA_STAGE, obs, stage.day.isoformat(), evidence, known,
                  discriminator=stage.key)  # fmt: skip


def _recommendations(obs: Observation, before: Mapping[str, Any]) -> list[EventDraft]:
    """What each guidance document read since `before` recommends, dated by its stage; a
    reversal of the stage before it ("not recommended" in the draft, recommended in the final
    draft guidance) said. A document a later stage has superseded is history."""
    f = obs.fields
    read = f.get("guidance") or {}
    listed = {url: (panel, day) for panel, url, day in f.get("guidance_documents") or []}
    reached = {s.name: s.day.isoformat() for s in stages(f.get("timeline"))}
    order = sorted(read, key=lambda url: (listed.get(url, (None, None))[1] or "", url))
    events, previous = [], None
    for url in order:
        entry = read[url]
        panel, day = listed.get(url, (None, None))
        stage = stage_of(panel or "") or entry.get("stage")
        day = day or reached.get(str(stage))
        if url not in before:
            later = any((d or "") > (day or "") for _, d in listed.values()) or (
                stage == DRAFT and reached.get(FINAL, "") > (day or "")
            )
            events.append(_recommendation(obs, url, entry, stage, panel, day, previous, later))
        previous = entry
    return events


def _recommendation(obs: Observation, url: str, entry: Mapping[str, Any], stage: Any,
                    panel: str | None, day: str | None, previous: Mapping[str, Any] | None,
                    superseded: bool) -> EventDraft:  # fmt: skip
    f = obs.fields
    was = previous.get("outcome") if previous else None
    reverses = guidance.reversal(was, entry["outcome"])
    evidence = f"NICE {f['reference']}: {panel or stage or 'guidance document'} ({url}): " \
        f"\"{entry['decision']}\""  # fmt: skip
    if reverses and previous:
        before = previous.get("stage") or "stage"
        evidence += f'; the {before} before it: "{previous["decision"]}"'
    details = {"stage": stage, "outcome": entry["outcome"], "round": round_of(panel),
               "reverses": was if reverses else None, "id_number": f.get("id_number")}  # fmt: skip
    draft = _draft(EventKind.HTA_STAGE, obs, day, evidence,
                   {k: v for k, v in details.items() if v is not None},
                   discriminator=f"guidance {url}")  # fmt: skip
    return replace(draft, history=superseded)


def _expected_stage(obs: Observation, stage: Stage) -> EventDraft:
    """A stage the provisional schedule expects: an expected date, settled when the stage is
    reached (see `upcoming`); a schedule that moves is a new one."""
    f = obs.fields
    details = {"expected": stage.name, "text": stage.text, "round": stage.round,
               "id_number": f.get("id_number")}  # fmt: skip
    return _draft(EventKind.EXPECTED_DATE, obs, stage.day.isoformat(),
                  f"NICE {f['reference']}: provisional schedule: {stage.text}",
                  {k: v for k, v in details.items() if v is not None},
                  discriminator=f"expected {stage.text}")  # fmt: skip


def _expected(obs: Observation) -> EventDraft:
    f = obs.fields
    text = f["expected_publication"]
    day = pages.long_date(text) or pages.quarter(text)
    approximate = pages.long_date(text) is None or " - " in text or "to" in text.split()
    return _draft(
        EventKind.EXPECTED_DATE,
        obs,
        day.isoformat() if day else None,
        f"NICE {f['reference']}: expected publication {text}",
        {"text": text, "id_number": f.get("id_number")},
        discriminator=f"expected {text}",
        approximate=approximate and day is not None,
    )


def _draft(
    kind: EventKind,
    obs: Observation,
    day: str | None,
    evidence: str,
    details: dict[str, Any],
    *,
    discriminator: str = "",
    approximate: bool = False,
    date_kind: DateKind = DateKind.PUBLICATION,
) -> EventDraft:
    return EventDraft(
        kind=kind,
        reference=obs.fields["reference"],
        names=obs.names,
        event_date=dt.date.fromisoformat(day) if day else None,
        date_kind=date_kind if day else DateKind.DETECTED,
        evidence=evidence,
        details=details if day else {**details, "date_missing": True},
        discriminator=discriminator,
        date_approximate=approximate,
        published_at=dt.date.fromisoformat(day) if day and kind == EventKind.HTA_DECISION else None,
    )
