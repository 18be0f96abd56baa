"""Alerts end to end: subscriptions, digests through a real SMTP server on loopback (aiosmtpd),
the outbox across a crash, retries, and the operator channel."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from regtrack.alerts import Alerts, windows
from regtrack.config import (
    Config,
    EMAConfig,
    MailConfig,
    OperatorsConfig,
    ProductConfig,
    RecipientConfig,
    SourcesConfig,
    SubscriptionConfig,
)
from regtrack.delivery import deliver
from regtrack.emails import Renderer
from regtrack.errors import MailError
from regtrack.mail import FileBackend, SMTPBackend
from regtrack.model import OutgoingMessage
from regtrack.operators import operator_round
from regtrack.poll import poll
from regtrack.sources.ema import EMAReport
from regtrack.store import Store

DATA = Path(__file__).parent / "data" / "ema"


def clock() -> dt.datetime:
    """Now: events carry the real time they were detected, and windows are cut around it."""
    return dt.datetime.now(dt.UTC)


def _daily_hour() -> int:
    """The daily digest's hour for these tests: six hours from now in London, so that a test's
    own hour of changes never crosses it, whatever the time of day the suite runs."""
    from zoneinfo import ZoneInfo

    return (dt.datetime.now(ZoneInfo("Europe/London")) + dt.timedelta(hours=6)).hour


DAILY_HOUR = _daily_hour()


def next_local(after: dt.datetime, hour: int, minute: int) -> dt.datetime:
    from zoneinfo import ZoneInfo

    local = after.astimezone(ZoneInfo("Europe/London"))
    target = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target <= local:
        target += dt.timedelta(days=1)
    return target.astimezone(dt.UTC)


class Inbox:
    """An aiosmtpd handler that keeps what arrived, and can refuse the next few messages."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[list[str]] = []
        self.refuse = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            self.refuse -= 1
            return "451 4.3.0 Try again later"
        self.envelopes.append(list(envelope.rcpt_tos))
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 OK"


@contextmanager
def smtp_server(handler: Any) -> Iterator[int]:
    """A real aiosmtpd server on a free loopback port, answering with `handler`."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        yield inbox, port


def config(port: int = 25, **mail: Any) -> Config:
    return Config(
        sources=SourcesConfig(
            ema=EMAConfig(min_rows=5, max_vanished_fraction=0.2, news_window_days=0)
        ),
        products=[ProductConfig(name="selinexor", aliases=["Xpovio", "Nexpovio"])],
        mail=MailConfig(backend="smtp", smtp_host="127.0.0.1", smtp_port=port, security="none",
                        sender="regtrack <regtrack@example.org>", timezone="Europe/London",
                        daily_at=f"{DAILY_HOUR:02d}:00", retry_seconds=60, max_attempts=2, **mail),
        recipients=[
            RecipientConfig(email="alice@example.org", name="Alice (market access)", subscriptions=[
                SubscriptionConfig(frequency="immediate", products=["Nexpovio"], name="selinexor, as it happens")]),
            RecipientConfig(email="bob@example.org", name="Bob (regulatory)", subscriptions=[
                SubscriptionConfig(frequency="daily", everything=True),
                SubscriptionConfig(frequency="immediate", agencies=["EMA"], kinds=["refusal"])]),
        ],
        operators=OperatorsConfig(emails=["ops@example.org"], failures_before_alert=2),
    )  # fmt: skip


def replay(store: Store, cfg: Config, path: Path) -> Any:
    with store.transaction() as tx:
        tx.sync_products(cfg.products)
    (outcome,) = poll(store, EMAReport.from_config(cfg), None, from_file=path)
    return outcome


def hostile_report(tmp_path: Path) -> Path:
    data = json.loads((DATA / "report_2024-11-21.json").read_text())
    for row in data["data"]:
        if row["name_of_medicine"] == "Thetarin":
            row["name_of_medicine"] = 'Thetarin<script>alert("x")</script>'
    path = tmp_path / "later.json"
    path.write_text(json.dumps(data))
    return path


def test_digests_go_to_the_right_people_once_with_both_parts_and_escaped_text(
    store: Store, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    cfg = config(port)
    alerts, backend = Alerts(cfg, store, Renderer()), SMTPBackend(cfg.mail, None)
    replay(store, cfg, DATA / "report_2024-09-01.json")
    T0 = clock()
    # History is backfill: no digest; Alice gets one "now tracking" summary for selinexor.
    first = alerts.digest_round(T0)
    assert first.composed == [("alice@example.org", "regtrack now tracks selinexor for you")]
    deliver(store, backend, cfg.mail, T0)
    (tracking,) = inbox.messages
    assert "2021-03-26" in tracking.get_body(("plain",)).get_content()

    replay(store, cfg, hostile_report(tmp_path))
    later = T0 + dt.timedelta(hours=1)
    second = alerts.digest_round(later)
    recipients = sorted(r for r, _ in second.composed)
    assert recipients == ["alice@example.org", "bob@example.org"]  # Bob: his refusal subscription
    assert deliver(store, backend, cfg.mail, later).sent == 2
    alice = next(m for m in inbox.messages[1:] if m["To"] == "alice@example.org")
    assert alice.get_content_type() == "multipart/alternative"
    text, html = alice.get_body(("plain",)).get_content(), alice.get_body(("html",)).get_content()
    assert "*** 2022-07-18~  EMA  selinexor (Nexpovio): conversion to full authorisation" in text
    # Status changes open the digest, before the other changes.
    assert text.index("== Status changes ==") < text.index("extension of indication")
    assert "&#9733; conversion to full authorisation" in html  # stands out
    assert "selinexor" in alice["Subject"] and alice["Message-ID"].endswith("@regtrack>")
    assert "unsubscribe" in alice["List-Unsubscribe"] and "selinexor, as it happens" in text
    assert "Thetarin" not in text  # not Alice's product
    bob = next(m for m in inbox.messages[1:] if m["To"] == "bob@example.org")
    assert "refusal" in bob.get_body(("plain",)).get_content()

    # The daily window (DAILY_HOUR London) after the changes: Bob's everything digest, escaped.
    next_morning = next_local(later, DAILY_HOUR, 30)
    daily = alerts.digest_round(next_morning)
    assert [r for r, s in daily.composed if "daily" in s] == ["bob@example.org"]
    deliver(store, backend, cfg.mail, next_morning)
    digest = inbox.messages[-1]
    html = digest.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "<script>" in digest.get_body(("plain",)).get_content()  # plain text stays plain
    # The same round again: nothing new, nothing twice.
    assert alerts.digest_round(next_morning).composed == []
    assert deliver(store, backend, cfg.mail, next_morning).sent == 0
    assert len(inbox.messages) == 4


def test_refused_message_is_retried_with_backoff(
    store: Store, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    cfg = config(port)
    replay(store, cfg, DATA / "report_2024-09-01.json")
    inbox.refuse = 1
    T0 = clock()
    Alerts(cfg, store, Renderer()).digest_round(T0)
    first = deliver(store, SMTPBackend(cfg.mail, None), cfg.mail, T0)
    assert (first.sent, first.retried) == (0, 1) and inbox.messages == []
    assert (
        deliver(store, SMTPBackend(cfg.mail, None), cfg.mail, T0 + dt.timedelta(seconds=30)).sent
        == 0
    )
    again = deliver(store, SMTPBackend(cfg.mail, None), cfg.mail, T0 + dt.timedelta(seconds=61))
    assert again.sent == 1 and len(inbox.messages) == 1


class CrashAfterSending:
    """Hands the message over, then the process 'dies' before it can mark it sent."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def send(self, message: EmailMessage) -> None:
        self.inner.send(message)
        raise KeyboardInterrupt("killed")

    def delivered(self, message_id: str) -> bool | None:
        return self.inner.delivered(message_id)


def test_crash_between_send_and_mark_sends_nothing_twice(
    store: Store, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    cfg = config(port)
    replay(store, cfg, DATA / "report_2024-09-01.json")
    T0 = clock()
    Alerts(cfg, store, Renderer()).digest_round(T0)
    with pytest.raises(KeyboardInterrupt):
        deliver(store, CrashAfterSending(SMTPBackend(cfg.mail, None)), cfg.mail, T0)
    assert len(inbox.messages) == 1
    # Restart: SMTP cannot say whether it arrived, so it is not sent again on a guess...
    # (within CLAIM_GRACE a claim may be a live process's, so it is left alone until then)
    soon = deliver(store, SMTPBackend(cfg.mail, None), cfg.mail, T0 + dt.timedelta(minutes=5))
    assert (soon.sent, soon.uncertain) == (0, 0) and len(inbox.messages) == 1
    after = deliver(store, SMTPBackend(cfg.mail, None), cfg.mail, T0 + dt.timedelta(minutes=15))
    assert (after.sent, after.uncertain) == (0, 1) and len(inbox.messages) == 1
    # ...and the operator hears of it, once.
    assert operator_round(cfg, store, Renderer(), T0)
    assert operator_round(cfg, store, Renderer(), T0) == []
    with store.transaction() as tx:
        (outbox_row,) = [m for m in tx.messages_in("pending") if m.purpose == "operator"]
    assert "may not have arrived" in outbox_row.content.decode()


def test_crash_with_the_file_backend_resolves_itself(store: Store, tmp_path: Path) -> None:
    cfg = config()
    backend = FileBackend(tmp_path / "mail")
    replay(store, cfg, DATA / "report_2024-09-01.json")
    T0 = clock()
    Alerts(cfg, store, Renderer()).digest_round(T0)
    with pytest.raises(KeyboardInterrupt):
        deliver(store, CrashAfterSending(backend), cfg.mail, T0)
    resumed = deliver(store, backend, cfg.mail, T0 + dt.timedelta(minutes=15))
    assert resumed.sent == 0 and resumed.uncertain == 0
    with store.transaction() as tx:
        assert [m.state for m in tx.messages_in("sent")] == ["sent"]
    (eml,) = (tmp_path / "mail").glob("*.eml")
    assert b"Content-Type: multipart/alternative" in eml.read_bytes()


def test_operator_alert_then_nothing_then_recovery(
    store: Store, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    inbox, port = smtp
    cfg = config(port)
    replay(store, cfg, DATA / "report_2024-09-01.json")
    bad = tmp_path / "bad.json"
    bad.write_text('[{"Category": "Human", "Name of medicine": ')  # cut off mid-download
    replay(store, cfg, bad)
    T0 = clock()
    backend = SMTPBackend(cfg.mail, None)
    (subject,) = operator_round(cfg, store, Renderer(), T0)
    assert subject == "regtrack operator: 1 problem(s), 0 recovered"
    assert operator_round(cfg, store, Renderer(), T0 + dt.timedelta(hours=1)) == []  # unchanged
    replay(store, cfg, DATA / "report_2024-11-21.json")  # good again (and a record vanished)
    (subject,) = operator_round(cfg, store, Renderer(), T0 + dt.timedelta(hours=2))
    # The removed record, and the report is stale: generated in 2024 (limit 72 h).
    assert subject == "regtrack operator: 2 problem(s), 1 recovered"
    deliver(store, backend, cfg.mail, T0 + dt.timedelta(hours=2))
    alert, recovery = inbox.messages
    assert (
        alert["To"] == "ops@example.org"
        and "PROBLEM ema: document shape" in alert.get_body(("plain",)).get_content()
    )
    text = recovery.get_body(("plain",)).get_content()
    assert "RECOVERED ema: document shape" in text
    assert "EMEA/H/C/009004" in text  # removed from the register: for review
    assert "PROBLEM ema: stale document: generated 2024-11-21" in text
    assert all(m["To"] == "ops@example.org" for m in inbox.messages)


def test_missed_daily_windows_are_caught_up() -> None:
    mail = MailConfig(timezone="Europe/London", daily_at="07:00")
    last = dt.datetime(2024, 3, 28, 7, 0, tzinfo=dt.UTC)  # GMT
    now = dt.datetime(2024, 4, 1, 9, 0, tzinfo=dt.UTC)  # BST since 31 March
    due = windows("daily", last, now, mail)
    assert [e.isoformat() for _, e in due] == [
        "2024-03-29T07:00:00+00:00",
        "2024-03-30T07:00:00+00:00",
        "2024-03-31T06:00:00+00:00",
        "2024-04-01T06:00:00+00:00",  # 07:00 local, summer time
    ]
    assert due[0][0] == last and all(a[1] == b[0] for a, b in itertools.pairwise(due))
    weekly = windows("weekly", None, now, MailConfig(weekly_on="monday"))
    assert [e.isoformat() for _, e in weekly] == ["2024-04-01T06:00:00+00:00"]


def test_dry_run_renders_and_stores_nothing(store: Store, tmp_path: Path) -> None:
    cfg = config()
    replay(store, cfg, DATA / "report_2024-09-01.json")
    replay(store, cfg, DATA / "report_2024-11-21.json")
    result = Alerts(cfg, store, Renderer()).digest_round(clock(), ["immediate"], dry_run=True)
    assert any("conversion to full authorisation" in p for p in result.previews)
    with store.transaction() as tx:
        assert tx.messages_in("pending") == [] and tx.last_window_end("immediate") is None


def test_templates_fail_loudly_on_missing_values(tmp_path: Path) -> None:
    import jinja2

    with pytest.raises(jinja2.UndefinedError):
        Renderer().render("digest", {"recipient_name": "x"})


def test_smtp_password_comes_from_the_environment_not_config() -> None:
    from regtrack.errors import ConfigError
    from regtrack.mail import backend_from

    mail = MailConfig(backend="smtp", username="regtrack")
    with pytest.raises(ConfigError, match="REGTRACK_SMTP_PASSWORD"):
        backend_from(mail, environ={})
    assert isinstance(backend_from(mail, environ={"REGTRACK_SMTP_PASSWORD": "s"}), SMTPBackend)
    with pytest.raises(MailError, match="did not take the message"):
        SMTPBackend(
            MailConfig(
                backend="smtp",
                smtp_host="127.0.0.1",
                smtp_port=9,
                security="none",
                timeout_seconds=2,
            ),
            None,
        ).send(EmailMessage())


def test_concurrent_deliveries_send_each_message_once(
    store: Store, smtp: tuple[Inbox, int]
) -> None:
    """The digest and outbox jobs of one daemon (and other daemons) deliver at once: the
    claim is a conditional UPDATE, so each message goes out once."""
    import threading

    inbox, port = smtp
    cfg = config(port)
    replay(store, cfg, DATA / "report_2024-09-01.json")
    T0 = clock()
    Alerts(cfg, store, Renderer()).digest_round(T0)
    extra = []
    for number in range(12):
        message = EmailMessage()
        message["From"], message["To"] = "regtrack@example.org", "ops@example.org"
        message["Subject"], message["Message-ID"] = f"m{number}", f"<m{number}@regtrack>"
        message.set_content("x")
        extra.append(OutgoingMessage(f"<m{number}@regtrack>", "operator", "ops@example.org",
                                     f"m{number}", message.as_bytes()))  # fmt: skip
    with store.transaction() as tx:
        tx.enqueue(extra, T0)
    with store.reading() as read:
        pending = len(read.messages_in("pending"))
    assert pending >= 13
    threads = [
        threading.Thread(target=deliver, args=(store, SMTPBackend(cfg.mail, None), cfg.mail, T0))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(inbox.messages) == pending
    assert len({m["Message-ID"] for m in inbox.messages}) == pending


class SilentAfterData:
    """An SMTP server that takes the message and then never answers (a timeout after DATA)."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import asyncio

        self.seen = getattr(self, "seen", 0) + 1
        await asyncio.sleep(5)
        return "250 OK"


def test_a_timeout_after_data_is_uncertain_not_retried(store: Store) -> None:
    handler = SilentAfterData()
    with smtp_server(handler) as port:
        cfg = config(port)
        cfg = cfg.model_copy(update={"mail": cfg.mail.model_copy(update={"timeout_seconds": 1.0})})
        replay(store, cfg, DATA / "report_2024-09-01.json")
        T0 = clock()
        Alerts(cfg, store, Renderer()).digest_round(T0)
        first = deliver(store, SMTPBackend(cfg.mail, None), cfg.mail, T0)
        assert first.uncertain >= 1 and first.retried == 0 and first.sent == 0
        later = T0 + dt.timedelta(hours=2)
        again = deliver(store, SMTPBackend(cfg.mail, None), cfg.mail, later)
        assert again.sent == 0  # never sent a second time on a guess
        assert handler.seen == first.uncertain  # each message reached the server once


def test_a_permanent_refusal_is_not_retried(store: Store, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    cfg = config(port)
    replay(store, cfg, DATA / "report_2024-09-01.json")

    async def refuse(server: Any, session: Any, envelope: Any) -> str:
        return "554 5.7.1 Message rejected"

    inbox.handle_DATA = refuse  # type: ignore[method-assign]
    T0 = clock()
    Alerts(cfg, store, Renderer()).digest_round(T0)
    done = deliver(store, SMTPBackend(cfg.mail, None), cfg.mail, T0)
    assert done.failed >= 1 and done.retried == 0


@pytest.mark.parametrize(
    ("start", "end", "words"),
    [
        (
            "2026-12-01T07:00",
            "2026-12-02T07:00",
            "since yesterday 07:00 (to 07:00 GMT on 2 December 2026)",
        ),
        (
            "2026-12-02T06:50",
            "2026-12-02T07:05",
            "in the last 15 minutes (since 06:50:00, to 07:05:00 GMT)",
        ),
        (
            "2026-11-23T07:00",
            "2026-11-30T07:00",
            "since 23 November 2026 07:00 (to 07:00 GMT on 30 November 2026)",
        ),
        (
            "2026-11-27T07:00",
            "2026-11-30T07:00",
            "since Friday 07:00 (to 07:00 GMT on 30 November 2026)",
        ),
    ],
)
def test_a_window_is_said_in_words(start: str, end: str, words: str) -> None:
    from regtrack.briefing import window_words

    utc = dt.UTC
    s = dt.datetime.fromisoformat(start).replace(tzinfo=utc)
    e = dt.datetime.fromisoformat(end).replace(tzinfo=utc)
    assert window_words(s, e, "Europe/London") == words


def test_a_channel_gets_the_digest_through_the_outbox_once(
    store: Store, httpserver: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A recipient's Slack/Teams/webhook channel (an Apprise URL; here Apprise's json://
    against a real local HTTP server) gets the same digest, claimed and sent once; its
    secret comes from the environment."""
    import json as jsonlib

    from regtrack.config import RecipientConfig, SubscriptionConfig

    received: list[dict[str, Any]] = []

    def hook(request: Any) -> Any:
        from werkzeug import Response

        assert request.headers.get("X-Token") == "s3cret"
        received.append(jsonlib.loads(request.data))
        return Response("ok")

    httpserver.expect_request("/hook", method="POST").respond_with_handler(hook)
    monkeypatch.setenv("HOOK_TOKEN", "s3cret")
    cfg = config()
    url = f"json://127.0.0.1:{httpserver.port}/hook?+X-Token=${{HOOK_TOKEN}}"
    cfg = cfg.model_copy(update={"recipients": [RecipientConfig(
        email="alice@example.org", channels=[url],
        subscriptions=[SubscriptionConfig(frequency="immediate", products=["selinexor"])],
    )]})  # fmt: skip
    replay(store, cfg, DATA / "report_2024-09-01.json")
    T0 = clock()
    Alerts(cfg, store, Renderer()).digest_round(T0)
    replay(store, cfg, DATA / "report_2024-11-21.json")
    T1 = T0 + dt.timedelta(minutes=15)
    Alerts(cfg, store, Renderer()).digest_round(T1)
    backend = FileBackend(Path(cfg.mail.directory))
    deliver(store, backend, cfg.mail, T1)
    deliver(store, backend, cfg.mail, T1 + dt.timedelta(minutes=5))
    digests = [r for r in received if "digest" in r["title"]]
    assert len(digests) == 1 and "conversion to full authorisation" in digests[0]["message"]
    with store.reading() as read:
        sent = [m.recipient for m in read.messages_in("sent")]
    assert f"channel:{url}" in sent  # stored with the variable, never the secret
    assert not any("s3cret" in r for r in sent)
