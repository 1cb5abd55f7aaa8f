"""Simulator targets: the description mechanism (a command template, no
code) checked with a do-nothing "simulator" -- our launcher chrooted on the
host kernel, which must then agree with the model -- plus smoke runs under
PRoot and qemu-user (SKIP when they are not installed) and the report's
classifier."""
from __future__ import annotations

import json
import os
import shutil

import pytest

import model
from generators.common import probe, script
from harness.case import Case, Exec, diff_outcomes
from harness.report import classify
from harness.targets import TargetUnavailable, get_target

PROBE_CASE = Case(files=(probe(b"/bin/probe", "P"),),
                  exec=Exec(path=b"/bin/probe", argv=(b"p", b"a b", b"\xff"), envp=(b"K=V",)))
SCRIPT_CASE = Case(files=(probe(b"/bin/probe", "P"), script(b"/s", b"#!/bin/probe -x\n")),
                   exec=Exec(path=b"/s", argv=(b"s", b"1"), envp=()))
ENOENT_CASE = Case(files=(probe(b"/bin/probe", "P"),), exec=Exec(path=b"/nope", argv=(b"n",), envp=()))


@pytest.fixture
def identity(tmp_path):
    d = {"name": "identity", "command": ["{launcher}"], "mode": "launcher", "chroot": True,
         "emulated": "nothing: the host kernel in a chroot"}
    p = tmp_path / "identity.json"
    p.write_text(json.dumps(d))
    try:  # chrooted inside the simulator jail: no root needed, only user namespaces
        t = get_target(f"sim:{p}")
    except TargetUnavailable as e:
        pytest.skip(str(e))
    yield t
    t.close()


@pytest.mark.parametrize("case", [PROBE_CASE, SCRIPT_CASE, ENOENT_CASE], ids=["probe", "script", "enoent"])
def test_template_mechanism_on_the_host_kernel(identity, case):
    observed = identity.run(case)
    assert not diff_outcomes(model.predict(case, identity.kernel), observed, identity.observable), observed


def test_bad_description(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps({"name": "x", "command": ["y"]}))
    with pytest.raises(TargetUnavailable, match="mode"):
        get_target(f"sim:{p}")
    with pytest.raises(TargetUnavailable, match="known: "):
        get_target("sim:no-such-simulator")


@pytest.mark.skipif(shutil.which("proot") is None, reason="proot not installed")
def test_proot_smoke():
    t = get_target("sim:proot")
    try:
        o = t.run(PROBE_CASE)
        assert o["outcome"] == "exec" and o["argv"] == [b"p", b"a b", b"\xff"] and o["envp"] == [b"K=V"]
        assert t.run(ENOENT_CASE) == {"outcome": "error", "errno": "ENOENT"}
        reg = Case(files=PROBE_CASE.files, exec=PROBE_CASE.exec, binfmt_misc=(b":x:E::x::/bin/probe:",))
        assert t.run(reg)["outcome"] == "skip"  # never the host's global binfmt_misc
    finally:
        t.close()


def test_qemu_user_smoke():
    try:
        t = get_target("sim:qemu-user")
    except TargetUnavailable as e:
        pytest.skip(str(e))
    try:
        o = t.run(PROBE_CASE)
        assert o["outcome"] == "exec" and o["argv"] == [b"p", b"a b", b"\xff"] and o["envp"] == [b"K=V"]
        assert t.skip_reason(Case(files=(), exec=Exec(path=b"/p", argv=(), envp=())))
    finally:
        t.close()


def test_classify():
    exp = {"outcome": "exec", "tag": "P", "argv": [b"a"], "envp": [], "execfn": b"/a", "comm": b"a",
           "execfd": False}
    assert classify("g", exp, dict(exp), frozenset(exp)) is None
    k = classify("g", exp, {**exp, "comm": b"/a"}, frozenset(exp) | {"outcome"})
    assert k == "g: comm | model exec -> simulator exec"
    assert classify("g", {"outcome": "error", "errno": "ENOENT"}, {"outcome": "error", "errno": "EACCES"},
                    frozenset({"outcome", "errno"})) == "g: errno | model error ENOENT -> simulator error EACCES"


def _execveat_dirfd_cases() -> list[Case]:
    """Every dirfd path of the execveat generator, opened each way, with a
    relative name and with AT_EMPTY_PATH (the launcher opens the path as fd 3)."""
    from generators.execveat import DIRFDS, FILES
    out = []
    for d in (x for x in DIRFDS if isinstance(x, bytes)):
        for path, flags in ((b"probe", ()), (b"", ("AT_EMPTY_PATH",))):
            for cloexec, opath in ((False, False), (True, False), (False, True)):
                out.append(Case(files=FILES, exec=Exec(path=path, argv=(b"x",), envp=(b"K=V",), cwd=b"/",
                                                       syscall="execveat", dirfd=d, flags=flags,
                                                       dirfd_cloexec=cloexec, dirfd_opath=opath)))
    return out


def test_do_nothing_simulator_execveat_dirfd(identity):
    """The launcher's own dirfd set-up must be invisible: with fd 3 free it
    once called dup3(3, 3) (EINVAL), which the PRoot report blamed on PRoot."""
    wrong = []
    for case in _execveat_dirfd_cases():
        observed = identity.run(case)
        if diff_outcomes(model.predict(case, identity.kernel), observed, identity.observable):
            e = case.exec
            wrong.append((e.dirfd, e.path, e.flags, e.dirfd_cloexec, e.dirfd_opath, observed))
    assert not wrong, wrong[:5]
