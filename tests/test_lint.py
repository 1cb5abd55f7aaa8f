"""`ruff check .` and `mypy` (configured in pyproject.toml: strict on
contract/ and model/) are clean.  Without the tools installed the test
skips, except in CI (CI set, e.g. CI=true), where a missing tool is a failure."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(module: str, *args: str) -> None:
    if importlib.util.find_spec(module) is None:
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):  # as conftest.require_target
            pytest.fail(f"{module} is not installed (requirements.txt pins it)")
        pytest.skip(f"{module} is not installed here")
    r = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, f"{module} {' '.join(args)}:\n{r.stdout[-6000:]}{r.stderr[-2000:]}"


def test_ruff() -> None:
    _run("ruff", "check", ".")


def test_mypy() -> None:
    _run("mypy")
