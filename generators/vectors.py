"""Strategies for argv/envp: NULL pointers, empty vectors and strings,
arbitrary non-NUL bytes, single strings at MAX_ARG_STRLEN, and totals at the
argument-space limit that bprm_stack_limits() derives from RLIMIT_STACK."""
from __future__ import annotations

from hypothesis import strategies as st

from contract.case import Case, Exec, File

from .common import probe, script

MAX_ARG_STRLEN = 32 * 4096
ARG_MAX = 32 * 4096
STK_LIM = 8 << 20

# Small stacks put the limit at its 128 KiB floor, so limit cases stay cheap;
# the default 8 MiB (2 MiB of strings) and unlimited (6 MiB cap) appear too.
# Below 128 KiB the stack VMA itself is the bound (modelled), but then the
# new program's own auxv/pointers may not fit either and it dies after the
# point of no return, which the model does not predict: one small value only
# with tiny vectors (vector_cases), none here.
RLIMITS = [256 << 10, 512 << 10, 600 << 10, 1 << 20, 8 << 20, -1]


def arg_space(rlimit: int) -> int:
    limit = STK_LIM // 4 * 3
    if rlimit != -1:
        limit = min(limit, rlimit // 4)
    return max(limit, ARG_MAX)


small = st.binary(max_size=10).map(lambda b: b.replace(b"\0", b"\xff"))


@st.composite
def vector_cases(draw) -> Case:
    """Plain vectors (NULL, empty, empty strings, odd bytes) to a probe or a script."""
    argv = draw(st.one_of(st.none(), st.just([]), st.just([b""]), st.lists(small, max_size=6)))
    envp = draw(st.one_of(st.none(), st.just([]), st.lists(small, max_size=4)))
    files = [probe(b"/bin/probe", "P"), script(b"/s", b"#!/bin/probe" + draw(st.sampled_from([b"", b" -a"])) + b"\n")]
    path = draw(st.sampled_from([b"/bin/probe", b"/s", b"/missing"]))
    return Case(files=tuple(files), exec=Exec(path=path, argv=None if argv is None else tuple(argv),
                                              envp=None if envp is None else tuple(envp)))


@st.composite
def limit_cases(draw) -> Case:
    """Vectors whose total size lands within a few bytes of the limit, or
    one string at MAX_ARG_STRLEN, through a probe or a script (whose
    rewrite adds strings)."""
    rlimit = draw(st.sampled_from(RLIMITS))
    target = draw(st.sampled_from([b"/bin/probe", b"/s", b"/missing", b"/d"]))
    files = (probe(b"/bin/probe", "P"), script(b"/s", b"#!/bin/probe -a\n"),
             File(path=b"/d", type="dir", mode=0o755))
    envp = draw(st.lists(small, max_size=3))
    kind = draw(st.sampled_from(["total", "total", "strlen"]))
    if kind == "strlen":
        # length with NUL; sampled, not a range: Hypothesis favours a range's
        # ends, and the limit itself is what an off-by-one changes
        n = MAX_ARG_STRLEN + draw(st.sampled_from([0, 1, -1, -2]))
        big = b"S" * (n - 1)
        rlimit = draw(st.sampled_from([-1, 8 << 20]))
        where = draw(st.sampled_from(["argv", "envp"]))
        argv = [b"a0", big] if where == "argv" else [b"a0"]
        if where == "envp":
            envp = envp + [big]
    else:
        nargs = draw(st.integers(0, 3))
        argv = [b"a%d" % i for i in range(nargs)]
        # bytes in use besides the filler (filename, strings, pointers; argc
        # counted as at least 1 on current kernels)
        space = arg_space(rlimit)
        filler_count = draw(st.integers(1, 4))
        ptrs = (max(len(argv) + filler_count, 1) + len(envp)) * 8
        used = len(target) + 1 + sum(len(s) + 1 for s in envp + argv) + ptrs
        room = space - used
        delta = draw(st.sampled_from([0, 1, -1, 2, -2, 3, -3])) if draw(st.booleans()) else draw(st.integers(-300, 300))
        total = room + delta  # the filler strings' bytes, NULs included
        each = total // filler_count
        fill = []
        for i in range(filler_count):
            n = each if i < filler_count - 1 else total - each * (filler_count - 1)
            fill.append(b"F" * max(n - 1, 0))
        if any(len(f) + 1 > MAX_ARG_STRLEN for f in fill):
            chunk = MAX_ARG_STRLEN - 1
            fill = [b"F" * chunk] * (total // (chunk + 1)) + [b"F" * max(total % (chunk + 1) - 1, 0)]
        argv = argv + fill if draw(st.booleans()) else argv
        if not set(fill) & set(argv):
            envp = envp + fill
    return Case(files=files, exec=Exec(path=target, argv=tuple(argv), envp=tuple(envp), rlimit_stack=rlimit))
