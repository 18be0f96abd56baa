"""Sending email: SMTP for real, or .eml files in a folder (the default: works with no server).

Only hands messages over; what to send and when is `alerts`, what they say is `digest`.
"""

from __future__ import annotations

import logging
import os
import re
import smtplib
import ssl
import tempfile
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from .config import MailConfig
from .errors import ConfigError, MailError

log = logging.getLogger(__name__)


class Backend(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand the message over; raises MailError when it was not accepted."""

    def delivered(self, message_id: str) -> bool | None:
        """Whether a message was handed over before (None: this backend cannot tell)."""


class FileBackend:
    """Writes each message to `<folder>/<message id>.eml`, atomically."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, message_id: str) -> Path:
        return self.folder / (re.sub(r"[^A-Za-z0-9_.@-]", "_", message_id.strip("<>")) + ".eml")

    def send(self, message: EmailMessage) -> None:
        target = self.path(str(message["Message-ID"]))
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                "wb", dir=self.folder, delete=False, suffix=".tmp"
            ) as tmp:
                tmp.write(message.as_bytes())
            os.replace(tmp.name, target)  # a message is there whole, or not at all
        except OSError as err:
            raise MailError(f"cannot write {target}: {err.strerror or err}") from err

    def delivered(self, message_id: str) -> bool | None:
        return self.path(message_id).exists()


class SMTPBackend:
    """SMTP with STARTTLS, implicit TLS or neither; login when a username is set."""

    def __init__(self, config: MailConfig, password: str | None) -> None:
        self.config = config
        self.password = password

    def send(self, message: EmailMessage) -> None:
        c = self.config
        try:
            if c.security == "tls":
                context = ssl.create_default_context()
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    c.smtp_host, c.smtp_port, timeout=c.timeout_seconds, context=context
                )
            else:
                client = smtplib.SMTP(c.smtp_host, c.smtp_port, timeout=c.timeout_seconds)
            if c.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if c.username:
                if c.security == "none":
                    log.warning(
                        "SMTP login to %s:%s without encryption (allow_plaintext_login)",
                        c.smtp_host, c.smtp_port,
                    )  # fmt: skip
                client.login(c.username, self.password or "")
            _envelope(client, message)
        except (smtplib.SMTPException, OSError) as err:
            code = getattr(err, "smtp_code", 0) or 0
            if isinstance(err, smtplib.SMTPRecipientsRefused):  # RCPT 550: no such mailbox
                code = min((c for c, _ in err.recipients.values()), default=0)
            raise MailError(
                f"SMTP {c.smtp_host}:{c.smtp_port} did not take the message: {err}",
                permanent=500 <= code < 600,
            ) from err
        try:
            code, reply = client.data(message.as_bytes(policy=message.policy.clone(linesep="\r\n")))
            if code != 250:  # data() returns the server's final answer; it raises on none
                raise smtplib.SMTPDataError(code, reply)
        except smtplib.SMTPDataError as err:  # the server answered: it did not take it
            raise MailError(
                f"SMTP {c.smtp_host}:{c.smtp_port} refused the message: {err}",
                permanent=500 <= err.smtp_code < 600,
            ) from err
        except (smtplib.SMTPException, OSError) as err:
            # The message went out and no answer came back: it may have been delivered.
            client.close()
            raise MailError(
                f"SMTP {c.smtp_host}:{c.smtp_port}: no answer after the message was sent "
                f"({err}); it may have arrived",
                uncertain=True,
            ) from err
        # Accepted: a failure to say goodbye must not make it look unsent (and sent twice).
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()

    def delivered(self, message_id: str) -> bool | None:
        return None  # SMTP cannot be asked what it has already received


class ChannelBackend:
    """Sends a composed message to an Apprise URL (Slack, Teams, Discord, a webhook…): its
    subject as the title, its text part as the body. `${NAME}` in the URL is read from the
    environment when sending, so secrets never sit in the config or the outbox."""

    def __init__(self, environ: dict[str, str] | os._Environ[str] = os.environ) -> None:
        self.environ = environ

    def send(self, url: str, message: EmailMessage) -> None:
        import apprise

        missing = [n for n in re.findall(r"\$\{(\w+)\}", url) if not self.environ.get(n)]
        if missing:
            raise MailError(f"channel {url}: set {', '.join(missing)}", permanent=True)
        target = re.sub(r"\$\{(\w+)\}", lambda m: self.environ[m[1]], url)
        notifier = apprise.Apprise()
        if not notifier.add(target):
            raise MailError(f"channel {url}: not a URL Apprise knows", permanent=True)
        body = message.get_body(("plain",))
        text = body.get_content() if isinstance(body, EmailMessage) else ""
        with apprise.LogCapture(level=logging.DEBUG) as said:  # type: ignore[no-untyped-call]
            if notifier.notify(title=str(message["Subject"]), body=text):
                return
        told = said.getvalue()
        if _AFTER_SENDING.search(told):
            # The request went out and no answer came back (a slow webhook): like SMTP after
            # DATA, it may have arrived, so it is never sent again unasked.
            raise MailError(
                f"channel {url}: no answer after the message was sent; it may have arrived",
                uncertain=True,
            )
        raise MailError(f"channel {url} did not take the message")


#: What Apprise logs when a request went out but its answer did not come back.
_AFTER_SENDING = re.compile(
    r"Read timed out|ReadTimeout|RemoteDisconnected|Connection aborted|"
    r"IncompleteRead|Connection broken",
    re.I,
)


def _envelope(client: smtplib.SMTP, message: EmailMessage) -> None:
    """MAIL FROM and RCPT TO: everything before the message itself (safe to retry)."""
    from email.utils import getaddresses

    client.ehlo_or_helo_if_needed()
    sender = getaddresses([str(message["From"])])[0][1]
    code, reply = client.mail(sender)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    recipients = [a for _, a in getaddresses([str(v) for v in message.get_all("To", [])])]
    for recipient in recipients:
        code, reply = client.rcpt(recipient)
        if code not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})


def backend_from(
    config: MailConfig, environ: dict[str, str] | os._Environ[str] = os.environ
) -> Backend:
    """The configured backend; the SMTP password from its environment variable or file."""
    if config.backend == "file":
        return FileBackend(Path(config.directory))
    # An empty variable (a template line left blank) is no password, not an empty one.
    password = environ.get(config.password_env) or None
    if password is None and config.password_file:
        try:
            password = Path(config.password_file).read_text().strip() or None
        except OSError as err:
            raise ConfigError(f"mail.password_file {config.password_file}: {err.strerror}") from err
    if config.username and password is None:
        raise ConfigError(
            f"mail.username is set but no password: set {config.password_env} or mail.password_file"
        )
    return SMTPBackend(config, password)
