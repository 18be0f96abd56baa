"""Detection is pure: known state + a parsed document -> events. No store, no network."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from regtrack.config import Config, EMAConfig, SourcesConfig
from regtrack.detect import Known, detect, refine
from regtrack.errors import ShapeError
from regtrack.model import EventKind, NameKind, Observation, ParseResult, ProductName
from regtrack.sources.ema import EMAReport

EMA = EMAReport.from_config(Config(sources=SourcesConfig(ema=EMAConfig(min_rows=1))))
STAMP = dt.datetime(2024, 11, 21, 6, 0, tzinfo=dt.UTC)


def row(reference: str = "EMEA/H/C/005127", **fields: Any) -> Observation:
    base = {
        "category": "Human", "name": "Nexpovio", "reference": reference, "status": "Authorised",
        "opinion_status": None, "latest_procedure": "R/0005", "inn": "selinexor",
        "conditional": True, "exceptional": False, "ec_decision_date": "2022-05-05",
        "opinion_date": "2021-01-28", "authorisation_date": "2021-03-26", "refusal_date": None,
        "application_withdrawal_date": None, "withdrawal_date": None, "suspension_date": None,
        "revision": 3, "indication": "in combination with dexamethasone",
    }  # fmt: skip
    names = (ProductName(str(fields.get("name", "Nexpovio")), NameKind.BRAND, "EU"),)
    return Observation(reference, names, base | fields)


def result(*observations: Observation) -> ParseResult:
    return ParseResult(list(observations), "ema-medicines-report-json", STAMP)


def known(*observations: Observation) -> dict[str, Known]:
    return {o.reference: Known(o.fields) for o in observations}


def kinds(detection: Any) -> list[str]:
    return sorted(d.kind.value for d, _ in detection.events)


def test_first_poll_is_backfill_with_flags_as_of_the_file() -> None:
    out = detect(EMA, {}, result(row()), first_poll=True)
    assert kinds(out) == ["authorisation", "opinion"]
    assert all(backfill for _, backfill in out.events)
    auth = next(d for d, _ in out.events if d.kind == EventKind.AUTHORISATION)
    assert auth.event_date == dt.date(2021, 3, 26)
    assert auth.details["conditional"] is True
    assert auth.details["flags_as_of"] == "2024-11-21"
    assert auth.published_at is None  # history: when it was published is not in the file


def test_a_record_first_seen_in_a_later_report_is_news() -> None:
    new = row("EMEA/H/C/009010", status="Opinion", opinion_status="Positive",
              authorisation_date=None, opinion_date="2024-11-14")  # fmt: skip
    out = detect(EMA, known(row()), result(row(), new), first_poll=False)
    assert [(d.kind, d.reference) for d in out.news] == [
        (EventKind.OPINION, "EMEA/H/C/009010"),
        (EventKind.EXPECTED_DATE, "EMEA/H/C/009010"),  # the Commission's, 67 days on
    ]
    assert out.news[1].event_date == dt.date(2025, 1, 20) and out.news[1].date_approximate
    assert out.news[0].details["outcome"] == "positive"
    assert out.news[0].published_at == dt.date(2024, 11, 21)


def test_unchanged_document_means_no_events_and_no_writes() -> None:
    out = detect(EMA, known(row()), result(row()), first_poll=False)
    assert out.events == [] and out.upserts == [] and out.vanished == []


def test_wording_only_changes_raise_nothing_but_update_state() -> None:
    before = row(pharmacotherapeutic_group="L01", last_updated="2023-08-17")
    after = row(pharmacotherapeutic_group="Antineoplastic agents", last_updated="2024-08-01")
    out = detect(EMA, known(before), result(after), first_poll=False)
    assert out.events == []
    assert [o.reference for o in out.upserts] == ["EMEA/H/C/005127"]


def test_conditional_to_full_is_dated_by_the_ec_decision_that_moved_with_it() -> None:
    after = row(
        conditional=False,
        ec_decision_date="2022-07-18",
        latest_procedure="II/0009",
        revision=4,
        indication="with bortezomib and dexamethasone; with dexamethasone",
    )
    out = detect(EMA, known(row()), result(after), first_poll=False)
    conversion = next(d for d in out.news if d.kind == EventKind.CONVERSION_TO_FULL)
    assert conversion.event_date == dt.date(2022, 7, 18)
    assert conversion.date_approximate is True
    assert "Conditional approval: Yes → No" in conversion.evidence
    assert "European Commission decision date: 05/05/2022 → 18/07/2022" in conversion.evidence
    assert kinds(out) == ["conversion_to_full", "indication_extension"]


def test_conversion_without_a_moved_date_is_dated_by_detection() -> None:
    out = detect(EMA, known(row()), result(row(conditional=False)), first_poll=False)
    (conversion,) = out.news
    assert conversion.kind == EventKind.CONVERSION_TO_FULL
    assert conversion.event_date is None and conversion.date_kind == "detected"
    assert conversion.details["date_missing"] is True
    assert conversion.date_approximate is False


@pytest.mark.parametrize(
    ("status", "extra", "kind", "date", "detail"),
    [
        ("Withdrawn", {"withdrawal_date": "2024-10-30"}, "withdrawal", "2024-10-30",
         ("reason", "withdrawn")),
        ("Lapsed", {}, "withdrawal", None, ("reason", "lapsed")),
        ("Revoked", {"withdrawal_date": "2024-01-04"}, "withdrawal", "2024-01-04",
         ("reason", "revoked")),
        ("Suspended", {"suspension_date": "2024-02-01"}, "suspension", "2024-02-01", None),
        ("Refused", {"refusal_date": "2024-11-15"}, "refusal", "2024-11-15", None),
        ("Application withdrawn", {"application_withdrawal_date": "2024-03-22"},
         "application_withdrawn", "2024-03-22", ("rolling_review", False)),
        ("Withdrawn from rolling review", {"application_withdrawal_date": "2021-11-02"},
         "application_withdrawn", "2021-11-02", ("rolling_review", True)),
    ],
)  # fmt: skip
def test_status_changes(
    status: str, extra: dict[str, Any], kind: str, date: str | None, detail: tuple[str, Any] | None
) -> None:
    out = detect(EMA, known(row()), result(row(status=status, **extra)), first_poll=False)
    (event,) = out.news
    assert event.kind.value == kind
    assert (event.event_date.isoformat() if event.event_date else None) == date
    if detail:
        assert event.details[detail[0]] == detail[1]


def test_opinion_then_authorisation() -> None:
    opinion = row(status="Opinion", opinion_status="Positive", authorisation_date=None)
    authorised = row(status="Authorised", authorisation_date="2024-11-14")
    out = detect(EMA, known(opinion), result(authorised), first_poll=False)
    (event,) = out.news
    assert (event.kind, event.event_date) == (EventKind.AUTHORISATION, dt.date(2024, 11, 14))
    assert event.details["conditional"] is True


def test_re_examination_is_a_second_opinion() -> None:
    negative = row(status="Opinion", opinion_status="Negative", authorisation_date=None)
    reexam = row(status="Opinion under re-examination", opinion_status="Negative",
                 authorisation_date=None)  # fmt: skip
    out = detect(EMA, known(negative), result(reexam), first_poll=False)
    (event,) = out.news
    assert event.kind == EventKind.OPINION and event.details["re_examination"] is True


def test_variation_carries_its_procedure_type() -> None:
    after = row(latest_procedure="IB/0007/G", revision=4, ec_decision_date="2024-06-01")
    (event,) = detect(EMA, known(row()), result(after), first_poll=False).news
    assert event.kind == EventKind.VARIATION
    assert event.details["procedure_type"] == "type IB variation"
    assert event.discriminator == "IB/0007/G"


def test_vanished_record_is_flagged_for_review_not_withdrawn() -> None:
    others = [row(f"EMEA/H/C/00{n}") for n in range(1000, 1030)]
    out = detect(EMA, known(row(), *others), result(*others), first_poll=False)
    (event,) = out.news
    assert event.kind == EventKind.RECORD_REMOVED and event.details == {"review": True}
    assert out.vanished == ["EMEA/H/C/005127"]


def test_mass_disappearance_is_a_shape_error_not_removals() -> None:
    others = [row(f"EMEA/H/C/00{n}") for n in range(1000, 1030)]
    with pytest.raises(ShapeError, match="27 of 30 known records are missing"):
        detect(EMA, known(*others), result(*others[:3]), first_poll=False)


def test_a_vanished_record_that_returns_is_compared_with_what_was_known() -> None:
    before = {"EMEA/H/C/005127": Known(row().fields, present=False)}
    out = detect(EMA, before, result(row(conditional=False)), first_poll=False)
    assert kinds(out) == ["conversion_to_full"]


def _row(**kw: Any) -> dict[str, Any]:
    base = {"kind": "variation", "event_date": None, "date_kind": "detected",
            "date_approximate": False, "details": {"class": "EFFICACY", "accelerated": None},
            "evidence": "openFDA: SUPPL-12 AP"}  # fmt: skip
    return base | kw


def test_refine_takes_a_more_specific_kind_and_fills_unknown_details() -> None:
    new = _row(kind="indication_extension", event_date=dt.date(2020, 6, 22),
               date_kind="decision", details={"action_types": [8], "accelerated": False},
               evidence="Drugs@FDA: action type 8")  # fmt: skip
    change = refine(_row(), new)
    assert change is not None
    assert change["kind"] == "indication_extension"
    assert change["event_date"] == dt.date(2020, 6, 22) and change["date_kind"] == "decision"
    assert change["details"] == {"class": "EFFICACY", "accelerated": False, "action_types": [8]}
    assert change["evidence"] == "openFDA: SUPPL-12 AP\nDrugs@FDA: action type 8"


def test_refine_replaces_an_approximate_date_with_an_exact_one_only() -> None:
    approx = _row(kind="conversion_to_full", event_date=dt.date(2022, 7, 18),
                  date_kind="decision", date_approximate=True, details={})  # fmt: skip
    exact = approx | {"event_date": dt.date(2022, 7, 19), "date_approximate": False,
                      "evidence": "EC decision C(2022)5361"}  # fmt: skip
    change = refine(approx, exact)
    assert change is not None and change["event_date"] == dt.date(2022, 7, 19)
    assert change["date_approximate"] is False
    # The other way round, or the same report again, changes nothing.
    assert refine(exact, approx) is None
    assert refine(approx, approx) is None
