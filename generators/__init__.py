"""Hypothesis strategies that build cases aimed at exec's boundaries.

`registry()` lists every generator once, by name; the simulator report,
the corpus builder and the writers generator read it instead of keeping
lists of their own (a new generator is added here and nowhere else).
Generators sit below the harness: they import `contract` (and each other),
never `harness` or `suites` (tests/test_layers.py)."""
from __future__ import annotations

from typing import Any


def registry() -> dict[str, Any]:
    """name -> strategy of cases, for every generator."""
    from .concurrent import with_concurrency
    from .writers import with_writers
    base = _plain()
    base["text-busy"] = with_writers(_one_of(base[n] for n in WRITER_SOURCES))
    return {**base, "concurrent": with_concurrency(_one_of(base[n] for n in CONCURRENT_SOURCES))}


def _one_of(strategies):
    from hypothesis import strategies as st
    return st.one_of(*strategies)


def _plain() -> dict[str, Any]:
    """Every generator but the writers one, which wraps some of these."""
    from hypothesis import strategies as st

    from contract.case import case_from_json

    from . import binfmt_misc, elf, execveat, paths, shebang, vectors
    from .selftest_shapes import selftest_shapes
    return {
        "shebang": shebang.shebang_cases(), "shebang-chain": shebang.chain_cases(),
        "selftest-shapes": st.sampled_from([case_from_json(d) for _, d in selftest_shapes()]),
        "argv-envp": vectors.vector_cases(), "argv-envp-limits": vectors.limit_cases(),
        "paths": paths.path_cases(), "symlinks": paths.symlink_chain_cases(),
        "execveat": execveat.execveat_cases(),
        "elf-valid": elf.valid_programs(), "elf-interp": elf.interp_cases(), "elf-mutated": elf.mutated_programs(),
        "binfmt_misc-flags": binfmt_misc.flag_cases(), "binfmt_misc-registration": binfmt_misc.registration_cases(),
        "binfmt_misc-magic": binfmt_misc.magic_match_cases(), "binfmt_misc-extension": binfmt_misc.extension_cases(),
        "binfmt_misc-interplay": binfmt_misc.interplay_cases(), "binfmt_misc-control": binfmt_misc.control_cases(),
        "binfmt_misc-new-flags": binfmt_misc.new_flag_registration_cases(),
        "binfmt_misc-transparent": binfmt_misc.transparent_cases(), "binfmt_misc-loader": binfmt_misc.loader_cases(),
        "binfmt_misc-disabled": binfmt_misc.disabled_lifecycle_cases(),
    }


# The generators the text-busy (writers) generator wraps.
WRITER_SOURCES = ("shebang-chain", "shebang", "paths", "execveat", "binfmt_misc-flags", "elf-interp")
# The generators the concurrent one draws from (generators/concurrent.py).
CONCURRENT_SOURCES = ("shebang", "paths", "execveat", "binfmt_misc-flags", "text-busy", "elf-valid")
