"""Kernel configuration as part of a profile (model/kconfig.py): reading
configs, the formats list they give, and the model's predictions against
modified configs (no compat ELF, no binfmt_misc, no #!, foreign loaders)."""
from __future__ import annotations

import gzip
from pathlib import Path

import pytest

import model
from contract.case import Case, Exec, File
from generators.formats import pinned
from harness.targets.base import Target
from model import kconfig

CASES = dict(pinned())
DEBIAN_CONFIG = """\
CONFIG_MMU=y
CONFIG_IA32_EMULATION=y
# CONFIG_X86_X32 is not set
CONFIG_COMPAT=y
CONFIG_BINFMT_ELF=y
CONFIG_COMPAT_BINFMT_ELF=y
CONFIG_BINFMT_SCRIPT=y
CONFIG_BINFMT_MISC=m
"""


def test_spec_strings_stay_compatible():
    p = model.profile("5.10.223+dcd46d897adb")
    assert p.name == "5.10.223+dcd46d897adb" and p.config == kconfig.DEFAULT
    assert p.config.formats() == ["misc", "script", "elf", "compat_elf"]
    q = model.profile("6.12+543841d18060;COMPAT_BINFMT_ELF=n;BINFMT_MISC=n")
    assert q.features == model.profile("6.12+543841d18060").features
    assert q.config.formats() == ["script", "elf"]
    assert q.name == "6.12+543841d18060;COMPAT_BINFMT_ELF=n;BINFMT_MISC=n"


def test_parse_debian_config(tmp_path):
    c = kconfig.parse(DEBIAN_CONFIG)
    assert c.get("BINFMT_MISC") == "m" and c.get("BINFMT_FLAT") == "n" and c.known
    assert c.formats() == ["misc", "script", "elf", "compat_elf"]  # the module is assumed loaded
    p = tmp_path / "config.gz"
    p.write_bytes(gzip.compress(DEBIAN_CONFIG.encode()))
    assert kconfig.load(p).values == c.values
    # a Debian package tree: boot/config-VER beside boot/vmlinuz-VER
    (tmp_path / "pkg" / "boot").mkdir(parents=True)
    (tmp_path / "pkg" / "boot" / "config-6.1.0-1-cloud-amd64").write_text(DEBIAN_CONFIG)
    img = tmp_path / "pkg" / "boot" / "vmlinuz-6.1.0-1-cloud-amd64"
    img.write_bytes(b"")
    assert kconfig.for_image(img).name == "config-6.1.0-1-cloud-amd64"
    assert kconfig.load(tmp_path / "pkg").get("BINFMT_MISC") == "m"
    # a 7.x package: usr/lib/modules/VER/config beside its vmlinuz
    mod = tmp_path / "new" / "usr" / "lib" / "modules" / "7.3.4-cloud-amd64"
    mod.mkdir(parents=True)
    (mod / "config").write_text(DEBIAN_CONFIG.replace("=m", "=y"))
    (mod / "vmlinuz").write_bytes(b"")
    assert kconfig.for_image(mod / "vmlinuz") == mod / "config"
    # a build tree: arch/x86/boot/bzImage and .config at its top
    tree = tmp_path / "linux"
    (tree / "arch" / "x86" / "boot").mkdir(parents=True)
    (tree / "Makefile").write_text("")
    (tree / ".config").write_text(DEBIAN_CONFIG.replace("CONFIG_BINFMT_MISC=m", "# CONFIG_BINFMT_MISC is not set"))
    (tree / "arch" / "x86" / "boot" / "bzImage").write_bytes(b"")
    assert kconfig.for_image(tree / "arch" / "x86" / "boot" / "bzImage") == tree / ".config"
    assert kconfig.load(tree).formats() == ["script", "elf", "compat_elf"]


_CACHE = Path(__file__).resolve().parents[1] / "build" / "kernels"


@pytest.mark.parametrize("cfg", sorted([*_CACHE.glob("*/boot/config-*"), *_CACHE.glob("*/usr/lib/modules/*/config")]),
                         ids=lambda p: p.name if p.name != "config" else p.parent.name)
def test_cached_debian_configs(cfg):
    """Every Debian kernel package in the cache: x86-64 ELF, compat ELF, #!
    and binfmt_misc as a module, no foreign loader."""
    c = kconfig.load(cfg)
    assert c.formats() == ["misc", "script", "elf", "compat_elf"], c.describe()
    assert c.get("BINFMT_MISC") == "m"


def _predict(name, spec):
    return model.predict(CASES[name], model.profile(spec))


def test_no_compat_elf_gives_enoexec():
    for name in ("ia32-direct", "em86-direct", "ia32-shebang"):
        assert _predict(name, "6.12")["outcome"] == "exit"
        assert _predict(name, "6.12;COMPAT_BINFMT_ELF=n") == {"outcome": "error", "errno": "ENOEXEC"}
        assert _predict(name, "6.12;ia32_emulation=0") == {"outcome": "error", "errno": "ENOEXEC"}
        assert _predict(name, "6.12;IA32_EMULATION_DEFAULT_DISABLED=y")["outcome"] == "error"
        assert _predict(name, "6.12;IA32_EMULATION_DEFAULT_DISABLED=y;ia32_emulation=1")["outcome"] == "exit"
    # binfmt_misc comes first either way: an em86-style entry runs its interpreter
    for spec in ("6.12", "6.12;COMPAT_BINFMT_ELF=n"):
        assert _predict("em86-misc", spec)["tag"] == "I"
    # the native handler is unaffected
    assert _predict("fdpic-x86-direct", "6.12;COMPAT_BINFMT_ELF=n")["outcome"] == "exit"


def test_no_binfmt_misc_skips_rules():
    for spec in ("6.12;BINFMT_MISC=n", "6.12;BINFMT_MISC=m;binfmt_misc.ko=0"):
        out = _predict("bflt-misc", spec)
        assert out["outcome"] == "skip" and "CONFIG_BINFMT_MISC" in out["reason"]
        assert _predict("bflt-direct", spec) == {"outcome": "error", "errno": "ENOEXEC"}

    class T(Target):
        name = "fake"
        kernel_config = kconfig.parse(DEBIAN_CONFIG.replace("=m", "=n"))
    assert "no binfmt_misc" in T().lacks("binfmt_misc")
    assert "no binfmt_misc" in T().skip_reason(CASES["bflt-misc"])
    assert T().skip_reason(CASES["bflt-direct"]) is None


def test_no_script_handler():
    c = Case(files=(File(path=b"/p", type="probe", mode=0o755, tag="P"),
                    File(path=b"/s", type="file", mode=0o755, data=b"#!/p\n")),
             exec=Exec(path=b"/s", argv=(b"s",), envp=()))
    assert model.predict(c, model.profile("6.12"))["outcome"] == "exec"
    assert model.predict(c, model.profile("6.12;BINFMT_SCRIPT=n")) == {"outcome": "error", "errno": "ENOEXEC"}


def test_foreign_loaders_are_unmodelled_where_configured():
    assert _predict("bflt-direct", "6.12") == {"outcome": "error", "errno": "ENOEXEC"}
    assert _predict("bflt-direct", "6.12;BINFMT_FLAT=y")["outcome"] == "unmodelled"
    assert _predict("aout-qmagic-direct", "5.10;IA32_AOUT=y")["outcome"] == "unmodelled"
    assert _predict("aout-qmagic-direct", "5.10") == {"outcome": "error", "errno": "ENOEXEC"}
    # binfmt_misc still comes first
    assert _predict("bflt-misc", "6.12;BINFMT_FLAT=y")["outcome"] == "exec"
