"""Delta debugging past Hypothesis' shrinking (harness/minimise.py), the
comparison the reproducer compiles (accepted_forms), and `harness
bug-report` read as a mail would be."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import model
from contract.case import Case, Exec, File, accepted_forms, canonical_outcome, diff_outcomes
from harness.minimise import ddmin, minimise
from harness.targets.model_target import ModelTarget

ROOT = Path(__file__).resolve().parent.parent


def test_ddmin_finds_the_two_that_matter():
    calls = []

    def test(xs):
        calls.append(xs)
        return 3 in xs and 7 in xs
    assert ddmin(list(range(10)), test) == [3, 7]
    assert len(calls) < 40


def test_minimise_drops_what_changes_nothing():
    """Against a 6.18 'target' a 5.10 profile disagrees on argc == 0 only:
    the unused files, the env entry and nothing else go."""
    case = Case(files=(File(path=b"/p", type="probe", mode=0o755, tag="P"),
                       File(path=b"/unused", type="probe", mode=0o755, tag="U"),
                       File(path=b"/d", type="dir", mode=0o755)),
                exec=Exec(path=b"/p", argv=(), envp=(b"A=1", b"B=2")))
    small = minimise(case, ModelTarget("6.18"), model.profile("5.10.0"))
    assert [f.path for f in small.files] == [b"/p"]
    assert small.exec.envp == () and small.exec.argv == ()


def test_minimise_keeps_an_agreeing_case():
    case = Case(files=(File(path=b"/p", type="probe", mode=0o755, tag="P"),),
                exec=Exec(path=b"/p", argv=(b"p",), envp=(b"A=1",)))
    assert minimise(case, ModelTarget("6.18"), model.profile("6.18")) is case


@pytest.mark.parametrize("expected,observed", [
    ({"outcome": "exit"}, {"outcome": "exit", "status": 3}),
    ({"outcome": "exit", "status": 1}, {"outcome": "exit", "status": 3}),
    ({"outcome": "exec", "tag": "P", "argv": [b"\xff"], "envp": [], "execfd": False,
      "alternatives": [{"outcome": "error", "errno": "ELOOP"}]}, {"outcome": "error", "errno": "ELOOP"}),
    ({"outcome": "exec", "tag": "P", "argv": [b"\xff"], "envp": [], "execfd": False},
     {"outcome": "exec", "tag": "P", "argv": [b"\xfe"], "envp": [], "execfd": False}),
    ({"outcome": "error", "errno": "ENOENT"}, {"outcome": "error", "errno": "ENOENT"}),
])
def test_accepted_forms_are_diff_outcomes(expected, observed):
    """What the reproducer accepts (dropped fields + canonical text) is what
    the one comparison accepts for a target observing every field."""
    by_forms = any(canonical_outcome(observed, drop) == text for drop, text in accepted_forms(expected))
    assert by_forms == (not diff_outcomes(expected, observed))


@pytest.mark.userns
@pytest.mark.skipif(not os.path.exists("/proc/self/ns/user"), reason="needs user namespaces")
def test_bug_report_fits_a_mail(tmp_path):
    from harness.executor import userns_available
    if not userns_available()[0]:
        pytest.skip("needs user namespaces")
    f = tmp_path / "failure.json"
    f.write_text((ROOT / "corpus" / "543841d18060-1.json").read_text())
    r = subprocess.run([sys.executable, "-m", "harness", "bug-report", str(f), "--target", "sandbox",
                        "--kernel", "5.10.0"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    text = r.stdout
    lines = text.splitlines()
    assert lines[0].startswith("Subject: exec: ") and "543841d18060" in lines[0]
    assert f"Kernel: {os.uname().release}" in text and "What the execspec model says" in text
    assert "the MODEL is the odd one out" in text.replace("\n", " ")
    assert "IN_TEST" not in text  # minimised: the env entry changed nothing
    assert text.isascii() and max(map(len, lines)) <= 998
    script = text.split("-- >8 --\n", 1)[1].split("-- 8< --", 1)[0]
    assert script.startswith("#!/bin/sh") and len(script.splitlines()) < 200
