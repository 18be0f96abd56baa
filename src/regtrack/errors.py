"""The one exception tree of regtrack; every class says who raises it. Imports nothing of ours."""

from __future__ import annotations


class RegtrackError(Exception):
    """Base of every error regtrack raises on purpose; the CLI prints it as one line."""


class ConfigError(RegtrackError):
    """Raised by `config.load` for a missing file, bad TOML, an unknown key or a wrong value."""


class UnknownSourceError(ConfigError):
    """Raised by `sources.get` when a source name is not in the registry."""


class InputError(RegtrackError):
    """Raised by the CLI and `poll` when a file given to replay cannot be read."""


class NoTextError(InputError):
    """Raised by `check` for a document with no text to read (a scanned PDF, an image, an
    empty file): exit status 2, since nothing was checked."""

    exit_code = 2


class ProductNotFoundError(RegtrackError):
    """Raised by the store when a product name or alias matches nothing."""


class StoreError(RegtrackError):
    """Raised by `store` when the database cannot be opened or written (bad URL, full disk).

    The transaction in progress is rolled back, so nothing already stored is lost.
    """


class MailError(RegtrackError):
    """Raised by `mail` backends when a message cannot be handed over (server down, refused,
    authentication failed, folder not writable). The outbox keeps it and retries, unless the
    refusal is `permanent` (a 5xx), or the outcome is `uncertain` (the connection failed after
    the message itself was sent: it may have arrived, so it is never sent again unasked)."""

    def __init__(self, message: str, *, permanent: bool = False, uncertain: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.uncertain = uncertain


class SourceError(RegtrackError):
    """An expected failure of one source: stored as source health, never a crash of the daemon."""


class FetchError(SourceError):
    """Raised by `fetch` when a document cannot be retrieved (network, HTTP status, size)."""

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        #: Seconds the server asked us to wait (Retry-After on 429/503), when it said.
        self.retry_after: int | None = None


class ShapeError(SourceError):
    """Raised by a source's parser, or by detection, when a document does not have the shape
    the source expects (missing columns, no rows, an error page, a truncated file, a mass
    disappearance of records). The source is marked unhealthy; no state or event changes.
    """
