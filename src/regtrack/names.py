"""Name normalisation for matching products across bodies; pure functions, no I/O."""

from __future__ import annotations

import functools
import re
import unicodedata

_MARKS = str.maketrans("", "", "®™©℠")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


#: Salt and hydrate words that an FDA ingredient carries and an INN does not.
_SALTS = frozenset(
    {
        "acetate",
        "anhydrous",
        "benzoate",
        "besilate",
        "besylate",
        "bitartrate",
        "bromide",
        "calcium",
        "chloride",
        "citrate",
        "dihydrate",
        "dihydrochloride",
        "disodium",
        "fumarate",
        "hcl",
        "hemihydrate",
        "hydrobromide",
        "hydrochloride",
        "hyclate",
        "lactate",
        "magnesium",
        "maleate",
        "malate",
        "mesilate",
        "mesylate",
        "monohydrate",
        "phosphate",
        "potassium",
        "sodium",
        "succinate",
        "sulfate",
        "sulphate",
        "tartrate",
        "tosylate",
        "trihydrate",
    }
)


@functools.lru_cache(maxsize=65536)
def strip_salts(ingredient: str) -> str:
    """'ALECTINIB HYDROCHLORIDE' -> 'alectinib'; each part of a combination ('A; B') alike."""
    parts = []
    for part in re.split(r"\s*[;/,]\s*|\s+and\s+", ingredient.lower()):
        words = [w for w in part.split() if w not in _SALTS]
        if words:
            parts.append(" ".join(words))
    return "; ".join(parts)


_BRACKETED = re.compile(r"\(([^)]+)\)")
_ANY_BRACKETS = re.compile(r"\(.*?\)")


def inn_and_brand(text: str) -> tuple[str, str | None]:
    """How HTA bodies name a medicine: 'pembrolizumab (Keytruda®)' -> ('pembrolizumab',
    'Keytruda®'); with no brackets, the whole text and no brand."""
    brand = _BRACKETED.search(text)
    return _ANY_BRACKETS.sub("", text).strip(), brand[1].strip() if brand else None


_PREVIOUSLY = re.compile(r"\(\s*(?:previously|formerly)\s+", re.I)


def name_parts(name: str) -> list[str]:
    """The names one register name holds: 'Vaxzevria (previously COVID-19 Vaccine
    AstraZeneca)' -> ['Vaxzevria', 'COVID-19 Vaccine AstraZeneca']; 'A; B' -> ['A', 'B']. Other
    brackets stay: 'COVID-19 Vaccine (ChAdOx1-S)' is one name, not 'COVID-19 Vaccine'."""
    out = []
    for part in re.split(r"\s*;\s*", name):
        former = _PREVIOUSLY.search(part)
        if former:
            out += [part[: former.start()].strip(), part[former.end() :].rstrip(") ").strip()]
        else:
            out.append(part.strip())
    return [p for p in out if p and p != name]


@functools.lru_cache(maxsize=65536)
def normalise(name: str) -> str:
    """Case-, accent-, ®/™- and punctuation-insensitive key: 'KPT-330' -> 'kpt330'. Cached:
    a register's names are normalised for every record and alias lookup that mentions them."""
    text = unicodedata.normalize("NFKD", name.translate(_MARKS))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return _NOT_ALNUM.sub("", text)


#: C0 and C1 control characters and DEL; a scraped name or sentence carrying one once
#: broke every digest (a header may not hold a line feed), the Atom feed's XML, and the
#: terminal it was printed on (ESC sequences).
#: Also the noncharacters U+FFFE and U+FFFF (no XML may hold them: the Atom feed and XLSX
#: broke on them) and the bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069),
#: which make a name or a sentence display as other text than it is.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff\u202a-\u202e\u2066-\u2069]")


#: What a terminal must not be sent: `_CONTROL`'s characters, but a CR ending a line (CSV's
#: CRLF) is text; a lone CR rewrites the line before it (a forged line in cron's mail).
_UNPRINTABLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\u202a-\u202e\u2066-\u2069]|\r(?!\n)"
)


def printable(text: str) -> str:
    """Text safe for a terminal or a log: control characters, bidi overrides and
    noncharacters are shown as U+FFFD, so an ESC sequence, a BEL or a lone CR from a parsed
    document never acts on the reader's screen."""
    return _UNPRINTABLE.sub("\ufffd", text)


def clean_text(text: str) -> str:
    """Text as stored: control characters gone; line breaks and tabs kept."""
    return _CONTROL.sub("", text)


def clean_name(name: str) -> str:
    """A name as stored: one line, no control characters."""
    return " ".join(_CONTROL.sub("", name).split())
