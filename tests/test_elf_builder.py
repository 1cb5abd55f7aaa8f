"""The struct-based ELF writer agrees with lief on what it wrote, and the
model reads the same fields back."""
from __future__ import annotations

import lief

from generators.elf import add_gnu_stack
from generators.elfbuild import ET_DYN, PF_R, PF_W, encode, program
from model import binfmt_elf as B


def test_builder_matches_lief():
    for e in (program(), program(type=ET_DYN, base=0, nsegs=3), program(cls=1, base=0x8048000)):
        data = encode(e)
        b = lief.ELF.parse(list(data))
        assert b is not None and b.entrypoint == e.entry
        loads = [s for s in b.segments if s.type == lief.ELF.Segment.TYPE.LOAD]
        assert [(s.virtual_address, s.physical_size) for s in loads] == [(s.vaddr, s.filesz) for s in e.segs]
        h = B.NATIVE if e.cls == 2 else B.COMPAT
        eh = B.parse_ehdr(h, data)
        assert (eh.entry, eh.phnum) == (e.entry, len(e.segs))


def test_lief_gnu_stack_is_read_by_model():
    data = add_gnu_stack(encode(program()), PF_R | PF_W)
    eh = B.parse_ehdr(B.NATIVE, data)
    phdrs = B.load_elf_phdrs(B.NATIVE, eh, data, one_page_limit=True)
    assert any(p.type == B.PT_GNU_STACK and p.flags == PF_R | PF_W for p in phdrs)
