"""binfmt_elf: crafted ELF programs and interpreters against load_elf_binary.

Generated: valid programs, PT_INTERP variants, header mutations.  Pinned
(generators/pinned/elf.py): one case per rule of model/binfmt_elf.py, each
named after its rule.  A
crafted program's code is exit_group(42), so an `exit` outcome must carry
that status (the model leaves it out, as the case format says)."""
from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given

from contract.case import File
from generators.elf import _case, interp_cases, mutated_programs, valid_programs
from generators.elfbuild import EXIT_CODE
from generators.pinned.elf import PINNED  # the cases are data: generators/pinned/elf.py


@pytest.fixture(autouse=True)
def _crafted_elf_supported(target):
    if target.crafted_elf_unsupported:
        pytest.skip(target.crafted_elf_unsupported)


def _check(conform, case, pinned=False):
    out = conform(case, pinned=pinned)
    if out["outcome"] == "exit" and "status" in out:  # (the model target has none)
        assert out["status"] == EXIT_CODE, out
    return out


@given(valid_programs())
def test_valid_program(conform, case):
    _check(conform, case)


@given(interp_cases())
def test_pt_interp(conform, case):
    _check(conform, case)


@given(mutated_programs())
def test_mutated_header(conform, case):
    _check(conform, case)


@given(mutated_programs())
def test_mutated_header_more(conform, case):
    _check(conform, case)


@given(interp_cases())
def test_pt_interp_more(conform, case):
    _check(conform, case)


@given(valid_programs())
def test_valid_program_more(conform, case):
    _check(conform, case)


@given(mutated_programs())
def test_mutated_header_again(conform, case):
    _check(conform, case)


def _is_ia32(case) -> bool:
    """The exec'd file is an i386 program (e_machine EM_386/EM_486: the compat
    ELF handler's; the native one ignores EI_CLASS but checks e_machine)."""
    return any(f.path == case.exec.path and f.data[:4] == b"\x7fELF" and f.data[18:20] in (b"\x03\x00", b"\x06\x00")
               for f in case.files)


@pytest.mark.parametrize("name", list(PINNED))
def test_pinned_rule(conform, profile, name):
    rule = PINNED[name].expect
    out = _check(conform, PINNED[name].case, pinned=True)
    got = out.get("errno") or out.get("signal") or out["outcome"]
    if isinstance(rule, tuple):
        commit, with_it, without = rule
        rule = with_it if profile.has(commit) else without
    if _is_ia32(PINNED[name].case) and not profile.config.compat_elf:
        # the rules are the compat ELF handler's; a kernel without it (no
        # COMPAT_BINFMT_ELF, ia32_emulation=0) has no handler for the program
        rule = "ENOEXEC"
    assert got == rule, (name, out)
    if name == "interp-pie-probe":
        assert out["at_base"] is True and out["tag"] == "I"


def test_pie_probe_direct(conform):
    case = _case(b"", ())
    case = replace(case, files=(File(path=b"/e", type="probe", mode=0o755, tag="P", variant="pie"),))
    out = conform(case, pinned=True)
    assert out["outcome"] == "exec" and out["at_base"] is False
