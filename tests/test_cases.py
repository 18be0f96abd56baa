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
