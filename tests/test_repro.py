"""Reproducers run with nothing of this project around them: written to a
temporary directory, run from there with a bare environment, they report
the real kernel's outcome and whether it is the model's."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.case import Case, Exec, File, case_to_json
from harness.executor import userns_available

ROOT = Path(__file__).resolve().parent.parent
HOST = os.uname().release
pytestmark = pytest.mark.skipif(not userns_available()[0] or shutil.which("cc") is None,
                                reason="needs user namespaces and cc")


def _write(tmp: Path, case: dict, *extra: str) -> Path:
    src = tmp / "case.json"
    src.write_text(json.dumps(case))
    out = tmp / ("repro.c" if "--c" in extra else "repro.sh")
    subprocess.run([sys.executable, "-m", "harness", "repro", str(src), "-o", str(out), *extra],
                   cwd=ROOT, check=True)
    return out


def _run_sh(script: Path) -> subprocess.CompletedProcess:
    elsewhere = script.parent / "elsewhere"
    elsewhere.mkdir()
    moved = elsewhere / script.name
    script.rename(moved)
    return subprocess.run(["sh", str(moved)], cwd=elsewhere, env={"PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=120)


def test_shell_reproducer_agrees_on_the_host(tmp_path):
    case = json.loads((ROOT / "corpus" / "543841d18060-1.json").read_text())
    r = _run_sh(_write(tmp_path, case, "--kernel", HOST))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "verdict: the kernel agrees with the model" in r.stdout
    assert '"comm": "execveat"' in r.stdout.splitlines()[0]


def test_shell_reproducer_reports_a_difference(tmp_path):
    # Linux 5.10.0 gave comm "3" here; this kernel names the dentry
    case = json.loads((ROOT / "corpus" / "543841d18060-1.json").read_text())
    r = _run_sh(_write(tmp_path, case, "--kernel", "5.10.0"))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "verdict: the kernel DIFFERS from the model" in r.stdout
    assert '"comm": "3"' in r.stdout and '"comm": "execveat"' in r.stdout


def test_c_reproducer_exact_argv(tmp_path):
    case = Case(files=(File(path=b"/bin/p", type="probe", mode=0o755, tag="P"),),
                exec=Exec(path=b"/bin/p", argv=(b"\xff\xfe", b"a b", b""), envp=(b"K=\x01",)))
    src = _write(tmp_path, case_to_json(case), "--c", "--kernel", HOST)
    exe = tmp_path / "repro"
    subprocess.run(["cc", "-O1", "-o", str(exe), str(src)], check=True)
    r = subprocess.run([str(exe)], cwd=tmp_path, env={}, capture_output=True, timeout=60)
    out = r.stdout.decode("utf-8", "replace")
    assert b'"argv": ["\xff\xfe", "a b", ""]' in r.stdout, out
    assert '"envp": ["K=\\u0001"]' in out


def test_c_reproducer_null_argv(tmp_path):
    case = Case(files=(File(path=b"/bin/p", type="probe", mode=0o755, tag="P"),),
                exec=Exec(path=b"/bin/p", argv=None, envp=None))
    src = _write(tmp_path, case_to_json(case), "--c", "--kernel", HOST)
    exe = tmp_path / "repro"
    subprocess.run(["cc", "-O1", "-o", str(exe), str(src)], check=True)
    r = subprocess.run([str(exe)], cwd=tmp_path, env={}, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "agrees" in r.stdout, r.stdout + r.stderr
    assert '"argv": [""]' in r.stdout
