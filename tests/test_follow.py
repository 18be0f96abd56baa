"""The one follow policy, for every body: which links of a parsed document a poll reads."""

from __future__ import annotations

import pytest

from regtrack.config import Config, NICEConfig, ProductConfig, SourcesConfig
from regtrack.follow import followed
from regtrack.model import Link, NameKind, Observation, ParseResult, ProductName
from regtrack.sources.nice import NICE

NEXT = Link("https://www.nice.org.uk/listing?page=2", "nice-listing")
API_NEXT = Link("https://api.example/q?skip=1", "nice-listing", always=True)
TRACKED = Link("https://www.nice.org.uk/guidance/ta970", "nice-ta-page", "TA970")
OTHER = Link("https://www.nice.org.uk/guidance/ta875", "nice-ta-page", "TA875")
REGISTER = Link("https://ec.europa.eu/h1537.htm", "ec-union-register-page", "TA875", always=True)


def source(mode: str) -> NICE:
    config = Config(
        products=[ProductConfig(name="selinexor")],
        sources=SourcesConfig(nice=NICEConfig(follow_pages=mode)),  # type: ignore[arg-type]
    )
    return NICE.from_config(config)


def result() -> ParseResult:
    def record(reference: str, title: str) -> Observation:
        return Observation(
            reference, (ProductName(title, NameKind.INN),), {"title": title, "url": "x"}
        )

    observations = [
        record("TA970", "Selinexor with dexamethasone"),
        record("TA875", "Semaglutide for obesity"),
    ]
    return ParseResult(observations, "nice-listing-page", None, complete=False,
                       links=[NEXT, API_NEXT, TRACKED, OTHER, REGISTER])  # fmt: skip


@pytest.mark.parametrize(
    ("mode", "changed", "first_poll", "expected"),
    [
        # New or changed records' pages; the next page while this one has news.
        ("new", {"TA970", "TA875"}, False, [NEXT, API_NEXT, TRACKED, OTHER, REGISTER]),
        ("new", {"TA875"}, False, [NEXT, API_NEXT, OTHER, REGISTER]),
        # Nothing changed: only what is read whenever the document is.
        ("new", set(), False, [API_NEXT, REGISTER]),
        # A first poll reads tracked products' pages only (not a whole site at once).
        ("new", {"TA970", "TA875"}, True, [NEXT, API_NEXT, TRACKED, REGISTER]),
        ("tracked", {"TA970", "TA875"}, False, [NEXT, API_NEXT, TRACKED, REGISTER]),
        # "none": no record's page at all, but every page of the listing with news.
        ("none", {"TA970", "TA875"}, False, [NEXT, API_NEXT]),
    ],
)
def test_the_follow_policy(
    mode: str, changed: set[str], first_poll: bool, expected: list[Link]
) -> None:
    assert followed(source(mode), result(), changed, first_poll) == expected
