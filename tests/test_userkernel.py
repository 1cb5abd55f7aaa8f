"""A kernel whose config lacks binfmt_misc and compat ELF is predicted right.

The kernel is self-built from Debian's linux-source-6.1 without
CONFIG_BINFMT_MISC and CONFIG_IA32_EMULATION (so no COMPAT_BINFMT_ELF):

    harness/qemu/build-kernel.sh --without binfmt_misc,ia32    # ~9-25 min on 2 cores

The build is not part of CI's default path: these tests run where that tree
was built (build/userkernel/linux-source-6.1-without-binfmt_misc-ia32/.ok)
or EXECSPEC_USERKERNEL names such a bzImage, and skip naming the command
otherwise.  The whole suites run on it with
`pytest suites --target qemu --kernel build/userkernel/linux-source-6.1-without-binfmt_misc-ia32`.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

import model
from contract.case import diff_outcomes
from generators.elfbuild import EXIT_CODE
from generators.formats import pinned
from model import kconfig

ROOT = Path(__file__).resolve().parents[1]
TREE = ROOT / "build" / "userkernel" / "linux-source-6.1-without-binfmt_misc-ia32"
ENOEXEC = {"outcome": "error", "errno": "ENOEXEC"}
CASES = dict(pinned())


def _image() -> Path:
    if os.environ.get("EXECSPEC_USERKERNEL"):
        return Path(os.environ["EXECSPEC_USERKERNEL"])
    if not (TREE / ".ok").exists():
        pytest.skip(f"no self-built kernel without binfmt_misc and ia32 ({TREE} not built): "
                    "harness/qemu/build-kernel.sh --without binfmt_misc,ia32 builds it (about 9 min on 2 free cores)")
    return TREE / "arch" / "x86" / "boot" / "bzImage"


def test_its_config_comes_from_the_build_tree():
    image = _image()
    path = kconfig.for_image(image)
    assert path is not None and path.name == ".config" and (path.parent / "Makefile").is_file(), path
    cfg = kconfig.load(path)
    assert cfg.known and cfg.get("BINFMT_MISC") == "n" and cfg.get("IA32_EMULATION") == "n"
    assert not cfg.binfmt_misc and not cfg.compat_elf and cfg.why_no_compat.startswith("CONFIG_COMPAT_BINFMT_ELF")
    assert cfg.formats() == ["script", "elf"]


def test_the_guest_is_predicted_from_its_config():
    """Booted: the target reads the tree's .config, lacks binfmt_misc with
    that reason, ia32 programs give ENOEXEC as predicted, a file a
    binfmt_misc entry would claim falls through to ENOEXEC, and the guest
    really has no binfmt_misc (its executor cannot mount one)."""
    image = _image()
    if shutil.which("qemu-system-x86_64") is None:
        pytest.skip("no qemu-system-x86_64")
    from harness.targets.qemu import QemuTarget
    t = QemuTarget(str(image))
    try:
        cfg = t.kernel_config
        assert cfg is not None and cfg.source == str(kconfig.for_image(image))
        reason = t.lacks("binfmt_misc")
        assert reason and "CONFIG_BINFMT_MISC=n" in reason and ".config" in reason
        profile = model.profile(t.kernel, config=cfg)
        assert not profile.config.binfmt_misc and not profile.config.compat_elf
        for name in ("ia32-direct", "ia32-shebang", "em86-direct", "bflt-direct", "aout-zmagic-direct",
                     "fdpic-arm-direct"):
            predicted = model.predict(CASES[name], profile)
            assert predicted == ENOEXEC, (name, predicted)
            assert t.run(CASES[name]) == predicted, name
        # with binfmt_misc the entry would claim it; here nothing can be registered
        claimed = CASES["ia32-misc"]
        assert model.predict(claimed, replace(profile, config=cfg.with_values(BINFMT_MISC="y")))["tag"] == "I"
        predicted = model.predict(claimed, profile)
        assert predicted["outcome"] == "skip" and "CONFIG_BINFMT_MISC=n" in predicted["reason"]
        assert "CONFIG_BINFMT_MISC=n" in (t.skip_reason(claimed) or "")
        raw = t.guest.run(claimed)  # asked anyway: the guest's executor finds no binfmt_misc to mount
        # mount(2) says ENODEV: the kernel knows no filesystem "binfmt_misc"
        assert raw["outcome"] == "skip" and "binfmt_misc" in raw["reason"] and "ENODEV" in raw["reason"], raw
        assert t.run(replace(claimed, binfmt_misc=())) == ENOEXEC
        # the native handler is untouched: the x86-64 program with FDPIC's OSABI runs
        case = CASES["fdpic-x86-direct"]
        observed = t.run(case)
        assert observed["outcome"] == "exit" and observed.get("status") == EXIT_CODE, observed
        assert not diff_outcomes(model.predict(case, profile), observed, t.observable)
    finally:
        t.close()
