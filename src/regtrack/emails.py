"""What the emails say: jinja2 templates (HTML and plain text for every message) to MIME.

The templates are the package's own (`templating`), overridden file by file by a user folder.
"""

from __future__ import annotations

import dataclasses
import hashlib
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from .model import OutgoingMessage
from .templating import environment


class Renderer:
    """Renders `<name>.html` and `<name>.txt` into one email: from `folder` where it has
    them, else the bundled templates."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self.env = environment("emails", folder)

    def render(self, name: str, context: dict[str, Any]) -> tuple[str, str]:
        text = self.env.get_template(f"{name}.txt").render(**context)
        html = self.env.get_template(f"{name}.html").render(**context)
        return text, html

    def message(
        self,
        name: str,
        context: dict[str, Any],
        *,
        sender: str,
        recipient: str,
        subject: str,
        message_id: str,
        unsubscribe: str | None = None,
    ) -> EmailMessage:
        text, html = self.render(name, context)
        message = EmailMessage(policy=POLICY)
        message["From"] = sender
        message["To"] = recipient
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = message_id
        if unsubscribe:
            message["List-Unsubscribe"] = unsubscribe
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        return message


def outgoing(purpose: str, email: EmailMessage) -> OutgoingMessage:
    """A rendered email as the outbox stores it."""
    return OutgoingMessage(
        str(email["Message-ID"]), purpose, str(email["To"]), str(email["Subject"]),
        email.as_bytes(),
    )  # fmt: skip


#: Lines up to RFC 5322's 998 characters: a List-Unsubscribe URL is one unfolded header,
#: not RFC 2047 encoded words that no mail client would act on.
POLICY = policy.default.clone(max_line_length=998)


def preview(content: bytes) -> str:
    """A stored message as a person reads it: its main headers and its text part, decoded."""
    parsed = message_from_bytes(content, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    head = [f"{name}: {parsed[name]}" for name in ("From", "To", "Subject", "List-Unsubscribe")
            if parsed[name]]  # fmt: skip
    body = parsed.get_body(("plain",))
    text = body.get_content() if isinstance(body, EmailMessage) else ""
    return "\n".join(head) + "\n\n" + text.rstrip() + "\n"


def stable_id(*parts: object) -> str:
    """A Message-ID derived from what the message is about: composing it again after a crash
    yields the same one, so the outbox never holds it twice."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]
    return f"<{digest}@regtrack>"


def for_channel(message: OutgoingMessage, url: str) -> OutgoingMessage:
    """The same message for one of a recipient's chat channels: its own Message-ID, so the
    outbox claims and retries it on its own."""
    new_id = stable_id(message.message_id, url)
    return dataclasses.replace(message, message_id=new_id, recipient=f"channel:{url}")


__all__ = ["POLICY", "OutgoingMessage", "Renderer", "for_channel", "make_msgid", "outgoing",
           "preview", "stable_id"]  # fmt: skip
