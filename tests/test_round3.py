"""The third adversarial round (issue 28): each point broken before, with a test that fails
without its fix, against real files, real processes and a real PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from regtrack.cli import cli
from regtrack.errors import StoreError
from regtrack.store import Store

from .conftest import POSTGRES_URL

DATA = Path(__file__).parent / "data" / "ema"


def test_the_demo_never_deletes_what_it_did_not_make(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "thesis.docx").write_text("two years of work")
    (folder / "sub").mkdir()
    (folder / "sub" / "data.csv").write_text("1,2")
    result = CliRunner().invoke(cli, ["demo", "--dir", str(folder)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: {folder}: holds files the demo did not make (sub, thesis.docx); regtrack "
        "deletes only what it made: give a new or empty folder, or an earlier demo's"
    ]
    assert (folder / "thesis.docx").read_text() == "two years of work"
    assert (folder / "sub" / "data.csv").read_text() == "1,2"
    # "--dir ." from a folder of one's own: the same refusal, no traceback.
    cwd = Path.cwd()
    os.chdir(folder)
    try:
        dot = CliRunner().invoke(cli, ["demo", "--dir", "."])
    finally:
        os.chdir(cwd)
    assert dot.exit_code == 1 and "Traceback" not in dot.output
    assert (folder / "thesis.docx").exists()
    # Its own folder, marked as such, is made anew; a file added to it afterwards refuses it.
    demo = tmp_path / "demo"
    assert CliRunner().invoke(cli, ["demo", "--dir", str(demo)]).exit_code == 0
    assert CliRunner().invoke(cli, ["demo", "--dir", str(demo)]).exit_code == 0
    (demo / "notes.txt").write_text("mine")
    assert CliRunner().invoke(cli, ["demo", "--dir", str(demo)]).exit_code == 1
    assert (demo / "notes.txt").read_text() == "mine"


def test_store_errors_name_the_database(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "folder" / "r.db"
    with pytest.raises(StoreError) as caught:
        Store.open(f"sqlite:///{missing}")
    assert f"SQLite file {missing}" in str(caught.value)


def test_a_stale_document_fails_the_health_check(tmp_path: Path) -> None:
    """The operator is mailed "stale document … limit 72 h": `sources --check` (the Docker
    HEALTHCHECK) says so too, exit 1."""
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "r.db"}"\n'
        "[sources.ema]\nmin_rows = 5\nmax_vanished_fraction = 0.2\nnews_window_days = 0\n"
        "[operators]\nstale_after_hours = { ema = 72 }\n"
    )
    polled = CliRunner().invoke(
        cli,
        [
            "--config",
            str(config),
            "poll",
            "ema",
            "--from-file",
            str(DATA / "report_2024-11-21.json"),
        ],
    )
    assert polled.exit_code == 0, polled.output
    result = CliRunner().invoke(cli, ["--config", str(config), "sources", "--check"])
    assert result.exit_code == 1
    assert "STALE" in result.output and "limit 72 h" in result.output
    assert result.stderr.strip() == "Error: unhealthy or stale: ema"


def test_an_smtp_password_is_never_sent_in_clear_unasked(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    mail = '[mail]\nbackend = "smtp"\nsecurity = "none"\nusername = "ops"\n'
    config.write_text(mail)
    result = CliRunner().invoke(cli, ["--config", str(config), "sources"])
    assert result.exit_code == 1
    assert "would send the SMTP password unencrypted" in result.stderr
    config.write_text(mail + "allow_plaintext_login = true\n")
    assert CliRunner().invoke(cli, ["--config", str(config), "sources"]).exit_code == 0


@pytest.mark.skipif(not POSTGRES_URL, reason="REGTRACK_TEST_POSTGRES_URL is not set")
def test_two_processes_create_a_fresh_postgresql_schema_at_once() -> None:
    import psycopg

    assert POSTGRES_URL is not None
    name = f"rt_fresh_{uuid.uuid4().hex[:8]}"
    admin = POSTGRES_URL.replace("postgresql://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    code = f"from regtrack.store import Store; Store.open({url!r}).close()"
    try:
        runs = [subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE)
                for _ in range(4)]  # fmt: skip
        errors = [(p.wait(timeout=120), p.stderr.read().decode() if p.stderr else "") for p in runs]
        assert [e for e in errors if e[0] != 0] == []
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _robots_fetcher(deadline: float = 2.0) -> Any:
    from regtrack.config import FetchConfig
    from regtrack.fetch import Fetcher

    return Fetcher(
        FetchConfig(
            robots_txt=True,
            retries=0,
            timeout_seconds=5,
            deadline_seconds=deadline,
            min_interval_seconds=0,
        )
    )


@pytest.mark.parametrize("kind", ["trickle", "endless", "gzip bomb"])
def test_robots_txt_goes_through_the_bounded_reader(httpserver: Any, kind: str) -> None:
    """A robots.txt that trickles, never ends, or inflates from a small gzip to gigabytes:
    read within one deadline and 512 KiB, then treated as none; the document still comes."""
    import resource
    import time
    import zlib

    from werkzeug import Request, Response

    def trickle(_: Request) -> Response:
        def body():  # type: ignore[no-untyped-def]
            for _ in range(600):
                time.sleep(0.01)
                yield b"# x\n"

        return Response(body(), content_type="text/plain")

    def endless(_: Request) -> Response:
        def body():  # type: ignore[no-untyped-def]
            line = b"Disallow: /nothing-here\n" * 4096
            for _ in range(100_000):  # ~10 GB if read whole
                yield line

        return Response(body(), content_type="text/plain")

    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip: 1 GiB from about 1 MB
    block = b"#" * (1 << 20)
    bomb = b"".join(packer.compress(block) for _ in range(1024)) + packer.flush()

    def inflating(_: Request) -> Response:
        return Response(bomb, content_type="text/plain", headers={"Content-Encoding": "gzip"})

    handler = {"trickle": trickle, "endless": endless, "gzip bomb": inflating}[kind]
    httpserver.expect_request("/robots.txt").respond_with_handler(handler)
    httpserver.expect_request("/doc.json").respond_with_data(b"{}", content_type="application/json")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    document = _robots_fetcher().get("ema", httpserver.url_for("/doc.json"))
    assert document is not None and document.content == b"{}"
    assert time.monotonic() - started < 8
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before  # KiB on Linux
    assert grown < 256 * 1024, f"the process grew {grown / 1024:.0f} MiB"


def _one_message(store: Store, recipient: str) -> int:
    """One composed email in the outbox, due now, for `recipient`."""
    import datetime as dt

    from regtrack.emails import Renderer
    from regtrack.model import OutgoingMessage

    email = Renderer().message(
        "test", {"subject": "regtrack test", "host": "h", "now": "now", "recipient": recipient,
                 "backend": "b", "sender": "s"},
        sender="regtrack <r@example.org>",
        recipient=recipient.removeprefix("channel:"), subject="regtrack test", message_id="<t@r>",
    )  # fmt: skip
    with store.transaction() as tx:
        tx.enqueue(
            [OutgoingMessage("<t@r>", "test", recipient, "regtrack test", email.as_bytes())],
            dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1),
        )  # fmt: skip
    with store.reading() as read:
        (message,) = read.messages_in("pending")
    assert message.id is not None
    return message.id


def test_a_slow_webhook_gets_a_digest_once_not_four_times(
    store: Store, httpserver: Any, tmp_path: Path
) -> None:
    """The webhook takes the body, then answers after Apprise stopped waiting: that is
    uncertain (like SMTP after DATA), never retried unasked; `outbox --send` says so, exit 1."""
    import datetime as dt
    import time

    from werkzeug import Request, Response

    from regtrack.config import MailConfig
    from regtrack.delivery import deliver
    from regtrack.mail import FileBackend

    received: list[bytes] = []

    def slow(request: Request) -> Response:
        received.append(request.get_data())
        time.sleep(2.5)
        return Response("ok")

    httpserver.expect_request("/hook", method="POST").respond_with_handler(slow)
    url = f"channel:json://127.0.0.1:{httpserver.port}/hook?rto=1&cto=1"
    _one_message(store, url)
    mail = MailConfig(directory=str(tmp_path / "mail"), max_attempts=5, retry_seconds=0)
    now = dt.datetime.now(dt.UTC)
    for minutes in range(4):
        done = deliver(
            store, FileBackend(tmp_path / "mail"), mail, now + dt.timedelta(minutes=minutes)
        )
        assert done.sent == 0 and done.retried == 0 and done.failed == 0
    time.sleep(3)
    assert len(received) == 1
    with store.reading() as read:
        (message,) = read.messages_in("claimed")
    assert "may have arrived" in (message.last_error or "")


def test_rcpt_550_is_permanent_and_outbox_send_exits_non_zero(tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller

    from .test_alerts import smtp_server

    class NoSuchMailbox:
        async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                              options: Any) -> str:  # fmt: skip
            return "550 5.1.1 No such user"

    assert Controller  # the real aiosmtpd server of the other SMTP tests
    with smtp_server(NoSuchMailbox()) as port:
        config = tmp_path / "config.toml"
        config.write_text(
            f'[database]\nurl = "sqlite:///{tmp_path / "r.db"}"\n'
            f'[mail]\nbackend = "smtp"\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\n'
            'security = "none"\nmax_attempts = 5\n'
        )
        store = Store.open(f"sqlite:///{tmp_path / 'r.db'}")
        _one_message(store, "nobody@example.org")
        result = CliRunner().invoke(cli, ["--config", str(config), "outbox", "--send"])
    assert result.exit_code == 1
    assert "sent 0, retrying 0, failed 1, uncertain 0" in result.output
    assert result.stderr.strip() == "Error: 1 failed, 0 uncertain: see `regtrack outbox`"
    with store.reading() as read:
        (failed,) = read.messages_in("failed")
    assert failed.attempts == 1 and "550" in (failed.last_error or "")


def _peak_kib(code: str) -> tuple[int, str]:
    """Run `code` in a fresh Python; its peak memory (KiB) and stderr. The peak is the
    process's own high-water mark (VmHWM): Linux carries ru_maxrss across fork and exec, so a
    child of a large pytest would report pytest's size."""
    probe = code + (
        "\nprint(next(line.split()[1] for line in open('/proc/self/status')"
        " if line.startswith('VmHWM:')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    return int(done.stdout.split()[-1]), done.stderr


@pytest.mark.parametrize("kind", ["text", "docx", "pdf"])
def test_check_reads_a_hostile_document_within_bounds(tmp_path: Path, kind: str) -> None:
    """A 200 MB text file, a DOCX zip bomb, a PDF flate bomb: one clear line, and the
    process stays small (before: MemoryError at 2.9 GB, 2.1 GB, 2.1 GB accepted)."""
    import zipfile
    import zlib

    path = tmp_path / f"bomb.{kind if kind != 'text' else 'txt'}"
    if kind == "text":
        with path.open("wb") as out:
            for _ in range(200):
                out.write(b"Selinexor is authorised in the EU. " * 30_000)
    elif kind == "docx":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("[Content_Types].xml", "<Types/>")
            with archive.open("word/document.xml", "w") as member:
                for _ in range(1024):
                    member.write(b" " * (1 << 20))  # 1 GiB of spaces, about 1 MB packed
    else:
        packer = zlib.compressobj(9)
        block = b"0 0 m " * (1 << 18)
        packed = b"".join(packer.compress(block) for _ in range(700)) + packer.flush()
        path.write_bytes(
            b"%PDF-1.4\n1 0 obj\n<< /Length " + str(len(packed)).encode()
            + b" /Filter /FlateDecode >>\nstream\n" + packed + b"\nendstream\nendobj\n%%EOF\n"
        )  # fmt: skip
    code = (
        "from regtrack.documents import read, text_of\n"
        "from regtrack.errors import InputError\n"
        f"try:\n    text_of(*read(__import__('pathlib').Path({str(path)!r})))\n"
        "except InputError as err:\n    print(err, file=__import__('sys').stderr)\n"
    )
    peak, said = _peak_kib(code)
    assert said.strip() and "\n" not in said.strip() and "Traceback" not in said, said
    assert str(path.name) in said and ("limit" in said or "over" in said)
    assert peak < 400 * 1024, f"peak {peak / 1024:.0f} MiB"


def test_a_document_url_never_reaches_a_private_address_unasked(httpserver: Any) -> None:
    """`check URL` and [[documents]] URLs: a loopback, private or link-local target is refused,
    on the first request and on every redirect hop, unless [fetch] private_hosts names it."""
    from regtrack.config import FetchConfig
    from regtrack.errors import FetchError
    from regtrack.fetch import Fetcher

    httpserver.expect_request("/doc.txt").respond_with_data("Selinexor is authorised.")
    url = httpserver.url_for("/doc.txt")
    plain = Fetcher(FetchConfig(robots_txt=False, min_interval_seconds=0, retries=0))
    with pytest.raises(FetchError, match=r"non-public address \(127\.0\.0\.1\)"):
        plain.get("documents", url, public_only=True)
    for target in ("http://169.254.169.254/latest/meta-data/", "http://10.1.2.3/x",
                   "http://[::1]/x"):  # fmt: skip
        with pytest.raises(FetchError, match="non-public address"):
            plain.get("documents", target, public_only=True)
    allowed = Fetcher(
        FetchConfig(
            robots_txt=False, min_interval_seconds=0, retries=0, private_hosts=["localhost"]
        )
    )
    # A redirect from an allowed host to one that is not is refused at the hop.
    httpserver.expect_request("/hop").respond_with_data(
        "", status=302, headers={"Location": "http://127.0.0.1:9/elsewhere"}
    )
    hop = f"http://localhost:{httpserver.port}/hop"
    with pytest.raises(FetchError, match="non-public address"):
        allowed.get("documents", hop, public_only=True)
    document = allowed.get("documents", f"http://localhost:{httpserver.port}/doc.txt",
                           public_only=True)  # fmt: skip
    assert document is not None and document.content == b"Selinexor is authorised."


def test_the_documents_page_fetches_nothing_on_a_get(tmp_path: Path, httpserver: Any) -> None:
    """The web page shows each watched document as the daemon last checked it."""
    from fastapi.testclient import TestClient

    from regtrack.config import load
    from regtrack.web import create_app

    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "r.db"}"\n'
        f'[[documents]]\nurl = "{httpserver.url_for("/leaflet.txt")}"\nowner = "a@example.org"\n'
    )
    app = create_app(load(config, env={}), Store.open(f"sqlite:///{tmp_path / 'r.db'}"))
    page = TestClient(app).get("/documents")
    assert page.status_code == 200 and "not checked yet" in page.text
    assert httpserver.log == []  # nothing was fetched
    # The daemon's watch round checks it (a loopback URL: refused, and stored as such);
    # the page then shows that stored check, still fetching nothing itself.
    sent = CliRunner().invoke(cli, ["--config", str(config), "documents", "--send"])
    assert "non-public address" in sent.output
    again = TestClient(app).get("/documents")
    assert "Cannot check:" in again.text and "non-public address" in again.text
    assert "not checked yet" not in again.text and httpserver.log == []


@pytest.mark.parametrize("text", ["", "# nobody yet\n\n   \n"])
def test_a_users_file_without_an_account_refuses_to_start(tmp_path: Path, text: str) -> None:
    """An empty users file used to turn authentication off: the page open to anyone."""
    from regtrack.errors import ConfigError
    from regtrack.web.security import users

    path = tmp_path / "users"
    path.write_text(text)
    with pytest.raises(ConfigError, match="holds no account"):
        users(str(path), environ={})


def test_the_last_date_there_is_is_a_filter_not_a_500(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from regtrack.config import Config
    from regtrack.web import create_app

    app = create_app(Config(), Store.open(f"sqlite:///{tmp_path / 'r.db'}"))
    client = TestClient(app)
    assert client.get("/api/events?until=9999-12-31").status_code == 200
    assert client.get("/events?until=9999-12-31").status_code == 200


def test_basic_auth_costs_the_same_for_unknown_users_and_runs_off_the_loop(tmp_path: Path) -> None:
    """Which users exist is not visible from how long a refusal takes; a known user's right
    password is hashed once, then remembered."""
    import base64
    import statistics
    import time

    from fastapi.testclient import TestClient

    from regtrack.config import Config
    from regtrack.web import create_app
    from regtrack.web.security import hash_password

    users = tmp_path / "users"
    users.write_text(f"ops:{hash_password('right')}\n")
    config = Config.model_validate({"web": {"users_file": str(users)}})
    client = TestClient(create_app(config, Store.open(f"sqlite:///{tmp_path / 'r.db'}")))

    def timed(user: str, password: str) -> tuple[int, float]:
        header = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        started = time.perf_counter()
        status = client.get("/api/status", headers={"Authorization": header}).status_code
        return status, time.perf_counter() - started

    unknown, known = [], []
    for _ in range(5):  # interleaved, so a busy machine slows both alike
        unknown.append(timed("nobody", "x"))
        known.append(timed("ops", "wrong"))
    assert {s for s, _ in unknown + known} == {401}
    ratio = statistics.median(t for _, t in unknown) / statistics.median(t for _, t in known)
    # Before: 9 ms against 375 ms (0.02). Equal work, whatever the machine's load.
    assert 0.33 < ratio < 3, f"unknown/known refusal time {ratio:.2f}"
    first = timed("ops", "right")
    again = timed("ops", "right")
    assert first[0] == again[0] == 200 and again[1] < first[1] / 3


def test_hostile_characters_in_a_name_never_reach_a_terminal_a_feed_or_a_workbook(
    tmp_path: Path,
) -> None:
    """ESC, BEL, a lone CR, a bidi override and the noncharacters U+FFFE/U+FFFF in a product
    name: neutralised in what `poll` prints (a real process, as cron runs it), stripped from
    what is stored, so the Atom feed is XML and `events --format xlsx` a workbook."""
    import json
    from xml.etree import ElementTree

    data = json.loads((DATA / "report_2024-11-21.json").read_text())
    for row in data["data"]:
        if row["name_of_medicine"] == "Thetarin":
            row["name_of_medicine"] = "Thetarin\x1b[2J\x07\rFORGED LINE\u202eniraht\uffff\ufffe"
    report = tmp_path / "hostile.json"
    report.write_text(json.dumps(data))
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "r.db"}"\n'
        "[sources.ema]\nmin_rows = 5\nmax_vanished_fraction = 0.2\nnews_window_days = 0\n"
    )
    regtrack = [sys.executable, "-m", "regtrack", "--config", str(config)]
    first = subprocess.run([*regtrack, "poll", "ema", "--from-file", str(DATA / "report_2024-09-01.json")],
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    assert first.returncode == 0, first.stderr
    polled = subprocess.run([*regtrack, "poll", "ema", "--from-file", str(report)],
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert polled.returncode == 0, polled.stderr
    assert "Thetarin" in polled.stdout
    for bad in ("\x1b", "\x07", "\u202e", "\uffff", "\ufffe"):
        assert bad not in polled.stdout + polled.stderr
    assert "\r" not in polled.stdout.replace("\r\n", "\n")
    feed = subprocess.run([*regtrack, "feed"], capture_output=True, text=True, timeout=120)
    assert feed.returncode == 0, feed.stderr
    ElementTree.fromstring(feed.stdout.encode())  # well-formed XML
    book = tmp_path / "events.xlsx"
    with book.open("wb") as out:
        done = subprocess.run([*regtrack, "events", "--format", "xlsx"], stdout=out,
                              stderr=subprocess.PIPE, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    import openpyxl

    names = [row[4] for row in openpyxl.load_workbook(book).active.iter_rows(values_only=True)]
    assert "Thetarin[2JFORGED LINEniraht" in names  # the controls gone, the text kept


def test_a_job_waits_for_the_write_lock_or_fails_as_health_never_crashes(tmp_path: Path) -> None:
    """While another process holds SQLite's write lock (a register's first load), a job's
    claim and release wait their turn; still locked after every turn, the run is a failure
    (tried again sooner), never an exception in the scheduler."""
    import datetime as dt
    import sqlite3
    import threading
    import time

    from apscheduler.triggers.interval import IntervalTrigger

    from regtrack import daemon
    from regtrack.schedule import Job, JobResult

    path = tmp_path / "r.db"
    store = Store.open(f"sqlite:///{path}?timeout=0.3")
    runs: list[str] = []
    job = Job("poll:ema", IntervalTrigger(hours=1), lambda: runs.append("ran") or JobResult("done"),
              dt.timedelta(hours=1), dt.timedelta(minutes=1))  # fmt: skip
    runner = daemon.Runner(store)

    def hold(seconds: float) -> threading.Event:
        taken = threading.Event()

        def run() -> None:
            other = sqlite3.connect(path, isolation_level=None)
            other.execute("BEGIN IMMEDIATE")
            taken.set()
            time.sleep(seconds)
            other.execute("ROLLBACK")
            other.close()

        threading.Thread(target=run, daemon=True).start()
        taken.wait(5)
        return taken

    hold(1.0)  # shorter than the job's turns (10 x 0.3 s): it waits, then runs
    result = runner.run(job, dt.datetime.now(dt.UTC))
    assert result is not None and result.ok and runs == ["ran"]
    hold(6.0)  # longer than all its turns: a failure, said as such
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    result = runner.run(job, later)
    assert result is not None and not result.ok and "database busy" in str(result)
    assert runs == ["ran"]


def test_a_full_disk_is_one_line_naming_the_database_and_loses_nothing(tmp_path: Path) -> None:
    """SQLite says "database or disk is full" in the middle of a register's bulk insert (here
    a page limit stands for the disk): one StoreError naming the database, and what was
    stored before is still there."""
    from sqlalchemy import event

    from regtrack.poll import poll
    from regtrack.sources.fda import FDA

    from .test_fda import RELEASE_1, config, release

    path = tmp_path / "r.db"
    store = Store.open(f"sqlite:///{path}")
    poll(store, __import__("regtrack.sources.ema", fromlist=["EMAReport"]).EMAReport.from_config(
        __import__("regtrack.config", fromlist=["Config"]).Config.model_validate(
            {"sources": {"ema": {"min_rows": 5, "max_vanished_fraction": 0.2}}})),
        None, from_file=DATA / "report_2024-09-01.json")  # fmt: skip
    before = len(store.events())
    pages = path.stat().st_size // 4096 + 3
    event.listen(store.engine, "connect",
                 lambda conn, _r: conn.execute(f"PRAGMA max_page_count={pages}"))  # fmt: skip
    store.engine.dispose()
    with pytest.raises(StoreError) as caught:
        poll(store, FDA.from_config(config()), None, from_file=release(tmp_path, RELEASE_1))
    message = str(caught.value)
    assert "\n" not in message and f"SQLite file {path}" in message and "full" in message
    store.engine.dispose()
    assert len(Store.open(f"sqlite:///{path}").events()) == before


def test_outbox_resend_sends_that_one_message_again_and_names_a_missing_one(
    tmp_path: Path,
) -> None:
    """`outbox --resend N` reads message N alone, hands it to the mail backend (files here),
    marks it sent; an id the outbox does not hold is one line, exit 1."""
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "r.db"}"\n'
        f'[mail]\nbackend = "file"\ndirectory = "{tmp_path / "mail"}"\n'
    )
    store = Store.open(f"sqlite:///{tmp_path / 'r.db'}")
    number = _one_message(store, "lead@example.org")
    result = CliRunner().invoke(cli, ["--config", str(config), "outbox", "--resend", str(number)])
    assert result.exit_code == 0, result.output
    assert f"message {number} sent again" in result.output
    (written,) = (tmp_path / "mail").rglob("*.eml")
    assert b"lead@example.org" in written.read_bytes()
    with store.reading() as read:
        message = read.message(number)
    assert message is not None and message.state == "sent" and message.attempts == 1

    missing = CliRunner().invoke(cli, ["--config", str(config), "outbox", "--resend", "999"])
    assert missing.exit_code == 1
    assert missing.stderr.strip() == "Error: no message 999 in the outbox"
