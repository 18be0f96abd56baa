"""Lint, format and type checks run with the tests, so `pytest` is the one command for all."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CHECKS = {
    "ruff check": [sys.executable, "-m", "ruff", "check", "."],
    "ruff format": [sys.executable, "-m", "ruff", "format", "--check", "."],
    "mypy": [sys.executable, "-m", "mypy"],
    # The import contracts in pyproject.toml: sources independent, the layers in order.
    "import contracts": [
        sys.executable,
        "-c",
        "from importlinter.cli import lint_imports_command as c; c()",
    ],
}


@pytest.mark.checks
@pytest.mark.parametrize("name", sorted(CHECKS))
def test_static_checks_pass(name: str) -> None:
    module = "importlinter" if name == "import contracts" else CHECKS[name][2]
    if (
        shutil.which(module) is None
        and subprocess.run(
            [sys.executable, "-c", f"import {module}"], capture_output=True
        ).returncode
    ):
        pytest.fail(f"{module} is not installed: install the project with its dev extra")
    proc = subprocess.run(CHECKS[name], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout}\n{proc.stderr}"
