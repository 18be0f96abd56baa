"""The registry of sources: an explicit mapping from name to class, and lookup by name."""

from __future__ import annotations

from ..config import Config
from ..errors import UnknownSourceError
from . import ema, fda, mhra, nice, smc
from .base import Source

SOURCES: dict[str, type[Source]] = {
    "ema": ema.EMAReport,
    "fda": fda.FDA,
    "mhra": mhra.MHRA,
    "nice": nice.NICE,
    "smc": smc.SMC,
}


def get(name: str, config: Config) -> Source:
    """The named source built from config; an unknown name lists the known ones."""
    try:
        cls = SOURCES[name.lower()]
    except KeyError:
        known = ", ".join(sorted(SOURCES))
        raise UnknownSourceError(f"unknown source {name!r} (known: {known})") from None
    return cls.from_config(config)


def enabled(config: Config) -> list[Source]:
    """Every source whose config section says enabled."""
    return [
        cls.from_config(config)
        for name, cls in SOURCES.items()
        if getattr(config.sources, name).enabled
    ]
