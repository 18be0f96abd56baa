"""The web page's guards: HTTP basic auth from hashed passwords, and the headers every answer
carries (a Content-Security-Policy with no script at all, no framing, no sniffing)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from ..errors import ConfigError

#: The pages run no script; styles are inline in the self-contained pages.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
ITERATIONS = 390_000


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """pbkdf2_sha256$iterations$salt$hash, as `regtrack password-hash` prints it."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, ITERATIONS)
    return f"pbkdf2_sha256${ITERATIONS}${salt.hex()}${digest.hex()}"


def verify(password: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        mine = hashlib.pbkdf2_hmac(
            "sha256", password.encode(), bytes.fromhex(salt), int(iterations)
        )
    except ValueError:
        return False
    return hmac.compare_digest(mine.hex(), digest)


def users(users_file: str | None, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """user -> password hash, from the file and REGTRACK_WEB_USERS (lines `user:hash`)."""
    lines: list[str] = []
    if users_file:
        try:
            lines += Path(users_file).read_text().splitlines()
        except OSError as err:
            raise ConfigError(f"web.users_file {users_file}: {err.strerror or err}") from err
        if not any(x.strip() and not x.strip().startswith("#") for x in lines):
            # An empty users file would turn authentication off: the page would be open.
            raise ConfigError(
                f"web.users_file {users_file} holds no account: add one (`regtrack "
                "password-hash`), or remove users_file to serve without authentication"
            )
    lines += environ.get("REGTRACK_WEB_USERS", "").replace(",", "\n").splitlines()
    found = {}
    for line in (x.strip() for x in lines):
        if not line or line.startswith("#"):
            continue
        user, _, hashed = line.partition(":")
        if not hashed.startswith("pbkdf2_sha256$"):
            raise ConfigError(f"web users: {user!r} has no pbkdf2_sha256 hash (plain passwords "
                              "are refused; make one with `regtrack password-hash`)")  # fmt: skip
        found[user] = hashed
    return found


def guard(
    accounts: Mapping[str, str],
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    """Middleware: basic auth when there are accounts, and the security headers always.

    Checking a password costs the same whether the user exists or not (an unknown user is
    checked against a hash of its own), runs off the event loop (wrong passwords from a few
    clients never stall everyone), and a password just verified is remembered for a minute,
    by a keyed digest of the header, not the password."""
    from starlette.concurrency import run_in_threadpool

    remembered: dict[bytes, float] = {}
    key = secrets.token_bytes(32)

    async def middleware(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if accounts:
            header = request.headers.get("authorization", "")
            token = hmac.new(key, header.encode(), hashlib.sha256).digest()
            now = time.monotonic()
            if remembered.get(token, 0.0) < now:
                if not await run_in_threadpool(_allowed, header, accounts):
                    response: Response = PlainTextResponse(
                        "authentication required", status_code=401,
                        headers={"WWW-Authenticate": 'Basic realm="regtrack", charset="UTF-8"'},
                    )  # fmt: skip
                    response.headers.update(HEADERS)
                    return response
                if len(remembered) > 1000:
                    remembered.clear()
                remembered[token] = now + REMEMBER_SECONDS
        response = await call_next(request)
        response.headers.update(HEADERS)
        return response

    return middleware


#: How long a verified Authorization header is taken without hashing again.
REMEMBER_SECONDS = 60.0
#: What an unknown user's password is checked against: the same work as a known one's.
_NOBODY = hash_password(secrets.token_hex(16))


def _allowed(header: str, accounts: Mapping[str, str]) -> bool:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, _, password = base64.b64decode(value).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        user, password = "", ""
    stored = accounts.get(user)
    matched = verify(password, stored if stored is not None else _NOBODY)
    return stored is not None and matched
