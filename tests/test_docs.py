"""The documentation: the site builds, its examples print what they show, its layout is the
import contract's (as sqlite-utils' `test_docs.py`).

An example is a fenced block whose lines start `$ regtrack --config regtrack-demo/config.toml`:
each command runs against the store `regtrack demo` leaves, and prints exactly the lines
shown under it (the demo server's port written PORT).
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from regtrack.cli import cli

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PREFIX = "$ regtrack --config regtrack-demo/config.toml "


def examples() -> Iterator[tuple[str, str, str]]:
    """(page, command, output shown) of every example."""
    for page in PAGES:
        blocks = re.findall(r"^```text\n(.*?)^```", page.read_text(), flags=re.M | re.S)
        for block in blocks:
            if not block.startswith(PREFIX):
                continue
            for chunk in re.split(r"^(?=\$ )", block, flags=re.M):
                command, _, shown = chunk.partition("\n")
                if command:
                    yield page.name, command.removeprefix(PREFIX), shown


EXAMPLES = list(examples())


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("docs") / "regtrack-demo"
    result = CliRunner().invoke(cli, ["demo", "--dir", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


def test_the_pages_hold_examples() -> None:
    assert len(EXAMPLES) >= 5
    assert {page for page, _, _ in EXAMPLES} >= {"README.md"}


@pytest.mark.parametrize(("page", "command", "shown"), EXAMPLES,
                         ids=[f"{p}:{c[:40]}" for p, c, _ in EXAMPLES])  # fmt: skip
def test_an_example_prints_what_it_shows(
    demo: Path, page: str, command: str, shown: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("COLUMNS", "120")
    args = ["--config", str(demo / "config.toml"), *shlex.split(command)]
    result = CliRunner().invoke(cli, args)
    printed = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", result.output)
    printed = printed.replace(str(demo), "regtrack-demo")
    lines = [line.rstrip() for line in printed.rstrip("\n").split("\n")]
    assert lines == [line.rstrip() for line in shown.rstrip("\n").split("\n")], printed


def test_the_layout_page_lists_the_import_contracts_layers() -> None:
    """The layers on the Layout page are the import-linter contract's, in its order."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    page = (ROOT / "docs" / "layout.md").read_text()
    (block,) = re.findall(r"<!-- layers -->\n```text\n(.*?)```", page, flags=re.S)
    assert [line.strip() for line in block.strip().split("\n")] == layers


@pytest.mark.skipif(shutil.which("mkdocs") is None and not (Path(sys.executable).parent / "mkdocs").exists(),
                    reason="mkdocs is not installed (pip install -e '.[dev]')")  # fmt: skip
def test_the_docs_site_builds_without_a_warning(tmp_path: Path) -> None:
    mkdocs = shutil.which("mkdocs") or str(Path(sys.executable).parent / "mkdocs")
    done = subprocess.run(
        [mkdocs, "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "check" / "index.html").exists()
