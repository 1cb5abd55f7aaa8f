"""Simulator targets are isolated like the sandbox (harness/native/simjail.c):
the simulator and everything it runs are never real root on the host, never
outlive their case and cannot write the host.

A hostile program (tests/hostile/hostile.c) runs under PRoot and qemu-user,
and -- the strongest form -- as the "simulator" itself (a description whose
command is the hostile program with host paths in view, as a compromised or
confused simulator would be).  Each check looks at the host: canary
directories, /proc/PID/status of every process between the jail and the
program, the process table after the case.  A simulator that is not
installed SKIPs; one that cannot be jailed SKIPs (TargetUnavailable), never
runs unjailed.
"""
from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from contract.case import Case, Exec, File
from harness import build
from harness.targets import TargetUnavailable, get_target
from tests import hostile as hostile_program

pytestmark = pytest.mark.userns  # the simulator jail (simjail.c)
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ID_BASE = build.limit("ID_BASE")


@pytest.fixture(scope="module")
def hostile() -> Path:
    """Built where the jail's unprivileged uid can read it (pytest's own
    temp dir is 0700: a helper there is refused, as any unreadable one)."""
    out = hostile_program.build(build.build_dir().parent / f"hostile-{os.getpid()}")
    yield out
    out.unlink()


def _desc(tmp_path: Path, base: str | dict, **over) -> str:
    d = dict(base) if isinstance(base, dict) else json.loads((ROOT / "simulators" / f"{base}.json").read_text())
    d.update(over)
    p = tmp_path / f"{d['name']}.json"
    p.write_text(json.dumps(d))
    return f"sim:{p}"


def _target(spec: str):
    try:
        return get_target(spec)
    except TargetUnavailable as e:
        pytest.skip(str(e))


SIMS = {
    "proot": lambda tmp, hostile: _desc(tmp, "proot", timeout=3) if shutil.which("proot") else None,
    "qemu-user": lambda tmp, hostile: _desc(tmp, "qemu-user", timeout=3),
    # the simulator itself hostile: host paths in view, no chroot
    "hostile-simulator": lambda tmp, hostile: _desc(tmp, {
        "name": "hostile-simulator", "mode": "direct", "timeout": 3,
        "helpers": {"hostile": f"file:{hostile}"}, "command": ["{helper:hostile}", "{args}"],
        "emulated": "an attack, not an emulator"}),
}


@pytest.fixture(params=list(SIMS))
def sim(request, tmp_path, hostile, monkeypatch):
    spec = SIMS[request.param](tmp_path, hostile)
    if spec is None:
        pytest.skip(f"{request.param} not installed")
    if request.param == "hostile-simulator":  # runs no probe: its sanity case would call it broken
        monkeypatch.setenv("EXECSPEC_SIM_NO_SANITY", "1")
    t = _target(spec)
    yield t
    t.close()


def _run(t, hostile: Path, *args: str) -> dict:
    case = Case(files=(File(path=b"/h", type="file", mode=0o755, data=hostile.read_bytes()),),
                exec=Exec(path=b"/h", argv=(b"h", *(a.encode() for a in args)), envp=()))
    return t.run(case)


def snapshot(d: Path) -> list[tuple]:
    return [(str(p), p.lstat().st_mode, p.lstat().st_uid, p.lstat().st_size, p.lstat().st_mtime_ns)
            for p in sorted([d, *d.rglob("*")])]


@pytest.fixture
def canaries(tmp_path) -> list[Path]:
    """One canary in /tmp (the jail's /tmp is its own), one on the worktree's
    file system (read-only in the jail), both world-writable."""
    out = []
    for d in (tmp_path / "canary", build.build_dir().parent / f"canary-{os.getpid()}-{time.monotonic_ns()}"):
        (d / "sub").mkdir(parents=True)
        (d / "file").write_text("untouched")
        os.chmod(d, 0o777)
        os.chmod(d / "sub", 0o777)
        out.append(d)
    yield out
    shutil.rmtree(out[1], ignore_errors=True)


def test_hostile_program_cannot_write_the_host(sim, hostile, canaries):
    before = [snapshot(c) for c in canaries]
    for c in canaries:
        out = _run(sim, hostile, "escape", str(c))
        assert out["outcome"] in ("exit", "signal"), out
    assert [snapshot(c) for c in canaries] == before
    for c in canaries:
        for name in ("escaped-chroot", "escaped-proc", "escaped-ppid", "escaped-fd"):
            assert not (c / name).exists()


def _status(pid: int) -> dict[str, list[str]]:
    text = Path(f"/proc/{pid}/status").read_text()
    return {k: v.split() for k, v in (line.split(":", 1) for line in text.splitlines())}


def _chain(pid: int, jail: str) -> list[int]:
    """pid and its ancestors in a PID namespace of their own: up to and with
    the jail's PID 1 (whose parent, the jail's outer half, is on the host)."""
    out = []
    while pid > 1:
        f = _status(pid)
        if len(f["NSpid"]) == 1:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
            assert cmd == jail.encode(), (pid, cmd)
            return out
        out.append(pid)
        pid = int(f["PPid"][0])
    raise AssertionError(f"{out} does not descend from the jail")


def test_simulator_and_program_are_never_host_root(sim, hostile):
    marker = f"execspec-simids-{os.getpid()}-{time.monotonic_ns()}"
    result: list[dict] = []
    t = threading.Thread(target=lambda: result.append(_run(sim, hostile, "sleep", marker)))
    t.start()
    seen: list[int] = []
    deadline = time.time() + 10
    while not seen and time.time() < deadline:
        seen = hostile_program.procs_with(marker, but=str(sim.jail))  # the jail's own argv holds it too
        time.sleep(0.02)
    assert seen, "the program never showed up"
    chain = _chain(seen[0], str(sim.jail))  # the program, the simulator (PRoot), the jail's PID 1
    assert len(chain) >= 2 and _status(chain[-1])["NSpid"][-1] == "1", chain
    expect = str(ID_BASE) if os.geteuid() == 0 else str(os.geteuid())
    for pid in chain:
        f = _status(pid)
        assert f["Uid"] == [expect] * 4, (pid, f)
        assert f["Gid"][0] != "0", (pid, f)
        if os.geteuid() == 0:
            assert f["Groups"] in ([], [str(ID_BASE)]), (pid, f)
    t.join()
    assert result and result[0]["outcome"] == "timeout", result
    assert hostile_program.procs_with(marker) == []


def test_nothing_outlives_the_case(sim, hostile):
    marker = f"execspec-simfork-{os.getpid()}-{time.monotonic_ns()}"
    out = _run(sim, hostile, "fork", marker)
    assert out["outcome"] in ("exit", "timeout"), out
    deadline = time.time() + 5
    while hostile_program.procs_with(marker) and time.time() < deadline:
        time.sleep(0.05)
    assert hostile_program.procs_with(marker) == []


def test_output_is_capped(sim, hostile):
    out = _run(sim, hostile, "flood")
    assert out == {"outcome": "output-limit", "bytes": build.limit("MAX_OUTPUT")}, out


def _simjails() -> set[int]:
    out = set()
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if b"simjail" in (p / "cmdline").read_bytes().split(b"\0", 1)[0]:
                    out.add(int(p.name))
            except OSError:
                pass
    return out


@pytest.mark.skipif(shutil.which("proot") is None, reason="proot not installed")
def test_killed_harness_leaves_no_jail():
    """The harness killed (SIGKILL) while a simulator hangs on a case (PRoot
    on a FIFO) takes the jail with it: an orphaned simjail once ran on."""
    import subprocess
    import sys
    code = ("from contract.case import Case, Exec, File; from harness.targets import get_target; "
            "t = get_target('sim:proot'); print('ready', flush=True); "
            "t.run(Case(files=(File(path=b'/f', type='fifo', mode=0o755),), "
            "exec=Exec(path=b'/f', argv=(b'f',), envp=())))")
    p = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 5
        while not (started := {x for x in _simjails() if _descends(x, p.pid)}) and time.monotonic() < deadline:
            time.sleep(0.05)  # (only this harness's jails: other runs may have theirs)
        assert started, "no jail started"
    finally:
        p.kill()
        p.wait()
    deadline = time.monotonic() + 5
    while (left := {x for x in started
                    if Path(f"/proc/{x}/stat").exists()
                    and Path(f"/proc/{x}/stat").read_text().split(")")[-1].split()[0] != "Z"}) \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, f"jail processes outlived the harness: {left}"


def _case_dirs(pid: int) -> list[Path]:
    import tempfile
    return sorted(Path(tempfile.gettempdir()).glob(f"execspec-sim-*-{pid}"))


@pytest.mark.skipif(shutil.which("proot") is None, reason="proot not installed")
def test_terminated_harness_leaves_no_case_root(tmp_path):
    """`harness run` sent SIGTERM while PRoot hangs on a FIFO: its finally
    blocks run, so neither the case's root directory nor the jail is left
    (a killed report once left /tmp/execspec-sim-* behind)."""
    import signal
    import subprocess
    import sys
    case = tmp_path / "fifo.json"
    case.write_text(json.dumps({"files": [{"path": "/f", "type": "fifo", "mode": "0755"}],
                                "exec": {"path": "/f", "argv": ["f"], "envp": []}}))
    p = subprocess.Popen([sys.executable, "-m", "harness", "run", str(case), "--target", "sim:proot"], cwd=ROOT,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not (ours := {x for x in _simjails() if _descends(x, p.pid)}) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ours and _case_dirs(p.pid), "the case never started"
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=30) == 128 + signal.SIGTERM
    finally:
        p.kill()
        p.wait()
    assert _case_dirs(p.pid) == []
    deadline = time.monotonic() + 5
    while any(Path(f"/proc/{x}").exists() for x in ours) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(Path(f"/proc/{x}").exists() for x in ours)


def _descends(pid: int, ancestor: int) -> bool:
    """Whether `pid` is a descendant of `ancestor` (other runs' jails are not)."""
    while pid > 1:
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
        if pid == ancestor:
            return True
    return False


def test_stale_case_roots_are_swept(tmp_path):
    """A harness killed outright (SIGKILL) cannot clean up: the next
    simulator target removes the case directories of processes that no
    longer exist, never those of a live one."""
    import subprocess
    import tempfile

    from harness.targets.simulator import CASE_DIR_PREFIX, sweep_dead
    gone = subprocess.Popen(["true"])
    gone.wait()
    dead = Path(tempfile.mkdtemp(prefix=CASE_DIR_PREFIX, suffix=f"-{gone.pid}"))
    (dead / "root").mkdir()
    alive = Path(tempfile.mkdtemp(prefix=CASE_DIR_PREFIX, suffix=f"-{os.getpid()}"))
    try:
        if Path(f"/proc/{gone.pid}").exists():
            pytest.skip("the pid was reused at once")
        sweep_dead(CASE_DIR_PREFIX)
        assert not dead.exists() and alive.exists()
    finally:
        shutil.rmtree(dead, ignore_errors=True)
        shutil.rmtree(alive, ignore_errors=True)
