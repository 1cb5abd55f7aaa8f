"""Builds the native probe and executor with the system C compiler.

Outputs are cached under build/native/<hash of sources and flags>/ so every
worker and every run reuses them; a changed source gets a new directory.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NATIVE = Path(__file__).resolve().parent / "native"
CONTRACT = ROOT / "contract"  # caselimits.h: the limits the executor shares with contract.case
CC = os.environ.get("CC", "cc")

# The probe must not depend on libc at all (it runs in an empty root and must
# see argc == 0 as it is); the executor is a plain static program.
PROGRAMS: dict[str, tuple[str, list[str]]] = {
    "probe": ("probe.c", ["-static", "-nostdlib", "-ffreestanding", "-fno-stack-protector",
                          "-fno-pie", "-no-pie", "-O2", "-s", "-Wl,--build-id=none",
                          "-Wl,-z,max-page-size=4096", "-Wl,-z,noseparate-code"]),
    # The same probe as a static PIE (ET_DYN, no PT_INTERP, no relocations
    # needed: -fPIE code with no pointers in data), so it also runs as a
    # PT_INTERP interpreter; it adds a 'V' record to its report.
    "probe_pie": ("probe.c", ["-static-pie", "-fPIE", "-nostdlib", "-ffreestanding", "-fno-stack-protector",
                              "-O2", "-s", "-Wl,--build-id=none", "-Wl,-z,max-page-size=4096",
                              "-Wl,-z,noseparate-code", "-Wl,--no-dynamic-linker", '-DPROBE_VARIANT="pie"']),
    # The probe for ia32 (ELFCLASS32, EM_386): ET_EXEC and static PIE; they
    # run on any x86-64 kernel with CONFIG_IA32_EMULATION.
    "probe32": ("probe.c", ["-m32", "-static", "-nostdlib", "-ffreestanding", "-fno-stack-protector",
                            "-fno-pie", "-no-pie", "-O2", "-s", "-Wl,--build-id=none",
                            "-Wl,-z,max-page-size=4096", "-Wl,-z,noseparate-code", '-DPROBE_VARIANT="static32"']),
    "probe_pie32": ("probe.c", ["-m32", "-static-pie", "-fPIE", "-nostdlib", "-ffreestanding",
                                "-fno-stack-protector", "-O2", "-s", "-Wl,--build-id=none",
                                "-Wl,-z,max-page-size=4096", "-Wl,-z,noseparate-code",
                                "-Wl,--no-dynamic-linker", '-DPROBE_VARIANT="pie32"']),
    "executor": ("executor.c", ["-static", "-O2", "-Wall"]),
    "init": ("init.c", ["-static", "-O2", "-Wall"]),
    # makes one case's exec call inside a simulator (harness/targets/simulator.py)
    "launch": ("launch.c", ["-static", "-O2", "-Wall"]),
    # glibc's execvp/execvpe/posix_spawnp inside a case root (harness/userspace.py)
    "fallback": ("fallback.c", ["-static", "-O2", "-Wall"]),
    # the same launcher dynamically linked, its exec through libc's execve()
    # (LD_PRELOAD-based simulators such as fakechroot only see libc calls)
    "launch_libc": ("launch.c", ["-O2", "-Wall", "-DLIBC_EXEC"]),
    # a static stand-in for valgrind's launcher (simulators/valgrind.json)
    "vglaunch": ("vglaunch.c", ["-static", "-O2", "-Wall"]),
    # runs a simulator in user+PID+mount namespaces, host read-only (simulator.py)
    "simjail": ("simjail.c", ["-static", "-O2", "-Wall"]),
}


class BuildError(RuntimeError):
    pass


def _key() -> str:
    h = hashlib.sha256(CC.encode())
    h.update(repr(sorted(DERIVED.items())).encode())
    for name, (src, flags) in sorted(PROGRAMS.items()):
        h.update(name.encode() + b"\0" + " ".join(flags).encode() + b"\0")
        h.update((NATIVE / src).read_bytes())
    for hdr in sorted([*NATIVE.glob("*.h"), *CONTRACT.glob("*.h")]):  # caselimits.h and friends
        h.update(hdr.name.encode() + b"\0" + hdr.read_bytes())
    return h.hexdigest()[:16]


def limit(name: str) -> int:
    """A limit of contract/caselimits.h (read once, in contract.case)."""
    from contract.case import LIMITS
    return LIMITS[name]


def build_dir() -> Path:
    return Path(os.environ.get("EXECSPEC_BUILD", ROOT / "build")) / "native" / _key()


# The static-PIE probe with other program headers (kselftest load_address.c
# builds its static PIE with -z max-page-size=0x10000/0x200000): the same
# bytes, only every PT_LOAD's p_align set and, with a shift, every p_vaddr,
# p_paddr and e_entry moved up by it (a page multiple, so offsets and
# addresses stay congruent).  The probe's code is position independent and
# has no relocations, so it runs wherever the kernel puts it.  The kernel
# reads p_align only in maximum_alignment(): what a linker with a larger
# max-page-size would also do to the layout (pad the file) does not matter.
DERIVED: dict[str, tuple[str, int, int]] = {  # name -> (image, p_align, shift)
    "probe_pie64k": ("probe_pie", 0x10000, 0),
    "probe_pie2m": ("probe_pie", 0x200000, 0),
    "probe_pie2m_at64k": ("probe_pie", 0x200000, 0x10000),
}

# Probe variants by name, in the executor's --probe order (contract.case.PROBE_VARIANTS).
PROBES = {"static": "probe", "pie": "probe_pie", "pie64k": "probe_pie64k", "pie2m": "probe_pie2m",
          "pie2m_at64k": "probe_pie2m_at64k", "static32": "probe32", "pie32": "probe_pie32"}


def rewrite_pie(img: bytes, align: int, shift: int) -> bytes:
    """An ELF64 image with every PT_LOAD's p_align = `align` and every
    segment's addresses and the entry moved up by `shift` (DERIVED)."""
    b = bytearray(img)
    assert b[:4] == b"\x7fELF" and b[4] == 2 and shift % 4096 == 0
    entry, phoff = struct.unpack_from("<QQ", b, 24)
    phentsize, phnum = struct.unpack_from("<HH", b, 54)
    struct.pack_into("<Q", b, 24, entry + shift)
    for i in range(phnum):
        o = phoff + i * phentsize
        ptype = struct.unpack_from("<I", b, o)[0]
        if ptype == 0x6474E551:  # PT_GNU_STACK: no address
            continue
        vaddr, paddr = struct.unpack_from("<QQ", b, o + 16)
        struct.pack_into("<QQ", b, o + 16, vaddr + shift, paddr + shift)
        if ptype == 1:  # PT_LOAD
            struct.pack_into("<Q", b, o + 48, align)
    return bytes(b)


def probe_paths(all_variants: bool = False) -> list[Path]:
    """The executor's --probe images, in contract.case.PROBE_VARIANTS order:
    the core probes, or with `all_variants` also the userspace callers of
    "search" cases (harness/userspace: fetches Debian's shells once)."""
    from contract.case import CORE_PROBE_VARIANTS, PROBE_VARIANTS
    out = [native(PROBES[v]) for v in CORE_PROBE_VARIANTS]
    if all_variants:
        from .userspace import image
        out += [image(v) for v in PROBE_VARIANTS[len(CORE_PROBE_VARIANTS):]]
    return out


def native(name: str) -> Path:
    """Path of a built native program, building all of them on first use."""
    out = build_dir()
    target = out / name
    if target.exists():
        return target
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".lock", "w") as lock:  # xdist workers build once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():
            return target
        if shutil.which(CC) is None:
            raise BuildError(f"no C compiler {CC!r}: install gcc (apt-get install gcc libc6-dev)")
        for prog, (src, flags) in PROGRAMS.items():
            tmp = out / f".{prog}.tmp"
            r = subprocess.run([CC, *flags, "-I", str(CONTRACT), "-o", str(tmp), str(NATIVE / src)],
                               capture_output=True, text=True)
            if r.returncode:
                raise BuildError(f"building {prog} failed:\n{r.stderr}")
            tmp.rename(out / prog)
        for prog, (src_img, align, shift) in DERIVED.items():
            tmp = out / f".{prog}.tmp"
            tmp.write_bytes(rewrite_pie((out / src_img).read_bytes(), align, shift))
            tmp.chmod(0o755)
            tmp.rename(out / prog)
    return target


# ---------------------------------------------------------------- inlining for standalone programs

# Build switches inline_headers() resolves (the one C core is written once,
# its variants chosen by -D at build time).
SWITCHES = frozenset({"LIBC_EXEC"})
_LOCAL = re.compile(r'#include "([\w.]+)"')
_SYSTEM = re.compile(r"^#include <[^>]+>", re.M)


def inline_headers(text: str, defined: frozenset[str] = frozenset()) -> str:
    """C source with its `#include "x.h"` of harness/native replaced by the
    header itself, so a reproducer stays one standalone file that fits a
    mail: the header's comments, include guard and the system includes the
    text already has dropped, #ifdef of SWITCHES resolved by `defined`, each
    definition joined into one line, the definitions nothing uses left out,
    and one comment line naming what was inlined."""
    have = {m.group(0) for m in _SYSTEM.finditer(text)}
    out: list[str] = []
    ours: set[int] = set()  # indexes in `out` of inlined definitions
    done: list[str] = []
    first = -1
    for ln in text.split("\n"):
        m = _LOCAL.match(ln)
        if not m:
            out.append(ln)
            continue
        if first < 0:
            first = len(out)
            out.append("")  # the comment, once the headers are known
        if m.group(1) not in done:
            done.append(m.group(1))
            for hl in _header_lines((NATIVE / m.group(1)).read_text(), defined, have):
                ours.add(len(out))
                out.append(hl)
    if first >= 0:
        out[first] = f"/* inlined: harness/native/{', '.join(done)} (the C core every execspec program shares) */"
    while True:  # the unused definitions, until none is left
        unused, whole = set(), "\n".join(out)
        for i in ours:
            name = _defines(out[i])
            uses = re.compile(rf"\b{re.escape(name)}\b") if name else None
            if uses and len(uses.findall(whole)) == len(uses.findall(out[i])):
                unused.add(i)
        if not unused:
            break
        ours -= unused
        out = [ln if i not in unused else "\0" for i, ln in enumerate(out)]
    return "\n".join(ln for ln in out if ln != "\0")


def _defines(line: str) -> str | None:
    """The function or struct a joined header line defines."""
    m = re.match(r"static\b[^(=]*?\b(\w+)\s*\(", line) or re.match(r"(struct \w+) \{", line)
    return m.group(1) if m else None


def _header_lines(src: str, defined: frozenset[str], have: set[str]) -> list[str]:
    """The header's lines to inline, each definition on one line."""
    src = re.sub(r"/\*.*?\*/", "", src, flags=re.S)
    lines = [ln.rstrip() for ln in src.split("\n") if ln.strip()]
    # the include guard: its #ifndef/#define and the last #endif
    if len(lines) >= 3 and lines[0].startswith("#ifndef ") and lines[1] == "#define " + lines[0][8:] \
            and lines[-1] == "#endif":
        lines = lines[2:-1]
    kept: list[str] = []
    stack: list[bool] = []  # per open #if of a switch: is its branch kept?
    for ln in lines:
        word, _, arg = ln.strip().partition(" ")
        if word in ("#ifdef", "#ifndef") and arg.strip() in SWITCHES:
            stack.append((arg.strip() in defined) == (word == "#ifdef"))
            continue
        if word in ("#else", "#endif") and stack:
            if word == "#else":
                stack[-1] = not stack[-1]
            else:
                stack.pop()
            continue
        if not all(stack):
            continue
        inc = _SYSTEM.match(ln)
        if inc and inc.group(0) in have:
            continue
        if inc:
            have.add(inc.group(0))
        kept.append(ln)
    joined: list[str] = []
    cur, depth = "", 0
    for ln in kept:
        if ln.lstrip().startswith("#"):
            if depth:
                raise ValueError(f"a preprocessor line inside a definition cannot be inlined: {ln}")
            joined.append(ln)
            continue
        piece = ln.strip()
        cur = f"{cur} {piece}" if cur else ln
        if len(cur) > 900:  # a mail's lines end at 998
            raise ValueError(f"a definition too long for one line of a reproducer (split it): {cur[:80]}")
        depth += piece.count("{") - piece.count("}")
        if not depth and piece.endswith((";", "}")):
            joined.append(cur)
            cur = ""
    if cur or depth:
        raise ValueError("an unfinished definition at the end of a header")
    return joined
