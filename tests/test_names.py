"""Product name normalisation."""

from __future__ import annotations

import pytest

from regtrack.names import inn_and_brand, normalise


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pembrolizumab (Keytruda®)", ("pembrolizumab", "Keytruda®")),
        ("selinexor (Nexpovio)", ("selinexor", "Nexpovio")),
        ("selinexor", ("selinexor", None)),
        ("  (Brand only) ", ("", "Brand only")),
    ],
)
def test_inn_and_brand(text: str, expected: tuple[str, str | None]) -> None:
    assert inn_and_brand(text) == expected
