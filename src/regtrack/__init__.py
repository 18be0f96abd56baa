"""regtrack: a dated, evidenced record of medicines regulators' and HTA bodies' decisions."""

__version__ = "0.1.0"
