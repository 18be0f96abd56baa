"""EMA: the medicines report (whole EU register) and its event rules."""

from .report import EMAReport

__all__ = ["EMAReport"]
