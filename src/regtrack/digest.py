"""What the emails say: jinja2 templates (HTML and plain text for every message) to MIME.

Autoescape is on for HTML and undefined variables are errors: scraped text cannot inject
markup, and a template that names a missing value fails loudly instead of printing nothing.
"""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

DEFAULT_TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "emails"


class Renderer:
    """Renders `<name>.html` and `<name>.txt` from a templates folder into one email."""

    def __init__(self, folder: Path = DEFAULT_TEMPLATES) -> None:
        import jinja2  # deferred: only commands that write email need it

        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(folder)),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

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
        message = EmailMessage()
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


def stable_id(*parts: object) -> str:
    """A Message-ID derived from what the message is about: composing it again after a crash
    yields the same one, so the outbox never holds it twice."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]
    return f"<{digest}@regtrack>"


__all__ = ["DEFAULT_TEMPLATES", "Renderer", "make_msgid", "stable_id"]
