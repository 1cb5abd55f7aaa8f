"""Hostile cases: what a stranger's case file or crafted program might try.

Each attack is checked against the host itself (canary directories, the
process table, /proc/PID/status), never against what the case reports.
The cases are built as objects and fed to the executor directly, so the
executor is tested without the validator in front of it; the validator's
own refusals are checked apart.
"""
from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from contract.case import DEVICE_NODES, Case, CaseError, Exec, File, case_from_json
from harness import build
from harness.executor import Executor, userns_available
from tests import hostile as hostile_program

pytestmark = pytest.mark.userns  # the sandbox executor
HERE = Path(__file__).resolve().parent
ID_BASE = build.limit("ID_BASE")


@pytest.fixture(scope="module")
def executor():
    ok, why = userns_available()
    if not ok:
        pytest.skip(why)
    e = Executor(mode="userns", timeout_ms=4000)
    yield e
    e.close()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> bytes:
    return hostile_program.build(tmp_path_factory.mktemp("hostile") / "hostile").read_bytes()


def snapshot(d: Path) -> list[tuple]:
    """Everything a write through an escape would change under d."""
    out = []
    for p in sorted([d, *d.rglob("*")]):
        st = p.lstat()
        out.append((str(p), st.st_mode, st.st_uid, st.st_size, st.st_mtime_ns))
    return out


@pytest.fixture
def canary(tmp_path) -> Path:
    d = tmp_path / "canary"
    (d / "sub").mkdir(parents=True)
    (d / "file").write_text("untouched")
    os.chmod(d / "file", 0o644)
    return d


def run_hostile(executor: Executor, prog: bytes, *args: str) -> dict:
    case = Case(files=(File(path=b"/h", type="file", mode=0o755, data=prog),),
                exec=Exec(path=b"/h", argv=(b"h", *(a.encode() for a in args)), envp=()))
    return executor.run(case)


@pytest.mark.parametrize("link", ["/proc/self/cwd/../canary", "{canary}", "../../../../../../../../{canary}",
                                  "/proc/1/root{canary}", "/proc/self/root{canary}"])
def test_symlink_escape_shapes(executor, canary, link):
    target = link.format(canary=canary).encode()
    before = snapshot(canary)
    files = (File(path=b"/x", type="symlink", mode=0o777, data=target),
             File(path=b"/x/setuid", type="file", mode=0o4755, data=b"pwned"),
             File(path=b"/x/dir", type="dir", mode=0o777),
             File(path=b"/x/sub", type="dir", mode=0o777),     # an existing host dir: chmod?
             File(path=b"/x/file", type="dir", mode=0o777),
             File(path=b"/x/fifo", type="fifo", mode=0o666),
             File(path=b"/x/link", type="symlink", mode=0o777, data=b"/etc/passwd"),
             File(path=b"/p", type="probe", mode=0o755, tag="P"))
    out = executor.run(Case(files=files, exec=Exec(path=b"/p", argv=(b"p",), envp=())))
    assert snapshot(canary) == before, out
    # the validator refuses the shape outright, naming the field
    with pytest.raises(CaseError) as e:
        case_from_json({"files": [{"path": "/x", "type": "symlink", "target": target.decode()},
                                  {"path": "/x/setuid", "type": "file", "mode": "4755"}],
                        "exec": {"path": "/x", "argv": [], "envp": []}})
    assert e.value.field == "case.files[1].path"


def test_crafted_program_cannot_escape(executor, hostile, canary):
    before = snapshot(canary)
    out = run_hostile(executor, hostile, "escape", str(canary))
    assert out == {"outcome": "exit", "status": 0}, out  # its own count of what got through
    assert snapshot(canary) == before
    for name in ("escaped-chroot", "escaped-proc", "escaped-ppid"):
        assert not (canary / name).exists()


@pytest.mark.parametrize("kind", list(DEVICE_NODES))
def test_device_bind_leaves_the_host_node_alone(executor, hostile, kind):
    # files[].type "chardev"/"blockdev" binds the host's /dev/null or
    # /dev/loop0 into the case root: the case's root (an unmapped id on the
    # host) must not change that inode, nor open a block device (its blocks
    # are the host's), nor make a block node of its own (hostile.c).
    dev = DEVICE_NODES[kind]
    if not os.path.exists(dev):
        pytest.skip(f"no {dev} on this host")

    def node() -> tuple:
        st = os.stat(dev)
        return st.st_mode, st.st_uid, st.st_gid, st.st_rdev, st.st_mtime_ns, sorted(os.listxattr(dev))
    before = node()
    case = Case(files=(File(path=b"/h", type="file", mode=0o755, data=hostile),
                       File(path=dev.encode(), type=kind, mode=0o644)),
                exec=Exec(path=b"/h", argv=(b"h", kind.encode(), dev.encode()), envp=()))
    out = executor.run(case)
    if out.get("outcome") == "skip":
        pytest.skip(out.get("reason", f"{kind} not expressible here"))
    assert out == {"outcome": "exit", "status": 0}, out
    assert node() == before


def test_program_does_not_outlive_its_case(executor, hostile):
    marker = f"execspec-fork-{os.getpid()}-{time.monotonic_ns()}"
    out = run_hostile(executor, hostile, "fork", marker)
    assert out["outcome"] == "exit", out
    deadline = time.time() + 5
    while hostile_program.procs_with(marker) and time.time() < deadline:
        time.sleep(0.05)
    assert hostile_program.procs_with(marker) == []


def test_case_root_is_never_host_root(executor, hostile):
    marker = f"execspec-ids-{os.getpid()}-{time.monotonic_ns()}"
    result: list[dict] = []
    t = threading.Thread(target=lambda: result.append(run_hostile(executor, hostile, "sleep", marker)))
    t.start()
    seen: list[int] = []
    deadline = time.time() + 5
    while not seen and time.time() < deadline:
        seen = hostile_program.procs_with(marker)
        time.sleep(0.02)
    assert seen, "the case's program never showed up"
    status = Path(f"/proc/{seen[0]}/status").read_text()
    fields = {k: v.split() for k, v in (line.split(":", 1) for line in status.splitlines())}
    t.join()
    assert result and result[0]["outcome"] == "timeout"
    expect = str(ID_BASE) if os.geteuid() == 0 else str(os.geteuid())
    assert fields["Uid"] == [expect] * 4, status
    assert fields["Gid"][0] != "0" and fields["Groups"] in ([], [str(ID_BASE)]), status
    # the whole PID namespace went with the timeout
    assert hostile_program.procs_with(marker) == []


def test_output_is_capped(executor, hostile):
    out = run_hostile(executor, hostile, "flood")
    assert out["outcome"] == "output-limit", out
    assert out["bytes"] == build.limit("MAX_OUTPUT")
    # and the executor is still there for the next case
    assert run_hostile(executor, hostile, "fds") == {"outcome": "exit", "status": 0}


def test_program_inherits_only_its_descriptors(executor, hostile):
    """fds 0-2 and PROC_FD (199), nothing of the executor's or the case init's."""
    assert run_hostile(executor, hostile, "fds") == {"outcome": "exit", "status": 0}


def test_inherited_descriptors_do_not_confuse_the_executor(tmp_path):
    """An executor started with fds 3..200 already open (say, by a CI
    runner) still answers right: its status pipe goes to fd 100 whatever was
    there, and the case's program inherits none of them."""
    import struct

    from generators.common import probe
    from harness.protocol import decode_response, encode_case
    ok, why = userns_available()
    if not ok:
        pytest.skip(why)
    null = os.open(os.devnull, os.O_RDONLY)

    def occupy() -> None:  # in the child only: this worker's own fds (xdist's channel among them) stay
        for target_fd in (3, 100, 199):
            os.dup2(null, target_fd, inheritable=True)
    argv = [str(build.native("executor")), *[a for p in build.probe_paths() for a in ("--probe", str(p))]]
    try:
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=False,
                             preexec_fn=occupy)
    finally:
        os.close(null)
    try:
        def frame() -> bytes:
            (n,) = struct.unpack("<I", p.stdout.read(4))
            return p.stdout.read(n)
        frame()  # hello
        case = Case(files=(probe(b"/p", "P"),), exec=Exec(path=b"/p", argv=(b"p",), envp=()))
        f = encode_case(case)
        p.stdin.write(struct.pack("<I", len(f)) + f)
        p.stdin.flush()
        out = decode_response(frame())
        assert out["outcome"] == "exec" and out["tag"] == "P", out
    finally:
        p.stdin.close()
        p.wait(timeout=10)
