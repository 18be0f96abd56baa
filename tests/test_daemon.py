"""The daemon: schedules, leases across servers, --once, clean stop, kill -9 and restart."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from regtrack import schedule
from regtrack.config import load
from regtrack.daemon import Runner
from regtrack.model import utcnow
from regtrack.schedule import Job, JobResult
from regtrack.store import Store

from .conftest import POSTGRES_URL

DATA = Path(__file__).parent / "data" / "ema"

CONFIG = """
[database]
url = "{db}"
[fetch]
min_interval_seconds = 0
robots_txt = false
timeout_seconds = 10
[sources.ema]
url = "{url}"
min_rows = 5
max_vanished_fraction = 0.2
follow_pages = "none"
interval_hours = {hours}
[sources.fda]
enabled = false
[sources.mhra]
enabled = false
[sources.nice]
enabled = false
[sources.smc]
enabled = false
[mail]
directory = "{mail}"
[daemon]
spread_seconds = 0
immediate_minutes = 60
"""


def write_config(tmp_path: Path, url: str, db: str, hours: float = 12) -> Path:
    path = tmp_path / "daemon.toml"
    path.write_text(CONFIG.format(db=db, url=url, hours=hours, mail=tmp_path / "mail"))
    return path


def regtrack(config: Path, *args: str, **kw: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "regtrack", "--config", str(config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def counting(httpserver: HTTPServer, delay: float = 0.0) -> list[float]:
    hits: list[float] = []
    body = (DATA / "report_2024-09-01.json").read_bytes()

    def handler(request: Request) -> Response:
        hits.append(time.monotonic())
        time.sleep(delay)
        return Response(body, content_type="application/json")

    httpserver.expect_request("/report.json").respond_with_handler(handler)
    return hits


def test_default_schedule() -> None:
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    from regtrack import sources
    from regtrack.alerts import Alerts
    from regtrack.emails import Renderer
    from regtrack.fetch import Fetcher
    from regtrack.mail import FileBackend

    config = load(Path(__file__).resolve().parent.parent / "config.toml", env={})
    store = Store.open("sqlite://")
    jobs = {
        j.id: j
        for j in schedule.jobs(
            config,
            store,
            sources.enabled(config),
            Fetcher(config.fetch),
            Alerts(config, store, Renderer()),
            FileBackend(Path("/nonexistent")),
        )
    }
    assert set(jobs) == {
        "ema",
        "fda",
        "fda-openfda",
        "mhra",
        "nice",
        "smc",
        "digest-immediate",
        "digest-daily",
        "digest-weekly",
        "outbox",
    }
    assert isinstance(jobs["ema"].trigger, IntervalTrigger) and jobs["ema"].period == dt.timedelta(
        hours=12
    )
    assert isinstance(jobs["fda"].trigger, CronTrigger) and "wed" in str(jobs["fda"].trigger)
    assert isinstance(jobs["digest-daily"].trigger, CronTrigger)


def test_smc_is_read_daily_in_its_publication_week_only() -> None:
    from regtrack.config import Config
    from regtrack.sources.smc import SMC

    (schedule,) = SMC.from_config(Config()).schedules()
    skip = schedule.skip
    assert skip is not None and schedule.cron == {"hour": 10, "minute": 30}
    # November 2026: second Monday is the 9th.
    assert not skip(dt.datetime(2026, 11, 9, tzinfo=dt.UTC)) and not skip(
        dt.datetime(2026, 11, 13, tzinfo=dt.UTC)
    )
    assert skip(dt.datetime(2026, 11, 18, tzinfo=dt.UTC))  # a Wednesday of another week
    assert not skip(dt.datetime(2026, 11, 16, tzinfo=dt.UTC))  # but every Monday


def test_a_lease_runs_a_job_on_one_server_only(store: Store) -> None:
    from apscheduler.triggers.interval import IntervalTrigger

    ran: list[str] = []
    job = Job(
        "ema",
        IntervalTrigger(hours=12),
        lambda: JobResult("ok", fields={"x": ran.append("x")}),
        dt.timedelta(hours=12),
        dt.timedelta(hours=6),
    )
    a, b = Runner(store, "alpha:1"), Runner(store, "beta:2")
    now = utcnow()
    with store.transaction() as tx:  # server beta holds the lease right now
        assert tx.claim_job("ema", "beta:2", now, dt.timedelta(hours=2), now)
    assert a.run(job, now) is None and ran == []
    with store.transaction() as tx:
        tx.release_job("ema", "beta:2", now, "ok")
    assert a.run(job, now - dt.timedelta(hours=6)) is None  # beta started it just now
    assert b.once([job]) == [("ema", None)]  # not due for another 12 hours
    result = a.run(job, utcnow())  # due: runs here, once
    assert result is not None and result.ok and str(result) == "ok" and ran == ["x"]


def test_run_once_then_nothing_is_due(httpserver: HTTPServer, tmp_path: Path) -> None:
    hits = counting(httpserver)
    config = write_config(
        tmp_path, httpserver.url_for("/report.json"), f"sqlite:///{tmp_path / 'd.db'}"
    )
    first = regtrack(config, "run", "--once")
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert out == ""  # every line is a log line, on stderr, once
    assert err.count("INFO ema: 1 documents, 0 new events") == 1 and len(hits) == 1
    second = regtrack(config, "run", "--once")
    out, err = second.communicate(timeout=120)
    assert second.returncode == 0 and len(hits) == 1
    assert "INFO ema: not due" in err and "INFO ema: 1 documents" not in err


def test_sigterm_stops_cleanly(httpserver: HTTPServer, tmp_path: Path) -> None:
    hits = counting(httpserver)
    config = write_config(
        tmp_path, httpserver.url_for("/report.json"), f"sqlite:///{tmp_path / 'd.db'}"
    )
    process = regtrack(config, "run", "--log-format", "json")
    try:
        _wait_for(lambda: len(hits) >= 1, 60)
        time.sleep(1)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, err
    lines = err.strip().splitlines()
    assert '"message": "regtrack daemon stopped"' in lines[-1]
    assert any('"job": "ema"' in line and "1 documents" in line for line in lines)
    store = Store.open(f"sqlite:///{tmp_path / 'd.db'}")
    assert len(store.events()) == 15  # with Alphamab's expected Commission decision


def test_kill_9_mid_poll_loses_nothing_and_restart_resumes(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    hits = counting(httpserver, delay=3)
    config = write_config(
        tmp_path, httpserver.url_for("/report.json"), f"sqlite:///{tmp_path / 'd.db'}"
    )
    process = regtrack(config, "run")
    _wait_for(lambda: len(hits) >= 1, 60)
    os.kill(process.pid, signal.SIGKILL)  # in the middle of fetching the report
    process.communicate(timeout=30)
    again = regtrack(config, "run", "--once")
    _, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert "freed the lease of a process that died" in err
    assert "ema: 1 documents, 0 new events" in err
    store = Store.open(f"sqlite:///{tmp_path / 'd.db'}")
    events = store.events()
    assert len(events) == 15 and len({(e.reference, e.discriminator) for e in events}) == 15


@pytest.fixture
def postgres_url() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip("REGTRACK_TEST_POSTGRES_URL is not set: the two-server test needs PostgreSQL")
    import psycopg

    schema = f"rt_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_two_servers_share_one_postgres_database(
    httpserver: HTTPServer, tmp_path: Path, postgres_url: str
) -> None:
    hits = counting(httpserver, delay=1)
    Store.open(postgres_url).close()  # the schema exists before both start
    config = write_config(
        tmp_path, httpserver.url_for("/report.json"), postgres_url, hours=0.01
    )  # every 36 s
    servers = [regtrack(config, "run"), regtrack(config, "run")]
    try:
        _wait_for(lambda: len(hits) >= 1, 60)
        time.sleep(8)  # both have fired their jobs by now
        for server in servers:
            server.send_signal(signal.SIGTERM)
        logs = [s.communicate(timeout=60)[1] for s in servers]
    finally:
        for server in servers:
            server.kill()
    assert all(s.returncode == 0 for s in servers), logs
    assert len(hits) == 1  # one server fetched the report; the other saw the lease or the gap
    ran = [log for log in logs if "ema: 1 documents" in log]
    assert len(ran) == 1 and any(
        "ema: not due, or running on another server" in log for log in logs
    )
    store = Store.open(postgres_url)
    assert len(store.events()) == 15  # with Alphamab's expected Commission decision
    with store.transaction() as tx:
        jobs = tx.jobs()
    assert jobs["ema"].last_status == "ok" and jobs["digest-immediate"].last_status == "ok"


def _wait_for(condition: Any, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.1)


def test_run_once_exits_non_zero_when_a_job_failed_and_logs_it_once_as_json(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    httpserver.expect_request("/report.json").respond_with_data("busy", status=503)
    config = write_config(
        tmp_path, httpserver.url_for("/report.json"), f"sqlite:///{tmp_path / 'd.db'}"
    )
    config.write_text(
        config.read_text().replace("timeout_seconds = 10", "timeout_seconds = 10\nretries = 0")
    )
    process = regtrack(config, "run", "--once", "--log-format", "json")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 1 and out == ""
    lines = [json.loads(line) for line in err.splitlines()]
    (ema,) = [line for line in lines if line.get("job") == "ema"]
    assert ema["level"] == "WARNING" and ema["status"] == "failed"
    assert ema["source"] == "ema" and ema["documents"] == 1 and ema["failed"] == 1
    assert "HTTP 503" in ema["error"]
    # The other jobs ran all the same, and succeeded.
    assert {line["job"] for line in lines if line.get("status") == "ok"} >= {"digest-immediate"}


def test_a_crashing_job_is_logged_and_the_others_still_run(store: Store) -> None:
    from apscheduler.triggers.interval import IntervalTrigger

    def crash() -> JobResult:
        raise RuntimeError("a bug")

    every = dt.timedelta(hours=1)
    jobs = [
        Job("broken", IntervalTrigger(hours=1), crash, every, every / 2),
        Job("fine", IntervalTrigger(hours=1), lambda: JobResult("done"), every, every / 2),
    ]
    results = dict(Runner(store, "host:1").once(jobs))
    assert results["broken"] is not None and not results["broken"].ok
    assert "a bug" in str(results["broken"])
    assert results["fine"] is not None and results["fine"].ok


def test_a_restart_with_its_predecessors_pid_frees_the_dead_lease(store: Store) -> None:
    """Restarted as a container's PID 1, the daemon has its dead predecessor's pid: the
    lease the predecessor held is freed, not taken for a live one."""
    import socket

    host, pid = socket.gethostname(), os.getpid()
    now = utcnow()
    with store.transaction() as tx:  # the predecessor, same host and pid, another instance
        assert tx.claim_job("ema", f"{host}:{pid}:dead0000", now, dt.timedelta(hours=2), now)
    runner = Runner(store)
    assert runner.owner.startswith(f"{host}:{pid}:") and not runner.owner.endswith("dead0000")
    with store.transaction() as tx:
        ema = tx.jobs()["ema"]
    assert ema.lease_until is None and ema.last_status == "interrupted"


def test_a_failed_poll_is_tried_again_sooner_than_its_interval(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    """A daily feed that fails at 09:00 is tried again within minutes, with longer waits
    after each failure, never past its next regular run; a success ends the retries."""
    from apscheduler.schedulers.background import BackgroundScheduler

    from regtrack.fetch import Fetcher
    from regtrack.sources import enabled

    answers = iter([Response("down", status=404), Response("down", status=404)])
    body = (DATA / "report_2024-09-01.json").read_bytes()
    httpserver.expect_request("/report.json").respond_with_handler(
        lambda _r: next(answers, None) or Response(body, content_type="application/json")
    )
    config = load(
        write_config(
            tmp_path, httpserver.url_for("/report.json"), f"sqlite:///{tmp_path / 'd.db'}", 24
        )
    )
    store = Store.open(config.database.url)
    (source,) = enabled(config)
    (job,) = schedule.source_jobs(store, source, Fetcher(config.fetch))
    assert job.retry == schedule.POLL_RETRY
    scheduler = BackgroundScheduler(timezone=dt.UTC)
    scheduler.start(paused=True)  # jobs are planned, not run: the test runs them
    runner = Runner(store)
    run = runner.scheduled(job, scheduler)

    run()  # fails
    retry = scheduler.get_job("ema:retry")
    assert retry is not None
    wait = retry.trigger.run_date - utcnow()
    assert dt.timedelta(minutes=4) < wait <= dt.timedelta(minutes=5)
    retry.func()  # the retry fails too: the next wait is longer
    wait = scheduler.get_job("ema:retry").trigger.run_date - utcnow()
    assert dt.timedelta(minutes=14) < wait <= dt.timedelta(minutes=15)
    scheduler.get_job("ema:retry").func()  # succeeds
    assert runner.failures["ema"] == 0 and store.events()
    # Never past the next regular run: after a 3 h delay on an hourly job, no retry at all.
    hourly = schedule.Job("h", schedule.IntervalTrigger(hours=1), job.run, None, job.gap, job.retry)
    assert schedule.retry_at(hourly, 4, utcnow()) is None
    assert schedule.retry_at(hourly, 1, utcnow()) is not None
    assert schedule.retry_at(replace_retry(job), 1, utcnow()) is None
    scheduler.shutdown(wait=False)


def replace_retry(job: Job) -> Job:
    from dataclasses import replace

    return replace(job, retry=())
