"""Kernel configuration as part of a profile: which binary formats exist.

fs/exec.c asks every registered `struct linux_binfmt` in turn, and which
ones are registered is a build-time choice (fs/Kconfig.binfmt, arch Kconfig):

    CONFIG_BINFMT_MISC      y/m/n  binfmt_misc (insert_binfmt: asked first)
    CONFIG_BINFMT_SCRIPT    y/m/n  "#!"
    CONFIG_BINFMT_ELF       y/n    native ELF (x86-64)
    CONFIG_COMPAT_BINFMT_ELF y/n   ia32 ELF (def_bool COMPAT && BINFMT_ELF;
                                   COMPAT comes from IA32_EMULATION on x86)
    CONFIG_BINFMT_ELF_FDPIC y/n    FDPIC ELF: ARM, or no-MMU M68K/RISCV/SH/XTENSA
    CONFIG_BINFMT_FLAT      y/n    bFLT: only where ARCH_HAS_BINFMT_FLAT (no-MMU)
    CONFIG_BINFMT_AOUT, CONFIG_IA32_AOUT  a.out (x86's went in 5.18, the rest in 6.1)
    CONFIG_BINFMT_EM86      alpha only, gone since 5.1
    CONFIG_BINFMT_MISC_BPF  7.3: binfmt_misc type B entries (bpf struct_ops)

and, at boot, `ia32_emulation=` (6.7+, with IA32_EMULATION_DEFAULT_DISABLED
as its default) switches the compat ELF handler's machine check off.

A config is read from /proc/config.gz (CONFIG_IKCONFIG_PROC), a Debian
kernel package (boot/config-VER or usr/lib/modules/VER/config), or a build
tree's .config.  Without one a profile assumes DEFAULT: x86-64 as Debian
and the host build it (ELF, compat ELF, #!, binfmt_misc).

In a profile spec string a config is given after ';':
"6.12;COMPAT_BINFMT_ELF=n;BINFMT_MISC=n" or "6.12;@/path/to/.config".
"""
from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field
from pathlib import Path

# The options `harness features` prints, in that order.
OPTIONS = ("BINFMT_ELF", "COMPAT_BINFMT_ELF", "IA32_EMULATION", "IA32_EMULATION_DEFAULT_DISABLED",
           "BINFMT_SCRIPT", "BINFMT_MISC", "BINFMT_MISC_BPF", "BINFMT_FLAT", "BINFMT_ELF_FDPIC",
           "BINFMT_AOUT", "IA32_AOUT", "BINFMT_EM86", "MMU")

DEFAULTS = {"BINFMT_ELF": "y", "COMPAT_BINFMT_ELF": "y", "IA32_EMULATION": "y", "COMPAT": "y",
            "BINFMT_SCRIPT": "y", "BINFMT_MISC": "y", "MMU": "y"}

_LINE = re.compile(r"^CONFIG_([A-Za-z0-9_]+)=(.*)$")
_UNSET = re.compile(r"^# CONFIG_([A-Za-z0-9_]+) is not set$")


@dataclass(frozen=True)
class KernelConfig:
    """The options of one kernel build (name without CONFIG_ -> y/m/n or a value)."""
    values: tuple[tuple[str, str], ...] = tuple(sorted(DEFAULTS.items()))
    source: str = "assumed (x86-64 defaults: ELF, compat ELF, #!, binfmt_misc)"
    # boot-time: ia32_emulation= on the command line (None: the build's default)
    ia32_cmdline: bool | None = None
    # BINFMT_MISC=m: whether the target loaded the module (None: assume so)
    misc_module_loaded: bool | None = None
    known: bool = field(default=False)  # read from a real config (not assumed)

    def get(self, name: str) -> str:
        return dict(self.values).get(name.removeprefix("CONFIG_"), "n")

    def on(self, name: str) -> bool:
        return self.get(name) in ("y", "m")

    def with_values(self, **kw: str) -> KernelConfig:
        d = dict(self.values)
        d.update(kw)
        return KernelConfig(tuple(sorted(d.items())), self.source + " + " + ",".join(f"{k}={v}" for k, v in kw.items()),
                            self.ia32_cmdline, self.misc_module_loaded, self.known)

    # ---------------------------------------------------------- what exec asks

    @property
    def binfmt_misc(self) -> bool:
        v = self.get("BINFMT_MISC")
        return v == "y" or (v == "m" and self.misc_module_loaded is not False)

    @property
    def binfmt_script(self) -> bool:
        return self.on("BINFMT_SCRIPT")

    @property
    def binfmt_elf(self) -> bool:
        return self.on("BINFMT_ELF")

    @property
    def compat_elf(self) -> bool:
        """The ia32 ELF handler is registered and ia32_enabled()."""
        if not (self.on("COMPAT_BINFMT_ELF") and self.binfmt_elf):
            return False
        if self.ia32_cmdline is not None:
            return self.ia32_cmdline
        return not self.on("IA32_EMULATION_DEFAULT_DISABLED")

    @property
    def why_no_compat(self) -> str:
        if not self.on("COMPAT_BINFMT_ELF"):
            return "CONFIG_COMPAT_BINFMT_ELF is not set (no IA32_EMULATION)"
        if self.ia32_cmdline is False:
            return "ia32_emulation=0 on the kernel command line"
        return "CONFIG_IA32_EMULATION_DEFAULT_DISABLED=y"

    def formats(self) -> list[str]:
        """The registered handlers in the order search_binary_handler asks them."""
        out = []
        if self.binfmt_misc:
            out.append("misc")
        if self.binfmt_script:
            out.append("script")
        if self.binfmt_elf:
            out.append("elf")
        if self.compat_elf:
            out.append("compat_elf")
        for opt, name in (("BINFMT_ELF_FDPIC", "elf_fdpic"), ("BINFMT_FLAT", "flat"),
                          ("BINFMT_AOUT", "aout"), ("IA32_AOUT", "aout"), ("BINFMT_EM86", "em86")):
            if self.on(opt) and name not in out:
                out.append(name)
        return out

    def describe(self) -> list[str]:
        """One line per option of OPTIONS: `CONFIG_X=v`, with what it means here."""
        lines = []
        for o in OPTIONS:
            v = self.get(o)
            note = _NOTES.get(o, "")
            lines.append(f"CONFIG_{o}={v}" + (f"   # {note}" if note else ""))
        if self.ia32_cmdline is not None:
            lines.append(f"ia32_emulation={'1' if self.ia32_cmdline else '0'} (kernel command line)")
        if self.get("BINFMT_MISC") == "m" and self.misc_module_loaded is not None:
            lines.append(f"binfmt_misc.ko {'loaded' if self.misc_module_loaded else 'NOT loaded'}")
        lines.append("formats asked, in order: " + ", ".join(self.formats()))
        return lines


_NOTES = {
    "BINFMT_AOUT": "a.out (OMAGIC/NMAGIC/ZMAGIC/QMAGIC): removed from x86 in 5.18, everywhere in 6.1",
    "IA32_AOUT": "x86's ia32 a.out loader (gone in 5.18)",
    "BINFMT_EM86": "alpha only; removed in 5.1",
    "BINFMT_FLAT": "needs ARCH_HAS_BINFMT_FLAT (no-MMU arm/m68k/riscv/sh/xtensa)",
    "BINFMT_ELF_FDPIC": "ARM, or M68K/RISCV/SUPERH/XTENSA without MMU",
    "BINFMT_MISC_BPF": "7.3: binfmt_misc type B entries; needs BINFMT_MISC=y",
}

DEFAULT = KernelConfig()


def parse(text: str, source: str = "text") -> KernelConfig:
    vals: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        m = _LINE.match(line)
        if m:
            vals[m.group(1)] = m.group(2).strip('"')
            continue
        m = _UNSET.match(line)
        if m:
            vals[m.group(1)] = "n"
    if "COMPAT_BINFMT_ELF" not in vals and vals.get("COMPAT") == "y" and vals.get("BINFMT_ELF") == "y":
        vals["COMPAT_BINFMT_ELF"] = "y"  # def_bool: old configs may omit it
    return KernelConfig(tuple(sorted((k, v) for k, v in vals.items() if v != "n" or k in OPTIONS)),
                        source, known=True)


def load(path: str | Path) -> KernelConfig:
    """A config file (plain or gzip), or a directory holding one: a build
    tree (.config) or an extracted kernel package (boot/config-*,
    usr/lib/modules/*/config, lib/modules/*/config)."""
    p = Path(path)
    if p.is_dir():
        found = find_in_tree(p)
        if found is None:
            raise FileNotFoundError(f"{p}: no .config, boot/config-* or usr/lib/modules/*/config")
        p = found
    data = p.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return parse(data.decode("utf-8", "replace"), str(p))


def find_in_tree(tree: Path, version: str | None = None) -> Path | None:
    cands = [tree / ".config"]
    for pat in ("boot/config-*", "usr/lib/modules/*/config", "lib/modules/*/config"):
        cands += sorted(tree.glob(pat))
    for c in cands:
        if c.is_file() and (version is None or version in str(c)):
            return c
    return None


def for_image(image: Path) -> Path | None:
    """The config that belongs to a kernel image: boot/config-VER beside
    boot/vmlinuz-VER, usr/lib/modules/VER/config beside its vmlinuz, or the
    .config of the build tree that made arch/x86/boot/bzImage."""
    image = Path(image)
    name = image.name
    if name.startswith("vmlinuz-"):
        c = image.parent / ("config-" + name[len("vmlinuz-"):])
        if c.is_file():
            return c
    if (image.parent / "config").is_file():
        return image.parent / "config"
    for up in list(image.parents)[:4]:  # arch/x86/boot/bzImage -> the tree's top
        if (up / ".config").is_file() and (up / "Makefile").is_file():
            return up / ".config"
    return None


def host() -> KernelConfig | None:
    """The running kernel's config: /proc/config.gz, else /boot/config-$(uname -r)."""
    import os
    for p in (Path("/proc/config.gz"), Path("/boot") / f"config-{os.uname().release}"):
        try:
            return load(p)
        except OSError:
            continue
    return None


def apply_spec(base: KernelConfig, items: list[str]) -> KernelConfig:
    """The ';' parts of a profile spec: '@FILE' loads a config, 'NAME=v'
    sets an option, 'ia32_emulation=0|1' the boot parameter."""
    cfg = base
    for it in items:
        it = it.strip()
        if not it:
            continue
        if it.startswith("@"):
            cfg = load(it[1:])
            continue
        k, sep, v = it.partition("=")
        if not sep:
            raise ValueError(f"config item {it!r}: expected NAME=y|m|n, ia32_emulation=0|1 or @FILE")
        if k == "ia32_emulation":
            cfg = KernelConfig(cfg.values, cfg.source + f" + ia32_emulation={v}", v not in ("0", "n", "false", "off"),
                               cfg.misc_module_loaded, cfg.known)
        elif k == "binfmt_misc.ko":
            cfg = KernelConfig(cfg.values, cfg.source, cfg.ia32_cmdline, v not in ("0", "n", "no"), cfg.known)
        else:
            cfg = cfg.with_values(**{k.removeprefix("CONFIG_"): v})
    return cfg


def spec_items(cfg: KernelConfig) -> str:
    """The ';' suffix that turns DEFAULT into `cfg` for the options exec cares about."""
    out = []
    for o in OPTIONS:
        if cfg.get(o) != DEFAULT.get(o):
            out.append(f"{o}={cfg.get(o)}")
    if cfg.ia32_cmdline is not None:
        out.append(f"ia32_emulation={int(cfg.ia32_cmdline)}")
    if cfg.misc_module_loaded is False:
        out.append("binfmt_misc.ko=0")
    return "".join(";" + o for o in out)
