"""The `regtrack` command: one click group, its commands in modules by what they do.

`app` holds the group and what every command is handed; `ledger` reads (events, timeline,
status, lag, feed); `polling` polls and rebuilds (poll, reparse, sources); `daemon` runs jobs
(run, demo); `mail` composes and delivers (digest, outbox); `check` judges documents.
Nothing imports this package.
"""

from __future__ import annotations

from . import check, daemon, ledger, mail, polling
from .app import cli

__all__ = ["check", "cli", "daemon", "ledger", "mail", "main", "polling"]


def main() -> None:
    cli(prog_name="regtrack")
