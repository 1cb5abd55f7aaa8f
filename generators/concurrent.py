"""Concurrent execs (LTP execve05): any generated case made by several
processes at once (exec.concurrent): forked from one state after the
setup, released together, each making the same call.  Drawn on top of the
ordinary generators -- scripts, interpreter chains, paths and failing
execs, execveat, binfmt_misc entries (the O/C flags' AT_EXECFD under a
small RLIMIT_NOFILE among them), writers (ETXTBSY) and crafted ELF
programs -- so every sibling must give what the single call gives.
Some make the call from a second thread (exec.from_thread: de_thread hands
the program the caller's pid), alone or N at once."""
from __future__ import annotations

from dataclasses import replace

from hypothesis import strategies as st

from contract.case import LIMITS, Case

# Sources without binfmt_misc rules or crafted ELF code (any target runs
# them); the others are drawn by their own tests, which their suites mark.
PLAIN_SOURCES = ("shebang", "shebang-chain", "paths", "execveat", "argv-envp", "text-busy")
MISC_SOURCES = ("binfmt_misc-flags", "binfmt_misc-magic", "binfmt_misc-interplay")
ELF_SOURCES = ("elf-valid", "elf-interp", "elf-mutated")


def concurrency() -> st.SearchStrategy[int]:
    """2..MAX_CONCURRENT, mostly few (the bug class is any two at once)."""
    return st.one_of(st.integers(2, 4), st.integers(2, LIMITS["MAX_CONCURRENT"]))


@st.composite
def with_concurrency(draw, cases: st.SearchStrategy[Case], n: st.SearchStrategy[int] | None = None,
                     thread: st.SearchStrategy[bool] | None = None) -> Case:
    case = draw(cases)
    if case.exec.syscall == "search":  # userspace callers: not a single call
        return case
    conc = draw(concurrency() if n is None else n)
    from_thread = draw(st.integers(0, 3).map(lambda k: k == 0) if thread is None else thread)
    return replace(case, exec=replace(case.exec, concurrent=conc, from_thread=from_thread))


def _sources(sources: tuple[str, ...]) -> st.SearchStrategy[Case]:
    from . import registry
    from .binfmt_misc import execfd_cases
    reg = registry()
    extra = [execfd_cases()] if sources == MISC_SOURCES else []
    return st.one_of(*(reg[n] for n in sources), *extra)


def concurrent_cases(sources: tuple[str, ...] = PLAIN_SOURCES) -> st.SearchStrategy[Case]:
    return with_concurrency(_sources(sources))


def thread_cases(sources: tuple[str, ...] = PLAIN_SOURCES) -> st.SearchStrategy[Case]:
    """One caller, the call made from its second thread."""
    return with_concurrency(_sources(sources), n=st.just(1), thread=st.just(True))
