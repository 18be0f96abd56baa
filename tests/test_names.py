"""Product name normalisation."""

from __future__ import annotations

import pytest

from regtrack.names import normalise


@pytest.mark.parametrize(
    ("a", "b"),
    [("KPT-330", "kpt 330"), ("Nexpovio®", "NEXPOVIO"), ("Xpovio™", "xpovio"),
     ("Tecentriq", "TECENTRIQ"), ("Aspaveli / Empaveli", "aspaveli empaveli"),
     ("Ébola vaccine", "ebola-vaccine")],
)  # fmt: skip
def test_equivalent_names(a: str, b: str) -> None:
    assert normalise(a) == normalise(b)


def test_different_names_stay_different() -> None:
    assert normalise("selinexor") != normalise("selumetinib")
    assert normalise("®™") == ""
