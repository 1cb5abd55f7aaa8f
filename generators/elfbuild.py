"""A small struct-based ELF writer for crafted test programs.

It writes exactly the header and program-header fields it is given, so it
can express the corrupt headers that lief (which normalises what it writes)
cannot.  Valid programs are one or more PT_LOAD segments over a file that
holds the headers and a few bytes of code calling exit_group(EXIT_CODE).
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field, replace

EXIT_CODE = 42
PAGE = 4096

PT_NULL, PT_LOAD, PT_INTERP, PT_NOTE, PT_PHDR, PT_GNU_STACK = 0, 1, 3, 4, 6, 0x6474E551
PF_X, PF_W, PF_R = 1, 2, 4
ET_REL, ET_EXEC, ET_DYN, ET_CORE = 1, 2, 3, 4
EM_386, EM_ARM, EM_X86_64, EM_AARCH64 = 3, 40, 62, 183

# exit_group(42): mov edi, 42; mov eax, 231; syscall; ud2
CODE64 = bytes.fromhex("bf2a000000b8e70000000f050f0b")
# exit_group(42) for i386: mov ebx, 42; mov eax, 252; int 0x80; ud2
CODE32 = bytes.fromhex("bb2a000000b8fc000000cd800f0b")

EHDR64 = struct.Struct("<16sHHIQQQIHHHHHH")  # 64 bytes
PHDR64 = struct.Struct("<IIQQQQQQ")           # 56 bytes
EHDR32 = struct.Struct("<16sHHIIIIIHHHHHH")  # 52 bytes
PHDR32 = struct.Struct("<IIIIIIII")          # 32 bytes

# The field names of those layouts, in order: with field_at() a reader
# edits one field of a file in place (harness/causes/elf.py) from the same
# layout the writer packs.
EHDR_FIELDS = ("ident", "type", "machine", "version", "entry", "phoff", "shoff", "flags", "ehsize", "phentsize",
               "phnum", "shentsize", "shnum", "shstrndx")
PHDR_FIELDS = {2: ("type", "flags", "offset", "vaddr", "paddr", "filesz", "memsz", "align"),
               1: ("type", "offset", "vaddr", "paddr", "filesz", "memsz", "flags", "align")}
LAYOUT = {2: (EHDR64, PHDR64), 1: (EHDR32, PHDR32)}  # by EI_CLASS-style layout: 1 = 32-bit, 2 = 64-bit


def field_at(st: struct.Struct, names: tuple[str, ...], name: str) -> tuple[int, str]:
    """(offset, struct format) of one field of a layout."""
    codes = re.findall(r"\d*[a-zA-Z]", st.format.lstrip("<"))
    i = names.index(name)
    return struct.calcsize("<" + "".join(codes[:i])), "<" + codes[i]


@dataclass(frozen=True)
class Seg:
    type: int
    flags: int = PF_R | PF_X
    offset: int = 0
    vaddr: int = 0
    filesz: int = 0
    memsz: int = 0
    align: int = PAGE


@dataclass(frozen=True)
class Elf:
    """What goes into the file; every field is written as is."""
    segs: tuple[Seg, ...]
    entry: int
    body: bytes  # everything after the headers (file offset `body_off`)
    body_off: int
    cls: int = 2  # the layout: 1 = 32-bit, 2 = 64-bit (and EI_CLASS unless ei_class says otherwise)
    ei_class: int | None = None
    data: int = 1  # EI_DATA
    version: int = 1  # EI_VERSION
    osabi: int = 0
    type: int = ET_EXEC
    machine: int = EM_X86_64
    phoff: int | None = None  # default: right after the ELF header
    phentsize: int | None = None
    phnum: int | None = None
    magic: bytes = b"\x7fELF"
    tail: bytes = b""  # appended after the body (e.g. PT_INTERP strings)
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def ehsize(self) -> int:
        return 64 if self.cls == 2 else 52

    @property
    def phsize(self) -> int:
        return 56 if self.cls == 2 else 32


def encode(e: Elf) -> bytes:
    """The file's bytes: header, program headers, body, tail."""
    phoff = e.ehsize if e.phoff is None else e.phoff
    ei_class = e.cls if e.ei_class is None else e.ei_class
    ident = (e.magic + bytes([ei_class, e.data, e.version, e.osabi])).ljust(16, b"\0")
    phentsize = e.phsize if e.phentsize is None else e.phentsize
    phnum = len(e.segs) if e.phnum is None else e.phnum
    if e.cls == 2:  # fields wrap at their width, as a C writer's would
        q = (1 << 64) - 1
        hdr = EHDR64.pack(ident, e.type, e.machine, 1, e.entry & q, phoff & q, 0, 0, 64, phentsize, phnum, 64, 0, 0)
        ph = b"".join(PHDR64.pack(s.type, s.flags, s.offset & q, s.vaddr & q, s.vaddr & q, s.filesz & q,
                                  s.memsz & q, s.align & q) for s in e.segs)
    else:
        m = 0xFFFFFFFF
        hdr = EHDR32.pack(ident, e.type, e.machine, 1, e.entry & m, phoff & m, 0, 0, 52, phentsize, phnum, 40, 0, 0)
        ph = b"".join(PHDR32.pack(s.type, s.offset & m, s.vaddr & m, s.vaddr & m, s.filesz & m, s.memsz & m,
                                  s.flags, s.align & m) for s in e.segs)
    out = bytearray(max(e.body_off + len(e.body), phoff + len(ph) if phoff < 1 << 20 else 0, len(hdr)))
    out[:len(hdr)] = hdr
    if phoff < 1 << 20:  # a far-away e_phoff simply has nothing there
        out[phoff:phoff + len(ph)] = ph
    out[e.body_off:e.body_off + len(e.body)] = e.body
    return bytes(out) + e.tail


def program(*, cls: int = 2, type: int = ET_EXEC, base: int = 0x400000, nsegs: int = 1,
            extra_segs: tuple[Seg, ...] = (), align: int = PAGE, code_flags: int = PF_R | PF_X) -> Elf:
    """A valid program: segment 0 maps the whole file (headers and code) at
    `base`; further PT_LOADs map the same page read-write one or more pages
    higher (same file offset modulo the page, as mmap needs)."""
    code = CODE64 if cls == 2 else CODE32
    ehsize, phsize = (64, 56) if cls == 2 else (52, 32)
    nph = nsegs + len(extra_segs)
    body_off = ehsize + phsize * nph
    body_off = (body_off + 15) & ~15
    size = body_off + len(code)
    segs = [Seg(PT_LOAD, code_flags, 0, base, size, size, align)]
    for i in range(1, nsegs):
        segs.append(Seg(PT_LOAD, PF_R | PF_W, 0, base + i * 0x10000, size, size + 64 * i, align))
    return Elf(segs=tuple(segs) + tuple(extra_segs), entry=base + body_off, body=code, body_off=body_off,
               cls=cls, type=type, machine=EM_X86_64 if cls == 2 else EM_386)


def with_tail(e: Elf, tail: bytes) -> tuple[Elf, int]:
    """Append `tail` to the file; returns the new Elf and the tail's offset."""
    off = e.body_off + len(e.body) + len(e.tail)
    return replace(e, tail=e.tail + tail), off
