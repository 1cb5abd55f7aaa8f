"""Safety: the sandbox never touches the host's global binfmt_misc, and a run
killed with SIGKILL midway leaves no mount, process or rule behind."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from contract.case import case_from_json
from harness import build

pytestmark = pytest.mark.userns  # the sandbox target
ROOT = Path(__file__).resolve().parent.parent
BM = Path("/proc/sys/fs/binfmt_misc")


def _environ_has(pid: str, marker: bytes) -> bool:
    try:
        return marker in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False


def host_state(marker: bytes | None = None) -> dict:
    """What a leak would change: mounts, binfmt_misc entries, executor processes
    (with `marker`, only those of the run whose environment carries it: the
    other xdist worker starts executors of its own at any time)."""
    # only mounts our executors could make (a docker test on the other worker
    # adds the engine's overlay mounts at any time: not ours to count)
    mounts = sorted(m for m in (line.split(" ", 4)[4] for line in Path("/proc/self/mountinfo").read_text().splitlines())
                    if "execspec" in m or "binfmt_misc" in m or m.split(" ", 1)[0].startswith("/tmp"))
    entries = sorted(os.listdir(BM)) if (BM / "status").exists() else None
    exe = str(build.native("executor"))
    procs = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink(f"/proc/{pid}/exe").startswith(str(build.build_dir())) \
                    and (marker is None or _environ_has(pid, marker)):
                procs.append(pid)
        except OSError:
            pass
    return {"mounts": mounts, "binfmt_misc": entries, "executor_procs": procs, "exe": exe}


def registering_case(i: int) -> dict:
    return {"files": [{"path": "/bin/interp", "type": "probe", "tag": "I"},
                      {"path": "/f.xyz", "type": "file", "mode": "0755", "data": "not a script"}],
            "binfmt_misc": [f":execspec{i}:E::xyz::/bin/interp:"],
            "exec": {"path": "/f.xyz", "argv": ["f"], "envp": []}}


@pytest.fixture
def sandbox():
    from harness.targets import TargetUnavailable, get_target
    try:
        t = get_target("sandbox")
    except TargetUnavailable as e:
        pytest.skip(str(e))
    yield t
    t.close()


def test_registration_stays_private(sandbox):
    if not sandbox.per_userns_binfmt_misc:
        pytest.skip("host kernel < 6.7: registrations are skipped, not run")
    before = host_state()
    o = sandbox.run(case_from_json(registering_case(0)))
    # the rule took effect inside the case's own instance ...
    assert o["outcome"] == "exec" and o["tag"] == "I", o
    assert o["argv"] == [b"/bin/interp", b"/f.xyz"], o
    # ... and nowhere else (the target's own executor is alive, by design)
    after = host_state()
    assert (after["mounts"], after["binfmt_misc"]) == (before["mounts"], before["binfmt_misc"])


def test_sigkill_midway_leaves_nothing(tmp_path, sandbox):
    token = f"{os.getpid()}-{time.monotonic_ns()}"
    marker = f"EXECSPEC_ISOLATION_RUN={token}".encode()
    before = host_state(marker)
    cases = [registering_case(i) for i in range(3000)]
    f = tmp_path / "many.json"
    f.write_text(json.dumps(cases))
    env = {**os.environ, "EXECSPEC_ISOLATION_RUN": token}
    p = subprocess.Popen([sys.executable, "-m", "harness", "run", str(f), "--target", "sandbox"], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert p.stdout is not None
    p.stdout.readline()  # it is running cases now
    # the marker finds the run's own executor (so its absence later means something)
    assert host_state(marker)["executor_procs"] != before["executor_procs"]
    time.sleep(0.3)
    p.send_signal(signal.SIGKILL)
    p.wait()
    deadline = time.time() + 10
    while time.time() < deadline and host_state(marker) != before:
        time.sleep(0.1)
    assert host_state(marker) == before
