"""Name normalisation for matching products across bodies; pure functions, no I/O."""

from __future__ import annotations

import re
import unicodedata

_MARKS = str.maketrans("", "", "®™©℠")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def normalise(name: str) -> str:
    """Case-, accent-, ®/™- and punctuation-insensitive key: 'KPT-330' -> 'kpt330'."""
    text = unicodedata.normalize("NFKD", name.translate(_MARKS))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return _NOT_ALNUM.sub("", text)
