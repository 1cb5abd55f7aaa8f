"""A harness killed with SIGKILL while a QEMU guest runs leaves no qemu
process and no temp dir behind (the guest's watchdog, harness/qemu/guest.py).
Needs qemu-system-x86_64 and the debian-5.10 kernel (fetched into the
project's cache); a CI run fails instead of skipping."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.hostile import procs_with_env

pytestmark = pytest.mark.qemu  # boots a QEMU guest
ROOT = Path(__file__).resolve().parent.parent


def test_sigkill_leaves_no_guest(tmp_path):
    if shutil.which("qemu-system-x86_64") is None:
        if os.environ.get("CI"):
            pytest.fail("qemu-system-x86_64 missing in CI (.ci/run installs qemu-system-x86)")
        pytest.skip("no qemu-system-x86_64")
    token = f"{os.getpid()}-{time.monotonic_ns()}"
    marker = f"EXECSPEC_GUEST_RUN={token}".encode()
    probe = {"files": [{"path": "/p", "type": "probe", "tag": "P"}],
             "exec": {"path": "/p", "argv": ["p"], "envp": []}}
    f = tmp_path / "cases.json"
    f.write_text(json.dumps([probe] * 2000))
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "EXECSPEC_GUEST_RUN": token, "TMPDIR": str(tmp)}
    p = subprocess.Popen([sys.executable, "-m", "harness", "run", str(f), "--target", "qemu",
                          "--kernel", "debian-5.10"], cwd=ROOT, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout is not None
    line = p.stdout.readline()  # a guest booted and answered
    assert line.startswith(b"{"), p.stderr.read().decode(errors="replace")[-2000:] if p.stderr else ""
    assert any(d.name.startswith("execspec-qemu-") for d in tmp.iterdir())
    assert len(procs_with_env(marker)) >= 2  # the harness and its guest (and the watchdog)
    p.send_signal(signal.SIGKILL)
    p.wait()
    deadline = time.time() + 15
    while time.time() < deadline and (procs_with_env(marker) or any(tmp.iterdir())):
        time.sleep(0.1)
    assert procs_with_env(marker) == []
    assert list(tmp.iterdir()) == []
