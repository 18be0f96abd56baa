"""Every recorded input beside its expected result, one parametrised test (see cases.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .cases import DATA, expected_path, inputs, read

CASES = inputs()


def test_every_input_has_its_expected_result() -> None:
    missing = [str(p.relative_to(DATA)) for p in CASES if not expected_path(p).exists()]
    assert missing == [], f"write them with `python -m tests.cases --write`: {missing}"


@pytest.mark.parametrize("case", CASES, ids=[str(p.relative_to(DATA)) for p in CASES])
def test_case(case: Path) -> None:
    expected = json.loads(expected_path(case).read_text(encoding="utf-8"))
    assert read(case) == expected


@pytest.mark.parametrize("case", CASES, ids=[str(p.relative_to(DATA)) for p in CASES])
def test_every_link_leads_to_a_kind_its_source_parses(case: Path) -> None:
    """A link names the kind of document it leads to, and that kind decides the parser: each
    must be one the source has a parser for (else the followed page would fail as 'not a
    document the source reads')."""
    from regtrack import sources

    from .cases import CONFIG

    source = sources.get(case.parent.name, CONFIG)
    found = read(case).get("links", [])
    assert {link["kind"] for link in found} <= set(source.parsers())
