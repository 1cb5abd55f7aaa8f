"""Pinned concurrent execs (suites/test_concurrent.py): LTP execve05's shape
(N processes exec one program at the same time; every one must succeed)
and the same race over the paths exec shares between the N: a "#!"
interpreter, a binfmt_misc O entry's AT_EXECFD, a file held open for
writing, a failing lookup."""
from __future__ import annotations

from contract.case import Case, Exec, File
from generators.common import probe, script

from . import group


def _n(files, path: bytes, n: int, misc=(), argv=(b"p", b"arg"), **kw) -> Case:
    return Case(files=tuple(files), binfmt_misc=tuple(misc),
                exec=Exec(path=path, argv=argv, envp=(b"K=V",), concurrent=n, **kw))


_CASES: dict[str, Case] = {
    # LTP execve05 as it runs by default: 8 children exec "execve_child canary"
    "execve05": _n([probe(b"/execve_child", "C")], b"execve_child", 8, argv=(b"execve_child", b"canary")),
    # the most processes a case may start
    "max": _n([probe(b"/bin/p", "P")], b"/bin/p", 16),
    "script": _n([probe(b"/bin/i", "I"), script(b"/s", b"#!/bin/i -x\n")], b"/s", 8),
    "misc-O-execfd": _n([probe(b"/bin/i", "I"), script(b"/f", b"data")], b"/f", 8, misc=[b":r:M::data::/bin/i:O"]),
    # every sibling holds the same writer (one open file description): all ETXTBSY
    "text-busy": _n([File(path=b"/bin/p", type="probe", mode=0o755, tag="P", open_for_write=True)], b"/bin/p", 4),
    "enoent": _n([probe(b"/bin/p", "P")], b"/bin/missing", 4),
    # a race each sibling runs on its own: at RLIMIT_STACK 0 the program's
    # first stack fault may need a page the limit refuses, depending on where
    # the randomised stack top falls (model/exec.py predict): on 6.18 the 16
    # mix exec and SIGSEGV, and each must match the prediction or its alternative
    "stack-fault-race": _n([probe(b"/bin/p", "P")], b"/bin/p", 16, rlimit_stack=0),
    # de_thread: the thread (TID 2) execs and the program is PID 1, the leader's pid
    "from-thread": _n([probe(b"/bin/p", "P")], b"/bin/p", 1, from_thread=True),
    "from-thread-script-x4": _n([probe(b"/bin/i", "I"), script(b"/s", b"#!/bin/i\n")], b"/s", 4, from_thread=True),
}

PINNED = group(_CASES, every=())
