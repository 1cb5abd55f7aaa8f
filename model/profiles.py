"""Kernel profiles: which exec behaviours a kernel has, as a set of features.

A feature is named after the kernel commit that introduced the behaviour.
A profile is the defaults for its version (mainline release that first had
each feature) plus what is known about backports, plus explicit overrides:
"5.10.223+dcd46d897adb" or "6.12-543841d18060".  Stable kernels carry
backports, so a version number alone is never the whole story.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from .kconfig import DEFAULT as DEFAULT_CONFIG
from .kconfig import KernelConfig, apply_spec


@dataclass(frozen=True)
class Feature:
    commit: str
    since: tuple[int, int]  # first mainline release with it
    title: str
    until: tuple[int, int] | None = None  # first release without it (reverted)


FEATURES: dict[str, Feature] = {f.commit: f for f in (
    Feature("b5372fe5dc84", (5, 0), "exec: load_script: Do not exec truncated interpreter path"),
    Feature("6eb3c3d0a52d", (5, 1), "exec: increase BINPRM_BUF_SIZE to 256"),
    Feature("ce81bb256a22", (5, 10), "fs/binfmt_elf: use PT_LOAD p_align values for suitable start address"),
    Feature("e7850f4d844e", (5, 12), "binfmt_misc: fix possible deadlock in bm_register_write"),
    Feature("2347961b11d4", (5, 12), "binfmt_misc: pass binfmt_misc flags to the interpreter"),
    Feature("dcd46d897adb", (5, 18), "exec: Force single empty string when argv is empty"),
    Feature("0da1d5002745", (5, 18), "fs/binfmt_elf: Fix AT_PHDR for unusual ELF files"),
    Feature("8904d9cd90ee", (5, 18), "ELF: fix overflow in total mapping size calculation"),
    Feature("105ff5339f49", (6, 3), "mm/memfd: add MFD_NOEXEC_SEAL and MFD_EXEC"),
    Feature("202e14222fad", (6, 6), "memfd: do not -EACCES old memfd_create() users with vm.memfd_noexec=2"),
    Feature("21ca59b365c0", (6, 7), "binfmt_misc: enable sandboxed mounts"),
    Feature("585a018627b4", (6, 7), "binfmt_elf: Support segments with 0 filesz and misaligned starts"),
    Feature("8b04d32678e3", (6, 7), "binfmt_elf: Use elf_load() for interpreter"),
    Feature("f9c0a39d9530", (6, 7), "binfmt_elf: Only report padzero() errors when PROT_WRITE"),
    Feature("978ffcbf00d8", (6, 8), "execve: open the executable file before doing anything else"),
    Feature("3545deff0ec7", (6, 11), "binfmt_elf: Honor PT_LOAD alignment for static PIE"),
    Feature("2a010c412853", (6, 11), "fs: don't block i_writecount during exec", until=(6, 13)),
    Feature("543841d18060", (6, 14), "exec: fix up /proc/pid/comm in the execveat(AT_EMPTY_PATH) case"),
    Feature("a5874fde3c08", (6, 14), "exec: Add a new AT_EXECVE_CHECK flag to execveat(2)"),
    Feature("8030790477e8", (6, 17), "binfmt_elf: remove the 4k limitation of program header size"),
    # Al Viro's struct filename rework (vfs work.filename, Dec 2025; the ids
    # are the branch's, the merge may have renumbered them).  Seen on Debian
    # 7.2.13 and 7.3.4, not on 6.18.44; 7.0 is the merge window after it.
    Feature("97da0cea27ab", (7, 0), "simplify the callers of do_open_execat()"),
    Feature("8e85d50ba111", (7, 2), "binfmt_misc: reject a flag character as the field delimiter"),
    # The vfs-7.3.binfmt series (ids from the 7.3 merge window's linux-next log;
    # the behaviour read in Debian's linux-source-7.3 and run on its 7.3.4).
    Feature("22c879a60d82", (7, 3), "binfmt_misc: allow removing entries via unlink(2)"),
    Feature("7830e96d001c", (7, 3), "binfmt_misc: require an absolute interpreter path with 'C'"),
    Feature("b0f09c07966b", (7, 3), "exec: add AT_FLAGS_TRANSPARENT_INTERP"),
    Feature("f1ec2b5604a7", (7, 3), "exec: label mm->exe_file with the binary for a transparent dispatch"),
    Feature("75e536852f9a", (7, 3), "binfmt_misc: add a static transparent flag 'T'"),
    Feature("83cd3989ba09", (7, 3), "binfmt_misc: add the 'L' loader substitution flag"),
    Feature("9984a51e3aa7", (7, 3), "binfmt_misc: let a register string create an entry disabled"),
    Feature("6ec7c96bee30", (7, 3), "binfmt_misc: let a 'B' entry bind its interpreters"),
)}

# The newest mainline version the model knows (7.3: Debian's trixie-backports
# and experimental); a version at or past it has every feature.
NEWEST: tuple[int, int] = max([(7, 3), *(f.since for f in FEATURES.values())])

# Named profiles the suite knows; "newest" is the newest version known.
NAMED = {"5.10": (5, 10), "6.1": (6, 1), "6.12": (6, 12), "6.18": (6, 18), "7.2": (7, 2), "7.3": (7, 3),
         "newest": NEWEST}

# Stable backports: (major, minor) -> [(first patch level, commit)], "-" marking
# a backported revert.  From model/backports.json, which `python -m harness
# backports` derives from Debian's linux changelogs (the upstream stable
# updates each Debian release took), CVE records and, where neither says,
# real-kernel observations; every entry there cites its source.
BACKPORTS_TABLE = Path(__file__).with_name("backports.json")


def load_backports(path: Path = BACKPORTS_TABLE) -> dict[tuple[int, int], list[tuple[int, str]]]:
    out: dict[tuple[int, int], list[tuple[int, str]]] = {}
    for key, row in json.loads(path.read_text())["features"].items():
        for series, r in row["series"].items():
            major, minor = (int(x) for x in series.split("."))
            out.setdefault((major, minor), []).append((int(r["first"].split(".")[2]), key))
    return {k: sorted(v) for k, v in sorted(out.items())}


KNOWN_BACKPORTS: dict[tuple[int, int], list[tuple[int, str]]] = load_backports()


@dataclass(frozen=True)
class Profile:
    name: str
    version: tuple[int, int]
    features: frozenset[str]
    # which binary formats exist (model/kconfig.py); not part of equality of
    # the feature set, but of the profile
    config: KernelConfig = field(default=DEFAULT_CONFIG)

    def has(self, commit: str) -> bool:
        return commit in self.features

    @property
    def binprm_buf_size(self) -> int:
        return 256 if self.has("6eb3c3d0a52d") else 128


_VER = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")


def parse_version(s: str) -> tuple[int, int, int]:
    if s == "newest":
        return (*NEWEST, 0)
    m = _VER.match(s)
    if not m:
        raise ValueError(f"not a kernel version: {s!r} (expected e.g. 6.18, 5.10.223, newest)")
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def profile(spec: str, config: KernelConfig | None = None) -> Profile:
    """Profile for a version string with optional +commit/-commit overrides,
    then optional ';'-separated kernel configuration (model/kconfig.py):
    "6.12+543841d18060;COMPAT_BINFMT_ELF=n" or "6.1;@build/linux/.config".
    `config` is the kernel's configuration as read by a target; the spec's
    items apply on top of it.

    Accepts uname -r strings too ("6.18.44-fc-v657" → 6.18.44).
    """
    spec, *cfg_items = spec.split(";")
    cfg = apply_spec(config or DEFAULT_CONFIG, cfg_items)
    base, *mods = re.split(r"(?=[+-][0-9a-f]{12}\b)", spec.strip())
    major, minor, patch = parse_version(base)
    ver = (major, minor)
    feats = {c for c, f in FEATURES.items() if f.since <= ver and (f.until is None or ver < f.until)}
    for min_patch, commit in KNOWN_BACKPORTS.get(ver, []):
        if patch >= min_patch:
            if commit.startswith("-"):
                feats.discard(commit[1:])
            else:
                feats.add(commit)
    for m in mods:
        commit = m[1:]
        if commit not in FEATURES:
            raise ValueError(f"unknown feature {commit!r}; known: {', '.join(FEATURES)}")
        (feats.add if m[0] == "+" else feats.discard)(commit)
    name = spec.strip() + "".join(";" + i.strip() for i in cfg_items if i.strip())
    if config is not None and not cfg_items:  # a target's config: the name replays it
        from .kconfig import spec_items
        name += spec_items(cfg)
    return Profile(name=name, version=ver, features=frozenset(feats), config=cfg)
