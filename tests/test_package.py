"""Installed as users install it: the wheel in a fresh virtual environment, run elsewhere."""

from __future__ import annotations

import email
import os
import subprocess
import sys
import sysconfig
import venv
from email import policy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_wheel_installed_in_a_fresh_venv_runs_demo_html_and_digest(tmp_path: Path) -> None:
    # Build the wheel from this checkout with the setuptools the dev install brought.
    wheels = tmp_path / "wheels"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", wheels, ROOT, cwd=tmp_path)  # fmt: skip
    (wheel,) = wheels.glob("regtrack-*.whl")

    # A fresh venv with only the wheel; its dependencies are those of this environment,
    # reached by a path file (the editable checkout's own path files are not read from there).
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index",
         "-q", wheel, cwd=tmp_path)  # fmt: skip
    site = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                cwd=tmp_path).strip()  # fmt: skip
    (Path(site) / "regtrack-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGTRACK_", "PYTHON"))}
    where = _run(python, "-c", "import regtrack; print(regtrack.__file__)", cwd=elsewhere, env=env)
    assert where.startswith(site), where  # the wheel's copy, not this checkout

    regtrack = env_dir / "bin" / "regtrack"
    out = _run(regtrack, "demo", cwd=elsewhere, env=env)
    assert "cycle 2:" in out and "EMA   Nexpovio full authorisation since 2022-07-18" in out
    mails = [
        email.message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in (elsewhere / "regtrack-demo" / "mail").glob("*.eml")
    ]
    digest = next(m for m in mails if "digest" in str(m["Subject"]))
    text, html = digest.get_body(("plain",)), digest.get_body(("html",))
    assert text is not None and "conversion to full authorisation" in text.get_content()
    assert html is not None and "<html" in html.get_content()

    config = elsewhere / "regtrack-demo" / "config.toml"
    page = _run(regtrack, "--config", config, "timeline", "selinexor", "--format", "html",
                cwd=elsewhere, env=env)  # fmt: skip
    assert page.lstrip().startswith("<!DOCTYPE html>") and "<svg" in page
    # A message composed now from the wheel's own templates, through the demo's file backend.
    before = set((elsewhere / "regtrack-demo" / "mail").glob("*.eml"))
    _run(
        regtrack, "--config", config, "digest", "--test", "you@example.org", cwd=elsewhere, env=env
    )
    (sent,) = set((elsewhere / "regtrack-demo" / "mail").glob("*.eml")) - before
    test = email.message_from_bytes(sent.read_bytes(), policy=policy.default)
    body = test.get_body(("plain",))
    assert body is not None and "This is a test message from regtrack" in body.get_content()
