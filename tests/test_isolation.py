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


def _descendants(root: int) -> list[int]:
    kids: dict[int, list[int]] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(pid))
    out, todo = [], [root]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out


def _exe(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:  # gone meanwhile
        return None


def test_hanging_concurrent_execs_leave_nothing(sandbox):
    """exec.concurrent: 16 programs that never exit (jmp .) hit the case's
    time limit; the whole PID namespace goes, reaper and siblings alike,
    and the executor's only descendant left is the next case's prespawned
    init (the executor itself)."""
    from dataclasses import replace

    from contract.case import Case, Exec, File
    from generators.elfbuild import CODE64, encode, program
    from harness.executor import Executor
    loop = encode(replace(program(), body=b"\xeb\xfe" + b"\x90" * (len(CODE64) - 2)))  # jmp .
    case = Case(files=(File(path=b"/loop", type="file", mode=0o755, data=loop),),
                exec=Exec(path=b"/loop", argv=(b"loop",), envp=(), concurrent=16))
    ex = Executor(timeout_ms=1500)
    try:
        t0 = time.monotonic()
        assert ex.run(case) == {"outcome": "timeout"}
        assert time.monotonic() - t0 < 10
        assert ex.proc is not None
        exe = str(build.native("executor"))
        deadline = time.time() + 5
        while True:
            left = _descendants(ex.proc.pid)
            progs = [p for p in left if _exe(p) not in (exe, None)]
            if len(left) <= 1 and not progs or time.time() > deadline:
                break
            time.sleep(0.05)
        assert len(left) <= 1 and not progs, (left, progs)
        # and the same executor goes on: a quick case after it still runs
        ok = Case(files=(File(path=b"/p", type="probe", mode=0o755, tag="P"),),
                  exec=Exec(path=b"/p", argv=(b"p",), envp=(), concurrent=3))
        o = ex.run(ok)
        assert o["outcome"] == "exec" and [s["outcome"] for s in o["concurrent"]] == ["exec"] * 2, o
    finally:
        ex.close()
