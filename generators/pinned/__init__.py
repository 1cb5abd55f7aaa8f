"""Pinned cases: fixed cases, each a rule of the model checked on real
kernels, as data the suites and the corpus builder both read.

    from generators.pinned import exec_core, elf, binfmt_misc, concurrent
    exec_core.EXECVEAT["fd-empty"].case

Each group is a dict name -> Pinned; the name is the test id in the suite
that runs the group (suites/test_pinned_exec.py, test_elf.py,
test_binfmt_misc.py, test_concurrent.py) and, with the group's prefix, the corpus source label
(`all_pinned()`).  `tags` name the linux-git commits a case pins
("linux-git:<12 hex digits>", the corpus's tag format) where one is known.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from contract.case import Case

# An expected outcome kind, errno or signal, or (feature commit, expected
# with it, expected without it): documents the rule; the suites still
# compare the whole outcome with the model's prediction.
Rule = str | tuple[str, str, str]


@dataclass(frozen=True)
class Pinned:
    name: str
    case: Case
    tags: tuple[str, ...] = ()
    expect: Rule | None = None


def group(cases: dict[str, Case], tags: dict[str, Iterable[str]] | None = None,
          every: Iterable[str] = ()) -> dict[str, Pinned]:
    """name -> Pinned, tagged with `every` commit plus the name's own ones."""
    tags = tags or {}
    return {n: Pinned(n, c, tuple(f"linux-git:{t}" for t in (*every, *tags.get(n, ())))) for n, c in cases.items()}


def all_pinned() -> list[tuple[str, Pinned]]:
    """Every pinned case the corpus builder looks at, with its source label
    (the group prefix and the name)."""
    from . import binfmt_misc, concurrent, elf, exec_core
    out: list[tuple[str, Pinned]] = []
    for g in (exec_core.EXECVEAT, exec_core.NULL_ARGV, exec_core.RECURSION, exec_core.SCRIPT_RULES,
              exec_core.TEXT_BUSY):
        out += [(f"pinned-{k}", p) for k, p in g.items()]
    out += [(f"elf-{k}", p) for k, p in elf.PINNED.items()]
    out += [(f"elf-{k}", p) for k, p in elf.ADDRESSES.items()]
    out += [(f"binfmt_misc-{k}", p) for k, p in binfmt_misc.PINNED.items()]
    out += [(f"concurrent-{k}", p) for k, p in concurrent.PINNED.items()]
    return out
