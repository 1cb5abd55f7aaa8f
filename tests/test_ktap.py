"""The --ktap output of a real pytest run is valid KTAP and says what
happened: each kind of result, the failure's message, the skip's reason;
also under pytest-xdist, where only the controller writes."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.ktap import validate

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("xdist", [["-p", "no:xdist"], ["-n", "2"]])
def test_ktap_of_a_run(tmp_path, xdist):
    out = tmp_path / "run.ktap"
    r = subprocess.run([sys.executable, "-m", "pytest", "tests/data/ktap_sample.py", "-q", *xdist,
                        "--ktap", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 1, r.stdout[-2000:]  # one test fails on purpose
    text = out.read_text()
    assert validate(text) == [], text
    lines = text.splitlines()
    assert lines[:2] == ["TAP version 13", "1..1"]  # kselftest's top level (tappy wants the plan there)
    # tests are numbered by name, whatever order xdist ran them in
    assert "    not ok 1 test_fails" in lines
    assert "    ok 4 test_passes" in lines
    assert any("the diff line a developer needs" in l and l.startswith("    # ") for l in lines)
    assert "    ok 5 test_skips # SKIP the kernel lacks the feature" in lines
    assert "    ok 2 test_param[1]" in lines and "    ok 3 test_param[2]" in lines
    assert "not ok 1 execspec.ktap_sample" in lines
    assert lines[-1] == "# Totals: pass:3 fail:1 xfail:0 xpass:0 skip:1 error:0"


def test_validator_catches_errors():
    assert validate("KTAP version 1\n1..2\nok 1 a\n")
    assert validate("KTAP version 1\n1..1\nok 2 a\n")
    assert validate("KTAP version 1\n1..1\n  ok 1 a\n")
    assert validate("1..1\nok 1 a\n")
    assert validate("TAP version 13\n1..1\n    TAP version 13\n    1..1\n    ok 1 x\nok 1 s\n")
    assert not validate("TAP version 13\n1..1\n# h\n    KTAP version 1\n    1..1\n    ok 1 x\nok 1 s\n")
    assert not validate("KTAP version 1\n1..1\n    KTAP version 1\n    1..1\n    ok 1 x # SKIP r\nok 1 s\n")
