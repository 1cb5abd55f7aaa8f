"""exec's other formats: bFLT, a.out (OMAGIC/NMAGIC/ZMAGIC/QMAGIC), FDPIC
ELF, em86-style and plain ia32 ELF programs, each run directly, as a "#!"
interpreter and claimed by a binfmt_misc entry.  The model predicts them
from the kernel's configuration (model/kconfig.py): ENOEXEC where no loader
is configured (on x86-64: bFLT, a.out, FDPIC), the compat ELF handler for
ia32 programs where COMPAT_BINFMT_ELF is set and ia32 is enabled, and
binfmt_misc first where an entry matches.  Loaders that exist only on other
architectures (binfmt_flat on no-MMU kernels, elf_fdpic on ARM) cannot run
here: a config that has them makes those cases unmodelled (skipped)."""
from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

import model
from generators.binfmt_misc import extension_cases, magic_match_cases
from generators.elfbuild import EXIT_CODE
from generators.formats import format_cases, pinned

PINNED = pinned()
RUNS_CODE = ("ia32", "em86", "fdpic-x86")  # crafted programs that start


def _check(conform, target, case, pinned=False):
    kind = (case.name or "").rsplit("-", 1)[0]
    if kind in RUNS_CODE and target.crafted_elf_unsupported and not case.binfmt_misc:
        pytest.skip(target.crafted_elf_unsupported)
    out = conform(case, pinned=pinned)
    if out["outcome"] == "exit" and "status" in out:
        assert out["status"] == EXIT_CODE, out
    return out


@pytest.mark.parametrize("name,case", PINNED, ids=[n for n, _ in PINNED])
def test_format_pinned(conform, target, name, case):
    from dataclasses import replace
    _check(conform, target, replace(case, name=name), pinned=True)


@given(format_cases(misc=False))
def test_format_without_misc(conform, target, case):
    if case.name.rsplit("-", 1)[0] in RUNS_CODE and target.crafted_elf_unsupported:
        return
    _check(conform, target, case)


@pytest.mark.needs("binfmt_misc")
@given(format_cases())
def test_format_with_misc(conform, target, case):
    if case.name.rsplit("-", 1)[0] in RUNS_CODE and target.crafted_elf_unsupported:
        return
    _check(conform, target, case)


def _would_be(case):
    """A file a binfmt_misc entry would claim: the case without its writes
    (and reads), as a kernel without binfmt_misc has to run it."""
    return replace(case, binfmt_misc=(), binfmt_misc_read=())


@given(st.one_of(format_cases().filter(lambda c: bool(c.binfmt_misc)), magic_match_cases(), extension_cases()))
def test_would_be_rule(conform, target, profile, case):
    """A file that a binfmt_misc entry would claim, run where no entry can be
    registered.  Every kernel runs the file without the entry; on a kernel
    without binfmt_misc (CONFIG_BINFMT_MISC=n, or =m with the module not
    loaded) that is the whole story and is predicted from its config: the
    entry's case itself is unrunnable (the model says skip, naming the
    option), and the file falls through to #!, ELF, compat ELF or ENOEXEC
    (bFLT, a.out and FDPIC files: ENOEXEC)."""
    bare = _would_be(case)
    kind = (case.name or "").rsplit("-", 1)[0]
    if kind in RUNS_CODE and target.crafted_elf_unsupported:
        return
    out = conform(bare)
    if profile.config.binfmt_misc:
        return  # test_format_with_misc and test_binfmt_misc run the entries
    predicted = model.predict(case, profile)
    assert predicted["outcome"] == "skip" and "CONFIG_BINFMT_MISC" in predicted["reason"], predicted
    if case.name and kind not in RUNS_CODE:  # a format file: no loader of its own on x86-64
        assert out == {"outcome": "error", "errno": "ENOEXEC"}, out


@pytest.mark.parametrize("name,case", [(n, c) for n, c in PINNED if n.endswith("-misc")],
                         ids=[n for n, _ in PINNED if n.endswith("-misc")])
def test_would_be_rule_pinned(conform, target, profile, name, case):
    """Each format's file that its binfmt_misc entry claims, without the
    entry: ENOEXEC for bFLT, a.out and FDPIC on x86-64; ia32 programs run
    only where the compat ELF handler is configured and enabled."""
    bare = replace(_would_be(case), name=name.replace("-misc", "-direct"))
    out = _check(conform, target, bare, pinned=True)
    kind = name.rsplit("-", 1)[0]
    if kind not in RUNS_CODE or (kind in ("ia32", "em86") and not profile.config.compat_elf):
        assert out == {"outcome": "error", "errno": "ENOEXEC"}, out
    if not profile.config.binfmt_misc:
        reason = model.predict(case, profile)
        assert reason["outcome"] == "skip" and "CONFIG_BINFMT_MISC" in reason["reason"], reason


def test_other_arch_loaders_skip_with_reason(profile):
    """bFLT and FDPIC loaders exist only on other architectures: on an
    x86-64 config they are never registered, so there is nothing of theirs
    to run here (a qemu-system guest of a no-MMU arch would be needed)."""
    cfg = profile.config
    for opt in ("BINFMT_FLAT", "BINFMT_ELF_FDPIC", "BINFMT_AOUT", "IA32_AOUT", "BINFMT_EM86"):
        if cfg.on(opt):
            pytest.skip(f"CONFIG_{opt}={cfg.get(opt)}: that loader is not modelled")
    pytest.skip("binfmt_flat, binfmt_elf_fdpic, binfmt_aout and binfmt_em86 cannot be configured on x86-64 "
                "(ARCH_HAS_BINFMT_FLAT / ARM or no-MMU / removed in 5.18 and 6.1 / alpha only): their loaders "
                "are only checked to be absent here (ENOEXEC unless binfmt_misc claims the file)")
