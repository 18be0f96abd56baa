"""Commands for email: `digest` (compose a round now) and `outbox` (what is stored, resend)."""

from __future__ import annotations

import datetime as dt

import click

from ..model import OutboxState
from .app import App, cli, pass_app, when


@cli.command()
@click.option(
    "--frequency",
    "frequencies",
    type=click.Choice(["immediate", "daily", "weekly"]),
    multiple=True,
    help="Only these digests (default: all that are due).",
)
@click.option("--dry-run", is_flag=True, help="Render what would be sent to stdout; store nothing.")
@click.option("--send", is_flag=True, help="Also deliver the outbox now (else compose only).")
@click.option("--test", "test_to", metavar="RECIPIENT", help="Send one test message there now.")
@click.option(
    "--preview",
    "preview_for",
    metavar="RECIPIENT",
    help="Show what this person's next digest would hold now (its window closed now); "
    "stores and sends nothing.",
)
@pass_app
def digest(
    app: App,
    frequencies: tuple[str, ...],
    dry_run: bool,
    send: bool,
    test_to: str | None,
    preview_for: str | None,
) -> None:
    """Run one digest round now: compose due digests, "now tracking" summaries and operator
    alerts into the outbox, and with --send deliver them. --test RECIPIENT sends one test
    message through the configured channel, to see that mail gets through."""
    from ..alerts import FREQUENCIES, Alerts
    from ..emails import Renderer
    from ..model import utcnow

    now = utcnow()
    if test_to is not None:
        _test_message(app, test_to, now)
        return
    if preview_for is not None:
        _preview(app, preview_for, frequencies, now)
        return
    store = app.writer_store
    renderer = Renderer(app.config.mail.templates)
    result = Alerts(app.config, store, renderer).digest_round(
        now, frequencies or FREQUENCIES, dry_run=dry_run
    )
    if dry_run:
        click.echo("\n\n".join(result.previews) or "nothing to send")
        return
    from ..operators import operator_round

    operator = operator_round(app.config, store, renderer, now)
    for frequency, start, end in result.windows:
        click.echo(f"{frequency} window {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC")
    for recipient, subject in result.composed:
        click.echo(f"  composed for {recipient}: {subject}")
    for subject in operator:
        click.echo(f"  operator alert: {subject}")
    if send:
        _deliver(app, now)


def _preview(app: App, email: str, frequencies: tuple[str, ...], now: dt.datetime) -> None:
    from ..alerts import Alerts
    from ..emails import Renderer

    person = next(
        (r for r in app.config.recipients if r.email.casefold() == email.casefold()), None
    )
    if person is None:
        known = ", ".join(r.email for r in app.config.recipients) or "none configured"
        raise click.BadParameter(f"{email} is not a recipient ({known})", param_hint="--preview")
    chosen = frequencies or tuple(dict.fromkeys(s.frequency for s in person.subscriptions))
    alerts = Alerts(app.config, app.store, Renderer(app.config.mail.templates))
    for frequency in chosen:
        start, texts = alerts.preview(person.email, frequency, now)
        click.echo(
            "\n\n".join(texts)
            or f"{frequency}: nothing new for {person.email} since {start:%Y-%m-%d %H:%M} UTC"
        )


def _test_message(app: App, recipient: str, now: dt.datetime) -> None:
    import socket

    from ..emails import Renderer, make_msgid
    from ..mail import backend_from

    if "@" not in recipient or any(c in recipient for c in "\r\n<> "):
        raise click.BadParameter(f"{recipient!r} is not an email address", param_hint="--test")
    subject = "regtrack test message"
    context = {"subject": subject, "host": socket.gethostname(), "recipient": recipient,
               "now": f"{now:%Y-%m-%d %H:%M} UTC", "backend": app.config.mail.backend}  # fmt: skip
    message = Renderer(app.config.mail.templates).message(
        "test", context, sender=app.config.mail.sender, recipient=recipient, subject=subject,
        message_id=make_msgid(domain="regtrack"),
    )  # fmt: skip
    backend_from(app.config.mail).send(message)
    click.echo(f"test message sent to {recipient} through the {app.config.mail.backend} backend")


def _deliver(app: App, now: dt.datetime) -> None:
    from ..delivery import deliver
    from ..mail import backend_from

    done = deliver(app.writer_store, backend_from(app.config.mail), app.config.mail, now)
    click.echo(
        f"sent {done.sent}, retrying {done.retried}, failed {done.failed}, "
        f"uncertain {done.uncertain}"
    )
    if done.failed or done.uncertain:  # for cron and monitors: a round that lost or may have
        raise click.ClickException(  # lost mail is not a success
            f"{done.failed} failed, {done.uncertain} uncertain: see `regtrack outbox`"
        )


@cli.command()
@click.option("--resend", type=int, help="Send this message (by its id) again, deliberately.")
@click.option("--send", is_flag=True, help="Deliver what is due now.")
@pass_app
def outbox(app: App, resend: int | None, send: bool) -> None:
    """The stored email: pending, claimed (delivery uncertain), sent, failed."""
    from ..model import utcnow

    if resend is not None:
        from ..delivery import resend as resend_one
        from ..mail import backend_from

        resend_one(app.writer_store, backend_from(app.config.mail), resend, utcnow())
        click.echo(f"message {resend} sent again")
        return
    if send:
        _deliver(app, utcnow())
        return
    from ..listing import table

    with app.store.reading() as read:
        rows = [m for s in OutboxState for m in read.messages_in(s)]
    click.echo(
        table(
            ("ID", "STATE", "TO", "SUBJECT", "CREATED", "SENT", "ATTEMPTS", "LAST ERROR"),
            [
                (
                    str(m.id),
                    m.state,
                    m.recipient,
                    m.subject[:60],
                    when(m.created_at),
                    when(m.sent_at),
                    str(m.attempts),
                    m.last_error or "",
                )
                for m in rows
            ],
        )
    )
