"""fs/binfmt_elf.c (and fs/compat_binfmt_elf.c): load_elf_binary().

The kernel reads fixed-layout structs at fixed offsets and checks only a
few fields, so the model does the same with `struct` (a general ELF parser
such as lief would validate or normalise exactly the corrupt headers these
rules are about).  Rules, in load_elf_binary's order; every one before
begin_new_exec() fails execve() with the errno given:

 1. ELF magic, e_type in {ET_EXEC, ET_DYN}, elf_check_arch(): e_machine only
    (EM_X86_64 for the native handler; EM_386/EM_486 for the compat one,
    which reads the 32-bit layout).  EI_CLASS, EI_DATA, EI_VERSION and
    EI_OSABI are never looked at.  Failing any: ENOEXEC (next handler).
 2. load_elf_phdrs(): e_phentsize must be the handler's phdr size; the
    table (e_phnum * size) must be non-empty, at most 64 KiB and, before
    8030790477e8 (6.17), at most one page; reading it at e_phoff must
    succeed in full.  Any failure: ENOEXEC (the read's own errno is lost).
 3. The first PT_INTERP (in table order; later ones are ignored):
    (7.3, 83cd3989ba09: a binfmt_misc L entry's substitute, opened by
    binfmt_misc already, takes the place of the open_exec() below; every
    other check stays; without PT_INTERP the substitute is dropped)
    p_filesz in [2, PATH_MAX] else ENOEXEC; the read of p_filesz bytes at
    p_offset fails with its own errno (EIO when short, EINVAL for a
    negative/overflowing loff_t); the last byte must be NUL else ENOEXEC;
    open_exec() of the string up to its first NUL, relative to the cwd
    (ENOENT, EACCES, ...; an empty name is the cwd: EACCES); reading the interpreter's ELF header (64 or 52
    bytes): a shorter file gives EIO.
 4. The interpreter: ELF magic, elf_check_arch() and load_elf_phdrs():
    each failure is ELIBBAD.  Its e_type is NOT checked here.
 5. begin_new_exec(): the point of no return.  Every later failure kills
    the process with SIGSEGV (bprm_execve: force_fatal_sig): a mapping
    that mmap refuses (file offset and vaddr not congruent modulo the page,
    an address below mmap_min_addr or past TASK_SIZE), p_filesz > p_memsz,
    p_memsz past TASK_SIZE, ET_DYN without PT_LOAD (total_mapping_size 0),
    and in load_elf_interp an interpreter whose e_type is neither ET_EXEC
    nor ET_DYN or that has no PT_LOAD.
 6. Then the entry point (the interpreter's, if there is one) runs: in an
    executable mapping backed by the file it starts the program (a probe
    reports; crafted code "exits"); not mapped or not executable: SIGSEGV;
    a file-backed page wholly past the end of the file: SIGBUS; zero bytes
    at the entry (past EOF in the last page, or cleared by padzero() of a
    writable segment's bss): SIGSEGV.
    Executable means PF_X, or PF_R under READ_IMPLIES_EXEC, which
    elf_read_implies_exec() sets on x86 only for ia32 programs without
    PT_GNU_STACK (never for 64-bit since 5.8).
"""
from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from contract.case import PERSONALITY_FLAGS

from .binfmt_misc import NotModelled
from .errors import Errno
from .namei import open_exec

if TYPE_CHECKING:
    from .exec import Bprm
    from .namei import Node

ET_EXEC, ET_DYN = 2, 3
EM_386, EM_486, EM_X86_64 = 3, 6, 62
PT_LOAD, PT_INTERP, PT_GNU_STACK = 1, 3, 0x6474E551
PF_X, PF_W, PF_R = 1, 2, 4
PAGE = 4096
PATH_MAX = 4096
# vm.mmap_min_addr is a host setting (4096 on the 6.18 host, 65536 on Debian);
# the generators keep off [4096, 65536) so only the common floor matters.
# A user namespace's root cannot map below it (cap_mmap_addr asks init_user_ns).
MMAP_MIN_ADDR = 4096
LOFF_MAX = (1 << 63) - 1


@dataclass(frozen=True)
class Handler:
    """One registered ELF handler: its struct layout and machine check."""
    name: str
    ehdr: struct.Struct  # type, machine, entry, phoff, phentsize, phnum
    phdr: struct.Struct
    machines: frozenset[int]
    task_size: int  # TASK_SIZE once SET_PERSONALITY has run
    ia32: bool


# e_ident is skipped: only the magic is checked, and by offset.
NATIVE = Handler("elf", struct.Struct("<16xHH4xQQ14xHH"), struct.Struct("<IIQQ8xQQQ"),
                 frozenset({EM_X86_64}), (1 << 47) - PAGE, False)
COMPAT = Handler("compat_elf", struct.Struct("<16xHH4xII10xHH"), struct.Struct("<III4xIIII"),
                 frozenset({EM_386, EM_486}), 0xFFFFE000, True)


@dataclass(frozen=True)
class Ehdr:
    type: int
    machine: int
    entry: int
    phoff: int
    phentsize: int
    phnum: int


@dataclass(frozen=True)
class Phdr:
    type: int
    flags: int
    offset: int
    vaddr: int
    filesz: int
    memsz: int
    align: int


def parse_ehdr(h: Handler, buf: bytes) -> Ehdr:
    return Ehdr(*h.ehdr.unpack_from(buf.ljust(64, b"\0"), 0))


def parse_phdr(h: Handler, raw: bytes, off: int) -> Phdr:
    if h is NATIVE:
        t, fl, o, va, fs, ms, al = h.phdr.unpack_from(raw, off)
    else:
        t, o, va, fs, ms, fl, al = h.phdr.unpack_from(raw, off)
    return Phdr(t, fl, o, va, fs, ms, al)


# ------------------------------------------------------------------ probes

# Where the probes' bytes come from.  A prediction about a probe needs its
# headers, but the probes are the harness's programs: the harness registers
# its builder here (harness/__init__.py), so the model imports nothing of it.
_probe_source: Callable[[str], bytes] | None = None


def set_probe_source(source: Callable[[str], bytes]) -> None:
    global _probe_source
    _probe_source = source
    probe_image.cache_clear()


@cache
def probe_image(variant: str = "static") -> bytes:
    """The bytes of a probe variant (the tag patched in by the executor
    lives in .data and changes no header)."""
    if _probe_source is None:
        raise RuntimeError("no probe images: import harness (it registers them with set_probe_source)")
    return _probe_source(variant)


def probe_header(variant: str = "static") -> bytes:
    """The first bytes of a probe (what prepare_binprm reads)."""
    return probe_image(variant)[:256]


def file_bytes(bprm: Bprm, node: Node) -> bytes:
    return probe_image(probe_variant(bprm, node)) if node.is_probe else node.data


def probe_variant(bprm: Bprm, node: Node) -> str:
    f = bprm.fs.files.get(node.path)
    return getattr(f, "variant", "static")


# ------------------------------------------------------------------ reads

def elf_read(data: bytes, pos: int, n: int) -> bytes:
    """elf_read()/kernel_read(): EINVAL for a negative or overflowing loff_t
    (rw_verify_area), EIO for a short read."""
    if pos > LOFF_MAX or pos + n > LOFF_MAX:
        raise Errno("EINVAL")
    if pos + n > len(data):
        raise Errno("EIO")
    return data[pos:pos + n]


def load_elf_phdrs(h: Handler, eh: Ehdr, data: bytes, one_page_limit: bool) -> list[Phdr] | None:
    if eh.phentsize != h.phdr.size:
        return None
    size = h.phdr.size * eh.phnum
    if size == 0 or size > 65536 or (one_page_limit and size > PAGE):
        return None
    try:
        raw = elf_read(data, eh.phoff, size)
    except Errno:
        return None
    return [parse_phdr(h, raw, i * h.phdr.size) for i in range(eh.phnum)]


# ------------------------------------------------------------------ handler

def load_elf_binary(bprm: Bprm, buf: bytes) -> dict[str, Any]:
    """The native handler, then the compat (ia32) one: their machine checks
    are disjoint, so whichever is asked first the other answers ENOEXEC.
    (model.exec asks them separately, as the kernel's config registers them.)"""
    try:
        return _load(bprm, buf, NATIVE)
    except Errno as e:
        if e.name != "ENOEXEC":
            raise
    return _load(bprm, buf, COMPAT)


def load_native_elf(bprm: Bprm, buf: bytes) -> dict[str, Any]:
    """fs/binfmt_elf.c (CONFIG_BINFMT_ELF)."""
    return _load(bprm, buf, NATIVE)


def load_compat_elf(bprm: Bprm, buf: bytes) -> dict[str, Any]:
    """fs/compat_binfmt_elf.c (CONFIG_COMPAT_BINFMT_ELF): its elf_check_arch
    is compat_elf_check_arch(), which also asks ia32_enabled() (6.7+:
    ia32_emulation= on the command line); off, every ia32 file is ENOEXEC."""
    return _load(bprm, buf, COMPAT)


@dataclass
class Interp:
    node: Node
    data: bytes
    eh: Ehdr
    phdrs: list[Phdr]


def _load(bprm: Bprm, buf: bytes, h: Handler) -> dict[str, Any]:
    if buf[:4] != b"\x7fELF":
        raise Errno("ENOEXEC")
    eh = parse_ehdr(h, buf)
    if eh.type not in (ET_EXEC, ET_DYN) or eh.machine not in h.machines:
        raise Errno("ENOEXEC")
    if bprm.file.is_probe:
        # The harness's probes are valid static programs without PT_INTERP:
        # every check passes and they run, so skip the mapping simulation.
        bprm.loader = None  # bprm_drop_loader: no PT_INTERP to substitute for
        from .exec import begin_new_exec, new_program
        try:
            begin_new_exec(bprm)
        except Signal as s:
            return s.outcome()
        out = new_program(bprm, bprm.file)
        if probe_variant(bprm, bprm.file) != "static":
            out["at_base"] = False
        if bprm.no_randomize:
            img = probe_image(probe_variant(bprm, bprm.file))
            peh = parse_ehdr(h, img)
            pph = load_elf_phdrs(h, peh, img, False) or []
            # the probes have a non-executable PT_GNU_STACK: no READ_IMPLIES_EXEC
            out.update(personality_and_addresses(bprm, h, peh, pph, None, [], rie=False))
        return out
    one_page = not bprm.profile.has("8030790477e8")
    data = file_bytes(bprm, bprm.file)
    phdrs = load_elf_phdrs(h, eh, data, one_page)
    if phdrs is None:
        raise Errno("ENOEXEC")

    interp_node, interp_hdr = None, b""
    for ph in phdrs:
        if ph.type != PT_INTERP:
            continue
        if ph.filesz > PATH_MAX or ph.filesz < 2:
            raise Errno("ENOEXEC")
        name = elf_read(data, ph.offset, ph.filesz)
        if name[-1] != 0:
            raise Errno("ENOEXEC")
        if bprm.loader is not None:  # bprm_open_interpreter: a binfmt_misc L substitute (7.3)
            interp_node, bprm.loader = bprm.loader, None
        else:
            interp_node = open_exec(bprm.fs, bprm.cwd, name.split(b"\0", 1)[0], bprm.profile)
        interp_data = file_bytes(bprm, interp_node)
        interp_hdr = elf_read(interp_data, 0, 64 if h is NATIVE else 52)
        break

    bprm.loader = None  # bprm_drop_loader: no PT_INTERP (or it was consumed)
    stack = None  # the last PT_GNU_STACK decides
    for ph in phdrs:
        if ph.type == PT_GNU_STACK:
            stack = bool(ph.flags & PF_X)

    interp = None
    if interp_node is not None:
        if interp_hdr[:4] != b"\x7fELF":
            raise Errno("ELIBBAD")
        ieh = parse_ehdr(h, interp_hdr)
        if ieh.machine not in h.machines:
            raise Errno("ELIBBAD")
        iph = load_elf_phdrs(h, ieh, interp_data, one_page)
        if iph is None:
            raise Errno("ELIBBAD")
        interp = Interp(interp_node, interp_data, ieh, iph)

    # ---- begin_new_exec(): the point of no return
    read_implies_exec = h.ia32 and stack is None
    return _after_point_of_no_return(bprm, h, eh, phdrs, data, interp, read_implies_exec)


# ------------------------------------------------------------------ mapping

class Signal(Exception):
    def __init__(self, name: str = "SIGSEGV", alternatives: tuple[str, ...] = ()):
        super().__init__(name)
        self.name = name
        self.alternatives = alternatives  # other signals the same fault may give

    def outcome(self) -> dict[str, Any]:
        """The task killed by this signal (bprm_execve: force_fatal_sig)."""
        out: dict[str, Any] = {"outcome": "signal", "signal": self.name}
        if self.alternatives:
            out["alternatives"] = [{"outcome": "signal", "signal": a} for a in self.alternatives]
        return out


@dataclass
class Page:
    prot: int  # PF_* bits
    file: bytes | None  # backing file (None: anonymous)
    offset: int  # file offset of the page
    zero_from: int = 0  # bytes from here to the page end read as zeros


def _pagestart(x: int) -> int:
    return x & ~(PAGE - 1)


def _pagealign(x: int) -> int:
    return (x + PAGE - 1) & ~(PAGE - 1)


class AddressSpace:
    """Pages the loader mapped, each with its protection and backing."""

    def __init__(self, task_size: int, read_implies_exec: bool, padzero_ro_ok: bool = True):
        self.pages: dict[int, Page] = {}
        self.task_size = task_size
        self.rie = read_implies_exec
        self.padzero_ro_ok = padzero_ro_ok  # f9c0a39d9530: padzero() errors count only with PROT_WRITE

    def mmap(self, addr: int, size: int, prot: int, file: bytes | None, off: int) -> None:
        """vm_mmap() at a fixed address (the model needs no placement)."""
        if off % PAGE:
            raise Signal()  # EINVAL
        if addr < MMAP_MIN_ADDR or addr + size > self.task_size or size > self.task_size:
            raise Signal()  # EPERM / ENOMEM
        if size > 1 << 32:  # a mapping this size is refused (ENOMEM) before it is touched
            raise Signal()
        for i in range(size // PAGE):
            o = off + i * PAGE
            zero = 0 if file is None else min(PAGE, max(0, len(file) - o))  # past EOF: zeros
            self.pages[addr + i * PAGE] = Page(prot, file, o, zero)

    def executable(self, page: Page) -> bool:
        return bool(page.prot & PF_X) or (self.rie and bool(page.prot & PF_R))


def elf_load(mm: AddressSpace, data: bytes, addr: int, ph: Phdr, prot: int) -> None:
    """elf_load()/elf_map() for one PT_LOAD at `addr` (= bias + p_vaddr)."""
    pageoff = ph.vaddr & (PAGE - 1)
    if ph.filesz:
        start = _pagestart(addr)
        mm.mmap(start, _pagealign(ph.filesz + pageoff), prot, data, ph.offset - pageoff)
        if ph.memsz > ph.filesz:
            zero_start = start + pageoff + ph.filesz
            zero_end = start + pageoff + ph.memsz
            # padzero() faults only on a page past the end of the file; the
            # error counts only for a writable segment.
            pg = mm.pages.get(_pagestart(zero_start))
            if zero_start % PAGE and pg is not None:
                if not prot & PF_W:
                    if not mm.padzero_ro_ok:  # before f9c0a39d9530 the fault is an error
                        raise Signal()
                elif pg.offset >= _pagealign(len(data)):
                    raise Signal()
                else:  # it zeroes the rest of the page, whatever code was there
                    pg.zero_from = min(pg.zero_from, zero_start % PAGE)
    else:
        zero_start = _pagestart(addr)
        zero_end = zero_start + pageoff + ph.memsz
    if ph.memsz > ph.filesz:
        lo, hi = _pagealign(zero_start), _pagealign(zero_end)
        if hi > lo:
            mm.mmap(lo, hi - lo, prot & PF_X | PF_R | PF_W, None, 0)


def _check_task_size(mm: AddressSpace, ph: Phdr, k: int) -> None:
    if k >= mm.task_size or ph.filesz > ph.memsz or ph.memsz > mm.task_size \
            or mm.task_size - ph.memsz < k:
        raise Signal()  # EINVAL (ENOMEM in load_elf_interp)


def _map_image(mm: AddressSpace, eh: Ehdr, phdrs: list[Phdr], data: bytes, dyn_base: int,
               is_interp: bool = False, legacy: bool = False, span_fix: bool = True) -> int:
    """Maps an image's PT_LOADs; returns its load bias.  ET_DYN images go at
    `dyn_base` (where mmap would put them: any free, high enough place).
    `legacy`: the loader before 585a018627b4 (main program) or
    8b04d32678e3 (interpreter), both 6.7: see _map_legacy."""
    loads = [p for p in phdrs if p.type == PT_LOAD]
    bias = 0
    if eh.type == ET_DYN:
        if not loads:
            raise Signal()  # total_mapping_size() == 0: EINVAL
        bias = dyn_base - _pagestart(loads[0].vaddr)
    if not span_fix and loads and (eh.type == ET_DYN or is_interp):
        # Before 8904d9cd90ee (5.18) total_mapping_size() was the last
        # PT_LOAD's end less the first one's page start, in table order: a
        # table not sorted by p_vaddr wraps it to a huge size that the first
        # elf_map() cannot reserve (ENOMEM, after the point of no return).
        span = (loads[-1].vaddr + loads[-1].memsz - _pagestart(loads[0].vaddr)) % (1 << 64)
        if _pagealign(span) == 0 or _pagealign(span) > mm.task_size:
            raise Signal()
    if legacy:
        _map_legacy(mm, loads, data, bias, is_interp)
        return bias
    for ph in loads:
        addr = bias + ph.vaddr
        if addr < 0 or addr >= 1 << 64:
            raise Signal()
        elf_load(mm, data, addr, ph, ph.flags & (PF_R | PF_W | PF_X))
        # load_elf_binary checks the raw p_vaddr, load_elf_interp the biased one
        _check_task_size(mm, ph, addr if is_interp else ph.vaddr)
    return bias


def _clear_user(mm: AddressSpace, addr: int, n: int) -> bool:
    """clear_user() of [addr, addr+n) within one page: False when it faults
    (unmapped, not writable, or a file page wholly past EOF)."""
    pg = mm.pages.get(_pagestart(addr))
    if pg is None or not pg.prot & PF_W:
        return False
    if pg.file is not None and pg.offset >= _pagealign(len(pg.file)):
        return False  # SIGBUS in the fault: clear_user reports it as unwritten
    if (addr + n) % PAGE == 0 or n >= PAGE - addr % PAGE:
        pg.zero_from = min(pg.zero_from, addr % PAGE)
    return True


def _set_brk(mm: AddressSpace, start: int, end: int, prot: int) -> None:
    """set_brk()/vm_brk_flags(): anonymous read-write pages for the bss."""
    lo, hi = _pagealign(start), _pagealign(end)
    if hi > lo:
        mm.mmap(lo, hi - lo, prot & PF_X | PF_R | PF_W, None, 0)


def _map_legacy(mm: AddressSpace, loads: list[Phdr], data: bytes, bias: int, is_interp: bool) -> None:
    """The loader before 585a018627b4 ("Support segments with 0 filesz and
    misaligned starts", 6.7): elf_map() maps only the file part; the bss is
    tracked image-wide as elf_bss = max(p_vaddr + p_filesz) and elf_brk =
    max(p_vaddr + p_memsz), mapped by set_brk() and zeroed by padzero().

    load_elf_binary: a bss left by an earlier segment is mapped and its page
    tail cleared (errors ignored) before the next segment; after the loop
    padzero(elf_bss) must succeed when elf_bss != elf_brk, else EFAULT.
    load_elf_interp: padzero(elf_bss) is unconditional, so an interpreter
    whose last file byte ends mid-page on a non-writable segment fails
    (SIGSEGV) even with no bss at all; its segments after the first are
    mapped MAP_FIXED_NOREPLACE (an overlap is EEXIST)."""
    elf_bss = elf_brk = 0
    bss_prot = 0
    first = True
    for ph in loads:
        if not is_interp and elf_brk > elf_bss:
            _set_brk(mm, elf_bss + bias, elf_brk + bias, bss_prot)
            if (elf_bss + bias) % PAGE:
                n = min(PAGE - (elf_bss + bias) % PAGE, elf_brk - elf_bss)
                _clear_user(mm, elf_bss + bias, n)  # "odd protections": ignored
        addr = bias + ph.vaddr
        if addr < 0 or addr >= 1 << 64:
            raise Signal()
        pageoff = ph.vaddr & (PAGE - 1)
        size = _pagealign(ph.filesz + pageoff)
        if size:
            start = _pagestart(addr)
            if is_interp and not first and any(start + i * PAGE in mm.pages for i in range(min(size // PAGE, 1 << 20))):
                raise Signal()  # MAP_FIXED_NOREPLACE: EEXIST
            mm.mmap(start, size, ph.flags & (PF_R | PF_W | PF_X), data, ph.offset - pageoff)
        first = False
        _check_task_size(mm, ph, addr if is_interp else ph.vaddr)
        elf_bss = max(elf_bss, ph.vaddr + ph.filesz)
        if ph.vaddr + ph.memsz > elf_brk:
            elf_brk, bss_prot = ph.vaddr + ph.memsz, ph.flags & (PF_R | PF_W | PF_X)
    elf_bss += bias
    elf_brk += bias
    if is_interp:
        if elf_bss % PAGE and not _clear_user(mm, elf_bss, PAGE - elf_bss % PAGE):
            raise Signal()  # padzero: EFAULT
        _set_brk(mm, elf_bss, elf_brk, bss_prot)
        return
    _set_brk(mm, elf_bss, elf_brk, bss_prot)
    if elf_bss != elf_brk and elf_bss % PAGE and not _clear_user(mm, elf_bss, PAGE - elf_bss % PAGE):
        raise Signal()  # padzero: EFAULT


def _after_point_of_no_return(bprm: Bprm, h: Handler, eh: Ehdr, phdrs: list[Phdr], data: bytes,
                              interp: Interp | None, rie: bool) -> dict[str, Any]:
    from .exec import begin_new_exec
    mm = AddressSpace(h.task_size, rie, padzero_ro_ok=bprm.profile.has("f9c0a39d9530"))
    try:
        begin_new_exec(bprm)  # before any mapping (load_elf_binary)
        # ET_DYN main programs and interpreters get separate, free regions.
        # The 6.7 rework came as a series; stable kernels took parts of it.
        bias = _map_image(mm, eh, phdrs, data, dyn_base=0x5555_5555_4000 if not h.ia32 else 0x5655_5000,
                          legacy=not bprm.profile.has("585a018627b4"),
                          span_fix=bprm.profile.has("8904d9cd90ee"))
        runner, entry = bprm.file, eh.entry + bias
        at_base = 0
        if interp is not None:
            if interp.eh.type not in (ET_EXEC, ET_DYN):
                raise Signal()
            if not any(p.type == PT_LOAD for p in interp.phdrs):
                raise Signal()  # total_mapping_size() == 0: EINVAL
            ibias = _map_image(mm, interp.eh, interp.phdrs, interp.data,
                               dyn_base=0x7F00_0000_0000 if not h.ia32 else 0xF700_0000, is_interp=True,
                               legacy=not bprm.profile.has("8b04d32678e3"),
                               span_fix=bprm.profile.has("8904d9cd90ee"))
            at_base = ibias if interp.eh.type == ET_DYN else 0
            runner, entry = interp.node, interp.eh.entry + ibias
        if entry >= mm.task_size:
            raise Signal()  # BAD_ADDR(elf_entry): EINVAL
        page = mm.pages.get(_pagestart(entry))
        if page is None and eh.type == ET_DYN and interp is None:
            # A static-PIE-like image goes in the mmap region, where the vDSO
            # and its vvar pages are placed too: with ASLR an entry outside
            # the image may land on them, and a vvar page faults with SIGBUS
            # (seen on 6.18 now and then for the same case).
            raise Signal(alternatives=("SIGBUS",))
        if page is None or not mm.executable(page):
            raise Signal()
        if page.file is not None and page.offset >= _pagealign(len(page.file)):
            raise Signal("SIGBUS")  # a file page wholly past EOF
        if entry % PAGE >= page.zero_from:
            # zero bytes (anonymous memory, past EOF, cleared by padzero): on
            # x86 "00 00" is add %al,(%rax) with rax = 0, a fault at address 0
            raise Signal()
    except Signal as s:
        return s.outcome()
    if not runner.is_probe:
        return {"outcome": "exit"}
    from .exec import new_program
    out = new_program(bprm, runner)
    if probe_variant(bprm, runner) != "static":
        out["at_base"] = at_base != 0
    if bprm.no_randomize:
        out.update(personality_and_addresses(bprm, h, eh, phdrs, interp.eh if interp else None,
                                             interp.phdrs if interp else [], rie))
    return out


# ------------------------------------------------------------------ load addresses (ADDR_NO_RANDOMIZE)

ADDR_NO_RANDOMIZE = PERSONALITY_FLAGS["ADDR_NO_RANDOMIZE"]
READ_IMPLIES_EXEC = 0x0400000  # include/uapi/linux/personality.h


def personality_and_addresses(bprm: Bprm, h: Handler, eh: Ehdr, phdrs: list[Phdr], ieh: Ehdr | None,
                              iphdrs: list[Phdr], rie: bool) -> dict[str, Any]:
    """The outcome of a case that sets ADDR_NO_RANDOMIZE: `personality`, what
    personality(0xffffffff) returns in the new program, and the load
    addresses while ADDR_NO_RANDOMIZE survived the exec.
    begin_new_exec() clears bprm->per_clear (PER_CLEAR_ON_SETID: creds.py
    per_clear_on_setid) from the caller's personality; then SET_PERSONALITY
    (set_personality_64bit drops READ_IMPLIES_EXEC, the ia32 one keeps it),
    and elf_read_implies_exec() adds READ_IMPLIES_EXEC for an ia32 program
    without PT_GNU_STACK.  Without ADDR_NO_RANDOMIZE the program ran with
    PF_RANDOMIZE: its addresses are random and not part of the outcome."""
    from . import creds
    pers = ADDR_NO_RANDOMIZE
    rlimit_stack = bprm.stack_rlimit
    if bprm.want_creds:
        cred = bprm.fs.cred or creds.ROOT
        if creds.per_clear_on_setid(bprm.file, cred):
            pers = 0
        if creds.exec_creds(bprm.file, cred)["at_secure"] and not 0 <= rlimit_stack <= STK_LIM:
            # begin_new_exec(): a secureexec caps RLIMIT_STACK at _STK_LIM
            # before arch_pick_mmap_layout() reads it
            rlimit_stack = STK_LIM
    if rie:
        pers |= READ_IMPLIES_EXEC
    out: dict[str, Any] = {"personality": pers}
    if pers & ADDR_NO_RANDOMIZE:
        out.update(load_addresses(bprm, h, eh, phdrs, ieh, iphdrs, rlimit_stack))
    return out


STK_LIM = 8 << 20  # _STK_LIM
STACK_GUARD_GAP = 256 * PAGE  # mm/mmap.c stack_guard_gap (1 MiB; stack_guard_gap= on the command line)
SIZE_128M = 128 << 20
# x86-64 ELF_ET_DYN_BASE: DEFAULT_MAP_WINDOW / 3 * 2 (0x555555554aaa; its
# page start, 0x555555554000, is where gdb shows PIE programs)
ELF_ET_DYN_BASE = NATIVE.task_size // 3 * 2
# ... and for an ia32 program fs/compat_binfmt_elf.c replaces ELF_ET_DYN_BASE
# (whose own ia32 value would be 0x400000) by x86's COMPAT_ELF_ET_DYN_BASE,
# TASK_UNMAPPED_BASE + 16 MiB: PAGE_ALIGN(task_size_32bit() / 3) + 0x1000000
# = 0x56555000, where gdb shows ia32 PIE programs on x86-64 (task_size_32bit():
# IA32_PAGE_OFFSET without ADDR_LIMIT_3GB, the COMPAT handler's task size)
COMPAT_ELF_ET_DYN_BASE = ((COMPAT.task_size // 3 + 4095) & ~4095) + 0x1000000


def mmap_base(rlimit_stack: int, task: int) -> int:
    """arch/x86/mm/mmap.c mmap_base() without randomisation (no PF_RANDOMIZE:
    rnd 0, stack_maxrandom_size 0): the top-down mmap region starts below a
    gap of RLIMIT_STACK + stack_guard_gap, clamped to [128 MiB, 5/6 of the
    task size]; RLIM_INFINITY would overflow the sum and stays as is (the
    clamp then takes 5/6).  x86 never falls back to the legacy bottom-up
    layout for an unlimited stack (its mmap_is_legacy() asks only
    ADDR_COMPAT_LAYOUT and vm.legacy_va_layout, both off here).  Task size:
    DEFAULT_MAP_WINDOW (task_size_64bit(0)) for mm->mmap_base;
    arch_pick_mmap_layout() computes mm->mmap_compat_base the same way from
    task_size_32bit(), and an ia32 program's mappings use that one:
    get_mmap_base() asks in_32bit_syscall(), which set_personality_ia32()
    made true (TS_COMPAT) for the rest of the exec."""
    gap = (1 << 64) - 1 if rlimit_stack < 0 else rlimit_stack
    if gap + STACK_GUARD_GAP < 1 << 64:
        gap += STACK_GUARD_GAP
    gap = min(max(gap, SIZE_128M), task // 6 * 5)
    return _pagealign(task - gap)


def maximum_alignment(phdrs: list[Phdr]) -> int:
    """maximum_alignment() (ce81bb256a22, 5.10): the largest power-of-two
    p_align of the PT_LOADs (others are skipped as invalid), page aligned."""
    a = 0
    for p in phdrs:
        if p.type == PT_LOAD and p.align and p.align & (p.align - 1) == 0:
            a = max(a, p.align)
    return _pagealign(a)


def _total_size(loads: list[Phdr]) -> int:
    """ELF_PAGEALIGN(total_mapping_size()) (8904d9cd90ee: lowest start to highest end)."""
    lo = min(p.vaddr for p in loads)
    hi = max(p.vaddr + p.memsz for p in loads)
    return _pagealign(hi - _pagestart(lo))


def load_addresses(bprm: Bprm, h: Handler, eh: Ehdr, phdrs: list[Phdr], ieh: Ehdr | None,
                   iphdrs: list[Phdr], rlimit_stack: int) -> dict[str, Any]:
    """AT_PHDR, AT_ENTRY and AT_BASE under ADDR_NO_RANDOMIZE
    (load_elf_binary, load_elf_interp, create_elf_tables):
    - ET_EXEC: at its p_vaddrs (load_bias 0).
    - ET_DYN with PT_INTERP (a PIE program): load_bias = ELF_ET_DYN_BASE
      (COMPAT_ELF_ET_DYN_BASE for ia32), masked down to maximum_alignment(), less the
      first PT_LOAD's p_vaddr, page start (MAP_FIXED_NOREPLACE there).
    - ET_DYN without PT_INTERP (a static PIE, a loader run directly) and an
      ET_DYN interpreter: a load_bias of 0, i.e. wherever the first mmap of
      the whole span (total_mapping_size, page aligned) lands: top-down from
      mmap_base() (the compat one for ia32), so right below it while nothing
      else is mapped there.
    - A static PIE whose maximum_alignment() is above the page, since
      3545deff0ec7 (6.11): that first mmap is only a probe (load_elf_binary
      maps the span at address 0, i.e. anywhere, and unmaps it); its address
      masked down to the alignment, less the first p_vaddr, page start, is
      the load_bias, mapped there with MAP_FIXED_NOREPLACE.  Before, the
      alignment is ignored for it.  (The interpreter's own p_align is never
      honoured: load_elf_interp maps at 0 + vaddr.)
    - AT_PHDR: since 0da1d5002745 (5.18) e_phoff translated through the
      last PT_LOAD whose file range holds it, plus the bias (0 + the bias
      when none does); before, the first PT_LOAD's p_vaddr - p_offset,
      biased, + e_phoff.  A program with two PT_LOADs of the same file
      range at different addresses tells them apart.
    - AT_ENTRY: e_entry + bias; AT_BASE: the interpreter's bias if it is
      ET_DYN, else 0."""
    loads = [p for p in phdrs if p.type == PT_LOAD]
    base = mmap_base(rlimit_stack, h.task_size)  # the compat task size for ia32
    top = base  # the free top of the mmap region
    bias = 0
    if eh.type == ET_DYN:
        align = maximum_alignment(phdrs) if bprm.profile.has("ce81bb256a22") else 0
        if ieh is not None:
            dyn_base = COMPAT_ELF_ET_DYN_BASE if h.ia32 else ELF_ET_DYN_BASE
            want = dyn_base & ~(align - 1) if align else dyn_base
            bias = _pagestart(want - loads[0].vaddr)
        else:
            top = base - _total_size(loads)
            start = top
            if align > PAGE and bprm.profile.has("3545deff0ec7"):
                start = top & ~(align - 1)  # MAP_FIXED_NOREPLACE below the probed place
            bias = _pagestart(start - loads[0].vaddr)
    else:
        near = 1 << 28 if h.ia32 else 1 << 32
        for p in loads:  # an ET_EXEC in the mmap region would move the interpreter down
            if p.vaddr + p.memsz > base - near:
                raise NotModelled("an ET_EXEC program mapped near the mmap base")
    if bprm.profile.has("0da1d5002745"):
        # the PT_LOAD whose file range holds e_phoff -- the last one that
        # does, as the loop has no break; none: 0 (+ the bias)
        phdr = 0
        for p in loads:
            if p.offset <= eh.phoff < p.offset + p.filesz:
                phdr = eh.phoff - p.offset + p.vaddr
        phdr += bias
    else:  # load_addr (the first PT_LOAD's p_vaddr - p_offset, biased) + e_phoff
        phdr = loads[0].vaddr - loads[0].offset + bias + eh.phoff if loads else eh.phoff
    at_base = 0
    if ieh is not None and ieh.type == ET_DYN:
        iloads = [p for p in iphdrs if p.type == PT_LOAD]
        at_base = top - _total_size(iloads) - _pagestart(iloads[0].vaddr)
    mask = 0xFFFFFFFF if h.ia32 else (1 << 64) - 1  # the ia32 auxiliary vector's words
    return {"at_phdr": phdr & mask, "at_entry": (eh.entry + bias) & mask, "at_base_addr": at_base & mask}
