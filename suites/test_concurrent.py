"""Concurrent execs (LTP execve05): N processes, forked from one state
after the case's setup, make the same call at once (exec.concurrent); the
caller's outcome and each sibling's must be what the single call gives
(model/exec.py siblings()).  Exec from a second thread (exec.from_thread):
the program must get the caller's pid, not its thread's (de_thread).  Generated on top of the ordinary generators
(generators/concurrent.py) and pinned (generators/pinned/concurrent.py).
Targets that cannot start the N (simulators, the reproducers) skip."""
from __future__ import annotations

import pytest
from hypothesis import given

from generators.concurrent import ELF_SOURCES, MISC_SOURCES, concurrent_cases, thread_cases
from generators.elfbuild import EXIT_CODE
from generators.pinned.concurrent import PINNED


def _check(conform, case, pinned=False):
    out = conform(case, pinned=pinned)
    for o in (out, *out.get("concurrent", ())):
        if o["outcome"] == "exit" and "status" in o:  # crafted code is exit_group(42)
            assert o["status"] == EXIT_CODE, out
    return out


@given(concurrent_cases())
def test_concurrent(conform, case):
    _check(conform, case)


@given(thread_cases())
def test_from_thread(conform, case):
    _check(conform, case)


@pytest.mark.needs("binfmt_misc")
@given(concurrent_cases(MISC_SOURCES))
def test_concurrent_binfmt_misc(conform, case):
    _check(conform, case)


@pytest.mark.needs("crafted_elf")
@given(concurrent_cases(ELF_SOURCES))
def test_concurrent_elf(conform, case):
    _check(conform, case)


@pytest.mark.parametrize("name", PINNED)
def test_pinned(conform, name, target):
    case = PINNED[name].case
    if case.binfmt_misc and target.lacks("binfmt_misc"):
        pytest.skip(target.lacks("binfmt_misc"))
    out = _check(conform, case, pinned=True)
    # LTP execve05's own verdict: every one of the N ran
    if name == "from-thread":  # de_thread: the leader's pid, not the thread's TID (2)
        assert out["pid"] == 1, out
    if name in ("execve05", "max"):
        n = case.exec.concurrent
        assert [o["outcome"] for o in (out, *out["concurrent"])] == ["exec"] * n, out
        assert all(o["argv"][1:] == list(case.exec.argv[1:]) for o in out["concurrent"]), out
