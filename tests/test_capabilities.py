"""Suites skip whole tests from what the target declares it can do: a
binfmt_misc property on a kernel without private instances is SKIPPED with
the reason, never a Hypothesis `Unsatisfiable` failure (issue 16, D1)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_binfmt_misc_properties_skip_without_private_instances():
    r = subprocess.run([sys.executable, "-m", "pytest", "suites/test_binfmt_misc.py", "-p", "tests.plugins.old_kernel",
                        "-p", "no:xdist", "-q", "-rs", "-k", "test_magic_matching or test_flags or empty_name"],
                       cwd=ROOT, capture_output=True, text=True, timeout=600,
                       env={"PATH": "/usr/bin:/bin", "EXECSPEC_PROFILE": "ci"})
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    assert "Unsatisfiable" not in out
    assert "3 skipped" in out, out[-2000:]
    assert "no private binfmt_misc instance" in out or "no per-user-namespace binfmt_misc" in out, out[-2000:]
