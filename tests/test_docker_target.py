"""The docker target: cases with binfmt_misc rules run in the container's
own per-case user namespaces; the host's global binfmt_misc is untouched,
and neither a closed run nor a killed one leaves a container behind.
SKIPs when no engine answers (docker/engine.sh start)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import model
from contract.case import case_from_json, diff_outcomes
from harness.targets import TargetUnavailable
from tests import hostile as hostile_program
from tests.test_isolation import BM, registering_case

pytestmark = pytest.mark.docker  # a container engine (docker/engine.sh start)
ROOT = Path(__file__).resolve().parent.parent


def _global_binfmt_misc():
    return sorted(os.listdir(BM)) if (BM / "status").exists() else None


def _containers() -> list[str]:
    r = subprocess.run(["docker", "ps", "-aq", "--filter", "label=execspec"], capture_output=True, text=True)
    return r.stdout.split()


@pytest.fixture(scope="module")
def docker_target():
    from harness.targets.docker import DockerTarget
    try:
        t = DockerTarget()
    except TargetUnavailable as e:
        pytest.skip(str(e))
    yield t
    t.close()


def test_rules_stay_in_the_container(docker_target):
    before = _global_binfmt_misc()
    cases = [case_from_json(registering_case(i)) for i in range(20)]
    prof = model.profile(docker_target.kernel)
    for c, o in zip(cases, docker_target.run_many(cases)):
        if o["outcome"] == "skip":
            pytest.skip(o["reason"])
        assert not diff_outcomes(model.predict(c, prof), o, docker_target.observable), o
        assert o["tag"] == "I"  # the rule matched: registered in a private instance
    assert _global_binfmt_misc() == before


def test_closed_target_leaves_no_container():
    from harness.targets.docker import DockerTarget
    try:
        t = DockerTarget()
    except TargetUnavailable as e:
        pytest.skip(str(e))
    cid = t.cid
    t.close()
    for _ in range(40):
        if cid not in " ".join(_containers()) and not any(c.startswith(cid[:12]) for c in _containers()):
            break
        time.sleep(0.25)
    assert not any(cid.startswith(c) for c in _containers())


def test_killed_run_leaves_no_container(tmp_path):
    pytest.importorskip("docker")
    case = tmp_path / "cases.json"
    case.write_text(json.dumps([registering_case(i) for i in range(3)] * 4000))
    before = set(_containers())
    p = subprocess.Popen([sys.executable, "-m", "harness", "run", str(case), "--target", "docker"],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = p.stdout.readline()  # the container is up and answering
    if not line:
        err = p.stderr.read().decode()
        if "no engine answers" in err or "SDK" in err or "CLI" in err:
            pytest.skip(err.strip())
        pytest.fail(err)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    for _ in range(60):  # PID 1 sees its stdin close, exits, auto-remove deletes it
        if set(_containers()) <= before:
            break
        time.sleep(0.5)
    assert set(_containers()) <= before


def test_hostile_case_cannot_reach_the_container_or_the_next_case(docker_target, tmp_path):
    """A crafted program that escapes chroot-style and writes to / would
    change the container's root (seen by every later case): the case root is
    a fresh tmpfs behind pivot_root, and nothing else is reachable."""
    from contract.case import Case, Exec, File
    prog = hostile_program.build(tmp_path / "hostile")
    case = Case(files=(File(path=b"/h", type="file", mode=0o755, data=prog.read_bytes()),),
                exec=Exec(path=b"/h", argv=(b"h", b"escape", b"/tmp"), envp=()))  # /tmp: only in the container
    assert docker_target.run(case) == {"outcome": "exit", "status": 0}
    ls = subprocess.run(["docker", "exec", docker_target.cid, "/executor", "--help"], capture_output=True)
    assert ls.returncode == 2  # the container still answers; its root:
    root = subprocess.run(["docker", "export", docker_target.cid], capture_output=True).stdout
    assert b"escaped-" not in root
