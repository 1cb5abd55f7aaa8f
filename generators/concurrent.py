"""Concurrent execs (LTP execve05): any generated case made by several
processes at once (exec.concurrent): forked from one state after the
setup, released together, each making the same call.  Drawn on top of the
ordinary generators -- scripts, interpreter chains, paths and failing
execs, execveat, binfmt_misc entries (the O/C flags' AT_EXECFD under a
small RLIMIT_NOFILE among them), writers (ETXTBSY) and crafted ELF
programs -- so every sibling must give what the single call gives."""
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
def with_concurrency(draw, cases: st.SearchStrategy[Case]) -> Case:
    case = draw(cases)
    if case.exec.syscall == "search":  # userspace callers: not a single call
        return case
    return replace(case, exec=replace(case.exec, concurrent=draw(concurrency())))


def concurrent_cases(sources: tuple[str, ...] = PLAIN_SOURCES) -> st.SearchStrategy[Case]:
    from . import registry
    from .binfmt_misc import execfd_cases
    reg = registry()
    extra = [execfd_cases()] if sources == MISC_SOURCES else []
    return with_concurrency(st.one_of(*(reg[n] for n in sources), *extra))
