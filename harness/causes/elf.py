"""Edits of ELF programs and their interpreters: header fields Linux
refuses or ignores, PT_INTERP entries it cannot read, odd PT_LOAD layouts,
the interpreter file, ia32 programs; and describe(), what a file is as far
as exec cares.  Headers are read through generators/elfbuild.py's layouts."""
from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import replace

from contract.case import Case, File
from generators.elfbuild import (
    EHDR_FIELDS,
    EM_386,
    EM_X86_64,
    ET_DYN,
    ET_EXEC,
    LAYOUT,
    PAGE,
    PF_R,
    PF_W,
    PF_X,
    PHDR_FIELDS,
    PT_INTERP,
    PT_LOAD,
    PT_NULL,
    field_at,
)

from .tree import PATH_MAX, _absolute, _norm, _probe_at, _put, program, resolve

IMAGE_SHIFT = 0x400000  # where an ET_EXEC image below mmap_min_addr is moved up by


def describe(f: File | None) -> str:
    """What a file is, as far as exec cares."""
    if f is None:
        return "missing"
    if f.type != "file" and f.type != "probe":
        return {"dir": "a directory", "fifo": "a FIFO", "symlink": "a symlink"}.get(f.type, f"a {f.type}")
    if not f.mode & 0o111:  # named without the mode: one cause whatever the bits
        return "not executable (no x bit)"
    if not f.mode & 0o444:
        return "execute-only (no r bit)"
    if f.type == "probe":
        return "a static ET_EXEC program (not position-independent)" if f.variant == "static" else "a probe"
    d = f.data
    if d[:2] == b"#!":
        return "a #! script"
    if d[:4] != b"\x7fELF":
        return "an empty file" if not d else "neither ELF nor #!"
    if len(d) < 64:
        return f"a truncated ELF ({len(d)} bytes)"
    cls, (etype, machine) = d[4], struct.unpack_from("<HH", d, 16)
    if machine not in (EM_X86_64, EM_386):
        return "an ELF for another machine"
    if etype not in (ET_EXEC, ET_DYN):
        return "an ELF of e_type neither ET_EXEC nor ET_DYN"
    if cls == 1 or machine == EM_386:
        return "an ia32 (32-bit) ELF"
    odd = anomalies(d)
    return f"a crafted ELF with {odd[0]}" if odd else "a crafted ELF"


def _ehdr(d: bytes) -> dict | None:
    """The ELF header fields exec reads, with where each lies in the file
    ("at": name -> (offset, format)), from generators/elfbuild.py's layouts."""
    if d[:4] != b"\x7fELF" or len(d) < 52:
        return None
    layout = 1 if struct.unpack_from("<H", d, 18)[0] == EM_386 else 2
    eh, ph = LAYOUT[layout]
    if len(d) < eh.size:
        return None
    h = dict(zip(EHDR_FIELDS, eh.unpack_from(d)))
    at = {n: field_at(eh, EHDR_FIELDS, n) for n in ("type", "machine", "entry", "phoff", "phentsize", "phnum")}
    return {**h, "layout": layout, "at": at, "ehsize": eh.size, "phsize": ph.size}


def segments(d: bytes) -> list[dict]:
    """The program headers that fit in the file, each with its index and
    position ("pos"), when e_phentsize is the layout's own."""
    h = _ehdr(d)
    if h is None or h["phentsize"] != h["phsize"]:
        return []
    ph = LAYOUT[h["layout"]][1]
    out = []
    for i in range(min(h["phnum"], 512)):
        o = h["phoff"] + i * ph.size
        if o + ph.size > len(d):
            break
        out.append({**dict(zip(PHDR_FIELDS[h["layout"]], ph.unpack_from(d, o))), "index": i, "pos": o})
    return out


def _set_at(d: bytes, at: tuple[int, str], v: int) -> bytes:
    return _set(d, at[0], at[1], v)


def _set_seg(d: bytes, s: dict, name: str, v: int) -> bytes:
    h = _ehdr(d)
    assert h is not None
    off, fmt = field_at(LAYOUT[h["layout"]][1], PHDR_FIELDS[h["layout"]], name)
    return _set(d, s["pos"] + off, fmt, v)


def pt_interp(d: bytes) -> bytes | None:
    """The path the first PT_INTERP names, as load_elf_binary() reads it."""
    for s in segments(d):
        off, fsz = s["offset"], s["filesz"]
        if s["type"] == PT_INTERP and 2 <= fsz and off + fsz <= len(d):
            return d[off:off + fsz].split(b"\0", 1)[0]
    return None


def _set(d: bytes, pos: int, fmt: str, v: int) -> bytes:
    b = bytearray(d)
    struct.pack_into(fmt, b, pos, v)
    return bytes(b)


def _field_fixes(d: bytes) -> list[tuple[str, bytes]]:
    """Each non-standard ELF header field of `d`, with `d` where only that
    field has its usual value."""
    h = _ehdr(d)
    if h is None:
        return []
    out = []
    for pos, name, good in ((4, "EI_CLASS", h["layout"]), (5, "EI_DATA", 1), (6, "EI_VERSION", 1),
                            (7, "EI_OSABI", 0)):
        if d[pos] != good and not (name == "EI_OSABI" and d[pos] == 3):  # 3: ELFOSABI_LINUX
            # named without the value: one cause whatever odd value the case has
            out.append((f"ELF header {name} not the usual one", _set(d, pos, "B", good)))
    if h["type"] not in (ET_EXEC, ET_DYN):
        out.append(("ELF e_type neither ET_EXEC nor ET_DYN", _set_at(d, h["at"]["type"], ET_EXEC)))
    if h["machine"] not in (EM_X86_64, EM_386):
        out.append(("ELF e_machine another machine's", _set_at(d, h["at"]["machine"], EM_X86_64)))
    size = h["phsize"]
    pos, fmt = h["at"]["phentsize"]
    if h["phentsize"] != size:
        out.append(("ELF e_phentsize not the program header's size", _set(d, pos, fmt, size)))
    pos, fmt = h["at"]["phoff"]
    if h["phoff"] + size > len(d) and len(d) >= h["ehsize"] + size:
        out.append(("ELF e_phoff past the end of the file", _set(d, pos, fmt, h["ehsize"])))
    pos, fmt = h["at"]["phnum"]
    fit = max(0, (len(d) - h["phoff"]) // size) if h["phoff"] < len(d) else 0
    phnum_cause = "ELF e_phnum not the program headers the file has (0, or past its end)"  # one cause, 0 or too many
    if h["phnum"] == 0 and fit:
        out.append((phnum_cause, _set(d, pos, fmt, 1)))
    elif h["phnum"] > fit and fit:
        out.append((phnum_cause, _set(d, pos, fmt, fit)))
    interps = [s for s in segments(d) if s["type"] == PT_INTERP]
    if len(interps) > 1:
        b = d
        for s in interps[1:]:
            b = _set_seg(b, s, "type", PT_NULL)
        out.append(("an ELF with more than one PT_INTERP (Linux uses the first)", b))
    return out


def _bad_interp(d: bytes) -> list[tuple[str, bytes]]:
    """The first PT_INTERP, when load_elf_binary() cannot read a name from
    it: the entry dropped (PT_NULL), so the program is static."""
    for s in segments(d):
        off, fsz = s["offset"], s["filesz"]
        if s["type"] != PT_INTERP:
            continue
        if off + fsz > len(d):
            what = "its name past the end of the file"
        elif fsz < 2 or fsz > PATH_MAX:
            what = "a name size under 2 or over PATH_MAX"
        elif d[off + fsz - 1] != 0:
            what = "a name without its NUL"
        else:
            return []
        return [(f"an ELF PT_INTERP entry with {what}", _set_seg(d, s, "type", PT_NULL))]
    return []


def _segment_fixes(d: bytes) -> list[tuple[str, bytes]]:
    """Each odd PT_LOAD layout of `d` (what the kernel's elf_load() and
    padzero() and a simulator's own loader may treat differently), with
    `d` where every PT_LOAD that has it is repaired: the bss dropped, the
    file padded, PF_X added where the entry point lies."""
    from model.binfmt_elf import COMPAT, MMAP_MIN_ADDR, NATIVE
    h = _ehdr(d)
    if h is None:
        return []
    loads = [s for s in segments(d) if s["type"] == PT_LOAD]
    task = (NATIVE if h["layout"] == 2 else COMPAT).task_size
    out: list[tuple[str, bytes]] = []

    def fix(what: str, bad: list[dict], edit: Callable[[bytes, dict], bytes]) -> None:
        if bad:
            b = d
            for s in bad:
                b = edit(b, s)
            out.append((what, b))

    def no_bss(b: bytes, s: dict) -> bytes:
        return _set_seg(b, s, "memsz", s["filesz"])
    huge = [s for s in loads if s["filesz"] < s["memsz"] and s["vaddr"] + s["memsz"] > task]
    fix("a PT_LOAD whose p_memsz reaches past the end of the address space", huge, no_bss)
    fix("a PT_LOAD with a bss (p_memsz over p_filesz) but without PF_W",
        [s for s in loads if s["filesz"] < s["memsz"] and not s["flags"] & PF_W and s not in huge], no_bss)
    fix("a PT_LOAD whose file range runs past the end of the file",
        [s for s in loads if len(d) < s["offset"] + s["filesz"] <= len(d) + (1 << 20)],
        lambda b, s: b.ljust(s["offset"] + s["filesz"], b"\0"))
    fix("a PT_LOAD with p_filesz over p_memsz", [s for s in loads if s["filesz"] > s["memsz"]],
        lambda b, s: _set_seg(b, s, "memsz", s["filesz"]))
    fix("a PT_LOAD whose p_offset and p_vaddr differ modulo the page size (mmap refuses it)",
        [s for s in loads if (s["offset"] - s["vaddr"]) % PAGE],
        lambda b, s: _set_seg(b, s, "offset", s["offset"] - s["offset"] % PAGE + s["vaddr"] % PAGE))
    if h["type"] == ET_EXEC and any(s["vaddr"] < MMAP_MIN_ADDR for s in loads):
        # the whole image moved up (every PT_LOAD and the entry point): mmap
        # refuses a page below mmap_min_addr (page-aligned: comparing p_vaddr
        # is comparing its page), past the point of no return
        b = _set_at(d, h["at"]["entry"], h["entry"] + IMAGE_SHIFT)
        for s in loads:
            b = _set_seg(b, s, "vaddr", s["vaddr"] + IMAGE_SHIFT)
        out.append(("a PT_LOAD below mmap_min_addr", b))
    at = [s for s in loads if s["vaddr"] <= h["entry"] < s["vaddr"] + s["memsz"]]
    fix("its entry point in a PT_LOAD without PF_X", at if not any(s["flags"] & PF_X for s in at) else [],
        lambda b, s: _set_seg(b, s, "flags", s["flags"] | PF_R | PF_X))
    return out


def anomalies(d: bytes) -> list[str]:
    """What is odd about an ELF's PT_LOADs, in words (no edit for the first two)."""
    h = _ehdr(d)
    if h is None:
        return []
    loads = [s for s in segments(d) if s["type"] == PT_LOAD]
    if not loads:
        return ["no PT_LOAD"]
    out = [what for what, _ in _segment_fixes(d)]
    if not any(s["vaddr"] <= h["entry"] < s["vaddr"] + s["memsz"] for s in loads):
        out.append("its entry point outside every PT_LOAD")
    return out


def elf_fields(case: Case) -> list[tuple[str, Case]]:
    f = program(case)
    if f is None or f.type != "file":
        return []
    return [(name, _put(case, f.path, replace(f, data=d))) for name, d in _field_fixes(f.data) + _bad_interp(f.data)
            + [(f"an ELF program with {what}", d) for what, d in _segment_fixes(f.data)]]


def elf_interpreter(case: Case) -> tuple[str, Case] | None:
    """The program is an ELF whose PT_INTERP names an odd file: that file
    replaced by a position-independent probe (what an ld.so is)."""
    f = program(case)
    if f is None or f.type != "file" or (ip := pt_interp(f.data)) is None or not ip:
        return None
    interp = resolve(case, ip)
    if interp is not None and interp.type == "probe" and interp.variant != "static" and interp.mode & 0o555 == 0o555:
        return None
    target = _norm(interp.path) if interp is not None else _norm(_absolute(case, ip))
    what = describe(interp)
    if what in ("a #! script", "an empty file", "neither ELF nor #!") or what.startswith("a truncated ELF"):
        what = "not an ELF (no whole ELF header: a script, an empty or a truncated file)"
    elif what.startswith(("an ELF for another machine", "an ELF of e_type")) or (
            what == "an ia32 (32-bit) ELF" and (fh := _ehdr(f.data)) is not None and fh["machine"] != EM_386):
        what = "an ELF Linux does not accept as interpreter (another machine than the program's, or type)"
    return (f"an ELF interpreter (PT_INTERP) that is {what}",
            _put(case, target, _probe_at(target, "pie", writer=interp)))


def drop_interp(case: Case) -> tuple[str, Case] | None:
    """The program is an ELF with a PT_INTERP: the entry dropped (PT_NULL),
    so the program runs by itself.  Agreeing then, how the simulator finds
    or loads an interpreter at all is the cause (fakechroot leaves the
    interpreter path to the host kernel, untranslated)."""
    f = program(case)
    if f is None or f.type != "file":
        return None
    for s in segments(f.data):
        if s["type"] == PT_INTERP:
            d = _set_seg(f.data, s, "type", PT_NULL)
            return ("an ELF program with an interpreter (PT_INTERP; without it, it agrees)",
                    _put(case, f.path, replace(f, data=d)))
    return None


IA32 = "an ia32 (32-bit x86) ELF program"


# Edits that replace a whole program repair whatever made Linux crash it
# too, so they never name a crash's cause (search._explains).
WHOLE_PROGRAM = frozenset({IA32})


def ia32(case: Case) -> tuple[str, Case] | None:
    """The program is an ia32 ELF with a standard header: replaced by the
    same program built for x86-64 (generators/elfbuild.py: it exits 42 as
    the ia32 one does; search._explains skips the edit when Linux's fate of
    the two differs)."""
    from generators.elfbuild import encode
    from generators.elfbuild import program as elf_program
    f = program(case)
    if f is None or f.type != "file" or (h := _ehdr(f.data)) is None or h["layout"] != 1 or _field_fixes(f.data):
        return None
    if pt_interp(f.data) is not None:
        return None
    return IA32, _put(case, f.path, replace(f, data=encode(elf_program())))
