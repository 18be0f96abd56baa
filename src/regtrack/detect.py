"""Detection: (what we knew, what a document says now) -> events and new state. Pure.

Touches neither storage nor network; the source's own rules say what a change means.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import orjson

from .errors import ShapeError
from .model import (
    PARTIAL,
    STATUS_CHANGES,
    DateKind,
    EventDraft,
    EventKind,
    Observation,
    ParseResult,
)

#: Below this many vanished records, the fraction guard does not apply (tiny registers).
VANISHED_FLOOR = 3


@dataclass(frozen=True, slots=True)
class Known:
    """What the store knew of one record. `fields` is None when the store did not load them
    because the record's digest says it is unchanged (see `fingerprint`)."""

    fields: Mapping[str, Any] | None
    present: bool = True
    #: The product the record belongs to, so that writing does not look it up again.
    product_id: int | None = None


def fingerprint(fields: Mapping[str, Any]) -> str:
    """A digest of a record's fields, stored beside them: an unchanged record of a
    25,000-record register is recognised without reading its fields back."""
    return hashlib.blake2b(
        orjson.dumps(fields, option=orjson.OPT_SORT_KEYS), digest_size=16
    ).hexdigest()


class Rules(Protocol):
    """The part of a source that detection needs."""

    def history(self, observation: Observation, result: ParseResult) -> list[EventDraft]: ...

    def changes(
        self, before: Mapping[str, Any], observation: Observation, result: ParseResult
    ) -> list[EventDraft]: ...

    @property
    def max_vanished_fraction(self) -> float: ...

    def merge(self, before: Mapping[str, Any], observation: Observation) -> Observation: ...

    def status_of(self, fields: Mapping[str, Any]) -> Any: ...


@dataclass
class Detection:
    """The outcome of one document: events (with their backfill flag) and state to write."""

    events: list[tuple[EventDraft, bool]] = field(default_factory=list)
    #: New or changed records, to store as the current state.
    upserts: list[Observation] = field(default_factory=list)
    #: References that were known and are no longer in the document.
    vanished: list[str] = field(default_factory=list)

    @property
    def news(self) -> list[EventDraft]:
        return [draft for draft, backfill in self.events if not backfill]


def detect(
    rules: Rules,
    known: Mapping[str, Known],
    result: ParseResult,
    *,
    first_poll: bool,
    late_before: dt.date | None = None,
    backfill: bool = False,
) -> Detection:
    """Diff one parsed document against what was known.

    On a source's first poll (or a feed's first document) every new record's history
    is backfill: stored, never news. A record that first appears later is news. A record that
    vanishes from a complete register becomes `record_removed` for review; so many vanishing at
    once is a shape error instead. A new event with an exact decision or opinion date before
    `late_before` was published late and is marked `late`: history when it only adds to the
    past (a variation, a record first seen with old decisions), news when it changes the
    status of a record already known (a withdrawal EMA shows months after the decision).
    `backfill`: the document is a record's page followed from a first poll, so what it adds
    to a record that poll brought is history too.
    """
    out = Detection()
    seen: set[tuple[str, str]] = set()

    def add(drafts: list[EventDraft], backfill: bool, *, known_record: bool = False) -> None:
        for draft in drafts:
            key = (draft.reference, draft.key)
            if key not in seen:
                seen.add(key)
                past = backfill or draft.history
                if not past and _late(draft, late_before):
                    past = not (known_record and draft.kind in STATUS_CHANGES)
                    draft = replace(draft, details={**draft.details, "late": True})
                if past:
                    draft = _bounded(draft, result)
                out.events.append((_published(draft, result, past), past))

    for obs in result.observations:
        before = known.get(obs.reference)
        if before is None:
            add(rules.history(obs, result), first_poll)
            out.upserts.append(obs)
        elif before.fields is None:
            continue  # unchanged, by its digest
        else:
            obs = rules.merge(before.fields, obs)
            if before.fields != obs.fields or not before.present:
                add(rules.changes(before.fields, obs, result), backfill, known_record=True)
                out.upserts.append(obs)

    if result.complete:
        _mass_status_change(known, result, rules)
        observed = {obs.reference for obs in result.observations}
        # A record only ever seen in partial documents (a fresher API) cannot vanish from the
        # complete register that has not caught up with it yet.
        present = [
            ref for ref, k in known.items() if k.present and not (k.fields or {}).get(PARTIAL)
        ]
        out.vanished = [ref for ref in present if ref not in observed]
        allowed = max(VANISHED_FLOOR, rules.max_vanished_fraction * len(present))
        if len(out.vanished) > allowed:
            raise ShapeError(
                f"{len(out.vanished)} of {len(present)} known records are missing from the "
                "document: treated as a changed or partial document, not as removals"
            )
        add([_removed(ref, known[ref], result) for ref in out.vanished], False)
    return out


def _mass_status_change(known: Mapping[str, Known], result: ParseResult, rules: Rules) -> None:
    """So many records changing status in one register document is its vocabulary or a lookup
    table that changed (a renumbered status table), not news: a shape error, gated like mass
    vanishing. A record's status is what the source says it is (EMA's medicine status, the
    marketing status of each FDA product). Records whose digest says unchanged were not
    loaded and did not change."""
    changed = 0
    for obs in result.observations:
        before = known.get(obs.reference)
        if before is None or before.fields is None:
            continue
        was = rules.status_of(before.fields)
        if was is not None:
            changed += was != rules.status_of(obs.fields)
    present = sum(1 for k in known.values() if k.present)
    allowed = max(VANISHED_FLOOR, rules.max_vanished_fraction * present)
    if changed > allowed:
        raise ShapeError(
            f"{changed} of {present} known records changed status in one document (more than "
            f"{allowed:.0f} allowed): the document's vocabulary changed, not the register"
        )


def _late(draft: EventDraft, before: dt.date | None) -> bool:
    """Dated exactly, by a decision or an opinion, before the feed's window opened."""
    return (
        before is not None
        and draft.event_date is not None
        and not draft.date_approximate
        and draft.date_kind in (DateKind.DECISION, DateKind.OPINION)
        and draft.event_date < before
    )


def _bounded(draft: EventDraft, result: ParseResult) -> EventDraft:
    """History with no date of its own (a withdrawal the register does not date, seen on a
    first poll) happened no later than the document that shows it: dated by the document's
    own date, approximate and marked so; never by the day regtrack happened to look."""
    if draft.event_date is not None or result.generated_at is None:
        return draft
    details = {k: v for k, v in draft.details.items() if k != "date_missing"}
    return replace(
        draft,
        event_date=result.generated_at.date(),
        date_kind=DateKind.PUBLICATION,
        date_approximate=True,
        details={**details, "no_later_than": True},
    )


def _published(draft: EventDraft, result: ParseResult, backfill: bool) -> EventDraft:
    """A change seen in a dated register was published no later than the register itself."""
    if backfill or draft.published_at is not None or result.generated_at is None:
        return draft
    return replace(draft, published_at=result.generated_at.date())


def _removed(record: str, before: Known, result: ParseResult) -> EventDraft:
    when = f" generated {result.generated_at:%Y-%m-%d %H:%M}" if result.generated_at else ""
    reference = str((before.fields or {}).get("reference") or record)
    return EventDraft(
        kind=EventKind.RECORD_REMOVED,
        reference=reference,
        names=(),
        event_date=None,
        date_kind=DateKind.DETECTED,
        evidence=f"{reference} is no longer listed in the {result.document_kind}{when}",
        details={"review": True},
        discriminator=f"removed {(result.generated_at or dt.datetime.min).isoformat()}",
        record=record,
    )


#: Kinds that say more than `variation` about the same submission or procedure.
_SPECIFIC = {EventKind.INDICATION_EXTENSION.value, EventKind.CONVERSION_TO_FULL.value}


def refine(stored: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any] | None:
    """What a second report of a stored event adds: a more specific kind, an exact date in
    place of an approximate or missing one, details that were unknown. None when nothing.

    Both arguments are event rows (dicts of Event columns). Detection time, backfill flag and
    product stay as first stored; the evidence of both reports is kept.
    """
    update: dict[str, Any] = {}
    if stored["kind"] == EventKind.VARIATION.value and new["kind"] in _SPECIFIC:
        update["kind"] = new["kind"]
    exact = new["event_date"] is not None and not new["date_approximate"]
    vague = stored["event_date"] is None or stored["date_approximate"]
    if exact and vague:
        update |= {k: new[k] for k in ("event_date", "date_kind", "date_approximate")}
    details = dict(stored["details"])
    for key, value in new["details"].items():
        # "late" says how an event was first seen: a later report of it changes nothing.
        if value is not None and details.get(key) is None and key != "late":
            details[key] = value
    # Flags a register gives only as they are now ("flags_as_of") yield to a source that
    # knows them as they were at the decision (the Union Register's run of renewals).
    if "flags_as_of" in details and new["details"].get("conditional") is not None:
        details["conditional"] = new["details"]["conditional"]
        del details["flags_as_of"]
    if update.get("kind") or update.get("event_date"):
        details |= {k: v for k, v in new["details"].items() if v is not None and k != "late"}
    if update.get("event_date"):
        details.pop("date_missing", None)
    if new.get("brand") and not stored.get("brand"):
        update["brand"] = new["brand"]
    # The page that gave the exact date (the Union Register's) is the event's page from then.
    if new.get("link") and (not stored.get("link") or update.get("event_date")):
        update["link"] = new["link"]
    if details != stored["details"]:
        update["details"] = details
    if update and new["evidence"] not in stored["evidence"]:
        update["evidence"] = f"{stored['evidence']}\n{new['evidence']}"
    return update or None
