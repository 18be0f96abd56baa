"""The `regtrack` command: one click group, its commands in modules by what they do.

`app` holds the group and what every command is handed; `ledger` reads (events, timeline,
status, lag, feed); `polling` polls and rebuilds (poll, reparse, sources); `daemon` runs jobs
(run, demo); `mail` composes and delivers (digest, outbox); `check` judges documents.
Nothing imports this package.
"""

from __future__ import annotations

from typing import Any

from . import check, daemon, ledger, mail, polling
from .app import cli

__all__ = ["check", "cli", "daemon", "ledger", "mail", "main", "polling"]


def main() -> None:
    import sys

    # Every line regtrack prints goes through one filter: control characters, bidi overrides
    # and noncharacters from a parsed document never reach the terminal or cron's mail.
    sys.stdout = _Printable(sys.stdout)
    sys.stderr = _Printable(sys.stderr)
    cli(prog_name="regtrack")


class _Printable:
    """A text stream that writes `names.printable` text; all else is the stream's own (its
    binary buffer too, for XLSX)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        from ..names import printable

        return int(self._stream.write(printable(text)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
