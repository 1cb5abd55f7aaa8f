"""The executor's own setup must survive a case's tiny RLIMIT_STACK: the
limit is set before the last steps (dirfd, memfd copy, stdio, identity) and
the exec, so any stack growth there was checked against it and killed the
case init with SIGSEGV before its exec -- a kernel-looking outcome that was
the harness's (pin text-busy vs-e2big flaked 5 runs in 40).  An exec that
fails early (ETXTBSY: the file is held open for writing) must always give
its errno, whatever the stack's random offset."""
from __future__ import annotations

import pytest

from contract.case import Case, Exec, File
from harness.executor import Executor, userns_available


def fresh_run(case: Case) -> dict:
    # a new executor each time: a long-lived one's stack has grown already,
    # the first case of a fresh one is where the setup's growth showed
    e = Executor(mode="userns", timeout_ms=4000)
    try:
        return e.run(case)
    finally:
        e.close()


@pytest.mark.parametrize("limit", [0, 4096])
def test_setup_survives_a_tiny_stack_limit(limit):
    ok, why = userns_available()
    if not ok:
        pytest.skip(why)
    busy = File(path=b"/p", type="probe", mode=0o755, tag="P", open_for_write=True)
    cases = [Case(files=(busy,), exec=Exec(path=b"/p", argv=(), envp=(), rlimit_stack=limit)),
             # the memfd copy's buffer is the deepest stack the setup uses;
             # a sealed non-executable memfd fails the exec (EACCES, 6.3+)
             Case(files=(busy,), exec=Exec(path=b"", argv=(b"p",), envp=(), syscall="execveat", dirfd=b"/p",
                                           flags=("AT_EMPTY_PATH",), memfd=("MFD_NOEXEC_SEAL",),
                                           rlimit_stack=limit))]
    for case in cases:
        seen = [fresh_run(case) for _ in range(24)]
        assert all(o == seen[0] for o in seen), seen
        assert seen[0]["outcome"] == "error", seen[0]
