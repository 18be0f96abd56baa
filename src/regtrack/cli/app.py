"""The `regtrack` group, its global options and `App`, what every command is handed.

Only the CLI reads the config and builds the store, sources and renderers; the rest receive
them as arguments. Heavy modules load inside the commands that need them, so `events` and
`timeline` start fast.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

import click

from .. import __version__
from ..config import Config
from ..errors import RegtrackError
from ..model import Agency, EventKind
from ..store import Store

#: `--agency` and `--kind` values, checked (case-insensitive) when the command is read.
AGENCY = click.Choice([a.value for a in Agency], case_sensitive=False)
KIND = click.Choice([k.value for k in EventKind], case_sensitive=False)
DATE = click.DateTime(["%Y-%m-%d"])


class App:
    """What a command needs, built on first use from the global options."""

    def __init__(self, config_path: Path | None) -> None:
        self.config_path = config_path

    @cached_property
    def config(self) -> Config:
        from ..config import load

        return load(self.config_path)

    @cached_property
    def store(self) -> Store:
        """The store for reading: opening it writes nothing, so a read never waits for a
        poll's write lock."""
        return Store.open(self.config.database.url)

    @cached_property
    def writer_store(self) -> Store:
        """The store for commands that write (poll, run, reparse, digest): the configured
        products are written first, so their aliases join records from the first poll."""
        store = self.store
        if self.config.products:
            with store.transaction() as tx:
                tx.sync_products(self.config.products)
        return store


class Group(click.Group):
    """Turns regtrack's own errors into one line on stderr and exit status 1 (or the error's
    own `exit_code`: 2 for a document with no text)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RegtrackError as err:
            failure = _NothingChecked if getattr(err, "exit_code", 1) == 2 else click.ClickException
            raise failure(str(err)) from err


class _NothingChecked(click.ClickException):
    """One line on stderr and exit status 2: the input held nothing to work on."""

    exit_code = 2


@click.group(cls=Group)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="REGTRACK_CONFIG",
    help="Config file (default ./config.toml when present; env REGTRACK_CONFIG).",
)
@click.version_option(__version__, prog_name="regtrack")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """regtrack: a dated, evidenced record of what medicines regulators and HTA bodies decide."""
    ctx.obj = App(config_path)


pass_app = click.make_pass_decorator(App)


def when(value: dt.datetime | None) -> str:
    """A stored time (UTC) as people read it, with its zone."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return f"{value:%Y-%m-%d %H:%M} UTC"


@contextmanager
def terminal_progress() -> Iterator[Callable[[str], None]]:
    """What a long poll or reparse is doing, on one line of the terminal (stderr), rewritten
    as it goes and cleared at the end; silent when stderr is not a terminal (cron, pipes)."""
    from ..names import printable

    # Its own line-rewriting codes go to the terminal itself; the messages are filtered.
    stream = getattr(sys.stderr, "_stream", sys.stderr)
    if not stream.isatty():
        yield lambda _message: None
        return
    width = shutil.get_terminal_size().columns - 1
    lock = threading.Lock()  # sources polled side by side share the line

    def show(message: str) -> None:
        message = printable(message)
        line = message if len(message) <= width else message[: width - 1] + "…"
        with lock:
            stream.write(f"\r\x1b[K{line}")
            stream.flush()

    try:
        yield show
    finally:
        stream.write("\r\x1b[K")
        stream.flush()
