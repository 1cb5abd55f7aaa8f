"""Strategies for crafted ELF files (binfmt_elf).

Three families, each a case that execs /e:
- valid_programs: ET_EXEC at several bases, ET_DYN (static PIE), 1-3
  PT_LOADs, p_align variants, PT_GNU_STACK absent/RW/RWX (added by lief,
  which moves the program-header table into a new PT_LOAD of its own),
  64-bit and ia32 (the host runs IA32 binaries: CONFIG_IA32_EMULATION=y).
- interp_cases: PT_INTERP naming a probe (ET_EXEC or static-PIE), a
  missing or odd path, or an interpreter that is a script, a directory,
  short, not ELF, for another machine, ET_REL, without PT_LOAD...
- mutated_programs: a valid program with corrupt header fields,
  truncations at every header boundary, bad entry points and segments.
"""
from __future__ import annotations

from dataclasses import replace

import lief
from hypothesis import strategies as st

from contract.case import Case, Exec, File, FileCaps, Mount

from .elfbuild import (
    EM_386,
    EM_AARCH64,
    EM_ARM,
    EM_X86_64,
    ET_CORE,
    ET_DYN,
    ET_EXEC,
    ET_REL,
    PAGE,
    PF_R,
    PF_W,
    PF_X,
    PT_INTERP,
    PT_LOAD,
    PT_NOTE,
    Elf,
    Seg,
    encode,
    program,
)

lief.logging.disable()

BASES64 = [0x400000, 0x10000, 0x1000000, 0x100000000, 0x200000000000]
BASES32 = [0x8048000, 0x10000, 0x400000]
ALIGNS = [PAGE, 0, 1, 3, 0x10000, 0x200000, 0x1000 * 3]
STACKS = [None, PF_R | PF_W, PF_R | PF_W | PF_X]


def _case(data: bytes, extra: tuple[File, ...] = (), mode: int = 0o755) -> Case:
    return Case(files=(File(path=b"/e", type="file", mode=mode, data=data), *extra),
                exec=Exec(path=b"/e", argv=(b"e", b"1"), envp=(b"K=V",)))


def add_gnu_stack(data: bytes, flags: int) -> bytes:
    """Adds a PT_GNU_STACK with lief (it relocates the program headers)."""
    b = lief.ELF.parse(list(data))
    assert b is not None, "lief cannot parse an ELF we built"
    seg = lief.ELF.Segment()
    seg.type = lief.ELF.Segment.TYPE.GNU_STACK
    seg.flags = lief.ELF.Segment.FLAGS(flags)
    b.add(seg)
    return bytes(b.write_to_bytes())


@st.composite
def base_programs(draw, allow32: bool = True) -> Elf:
    cls = draw(st.sampled_from([2, 2, 2, 1])) if allow32 else 2
    etype = draw(st.sampled_from([ET_EXEC, ET_EXEC, ET_DYN]))
    base = 0 if etype == ET_DYN else draw(st.sampled_from(BASES64 if cls == 2 else BASES32))
    if etype == ET_DYN:
        base = draw(st.sampled_from([0, 0, 0x10000, 0x400000]))
    return program(cls=cls, type=etype, base=base, nsegs=draw(st.integers(1, 3)),
                   align=draw(st.sampled_from(ALIGNS)),
                   code_flags=draw(st.sampled_from([PF_R | PF_X, PF_R | PF_X, PF_X, PF_R | PF_W | PF_X, PF_R])))


@st.composite
def valid_programs(draw) -> Case:
    e = draw(base_programs())
    data = encode(e)
    stack = draw(st.sampled_from(STACKS))
    if stack is not None:
        data = add_gnu_stack(data, stack)
    return _case(data)


# ------------------------------------------------------------------ PT_INTERP

def with_interp(e: Elf, strings: list[bytes], sizes: list[int | None] | None = None,
                offsets: list[int | None] | None = None) -> bytes:
    """`e` with one PT_INTERP per string (first in table order first), the
    strings stored after the code; sizes/offsets override p_filesz/p_offset."""
    segs = list(e.segs)
    n0 = len(segs)
    nph = n0 + len(strings)
    e = program(cls=e.cls, type=e.type, base=e.segs[0].vaddr, nsegs=sum(s.type == PT_LOAD for s in segs),
                extra_segs=tuple(Seg(PT_INTERP, PF_R) for _ in strings), align=e.segs[0].align,
                code_flags=e.segs[0].flags)
    off = e.body_off + len(e.body)
    tail = b""
    new = list(e.segs[:n0])
    for i, s in enumerate(strings):
        want, at = sizes[i] if sizes else None, offsets[i] if offsets else None
        size = want if want is not None else len(s)
        o = at if at is not None else off + len(tail)
        new.append(Seg(PT_INTERP, PF_R, o, 0, size, size, 1))
        tail += s
    assert len(new) == nph
    return encode(replace(e, segs=tuple(new), tail=tail))


def _interp_elf(kind: str) -> bytes:
    """Crafted interpreters: what load_elf_interp gets to see."""
    base = program(type=ET_DYN, base=0)
    if kind == "dyn":
        return encode(base)
    if kind == "exec":
        return encode(program(type=ET_EXEC, base=0x7000000))
    if kind == "rel":
        return encode(replace(base, type=ET_REL))
    if kind == "core":
        return encode(replace(base, type=ET_CORE))
    if kind == "noload":
        return encode(replace(base, segs=(Seg(PT_NOTE, PF_R, 0, 0, 4, 4),)))
    if kind == "arm":
        return encode(replace(base, machine=EM_AARCH64))
    if kind == "i386":
        return encode(program(cls=1, type=ET_DYN, base=0))
    if kind == "phentsize":
        return encode(replace(base, phentsize=32))
    if kind == "filesz>memsz":
        s = base.segs[0]
        return encode(replace(base, segs=(replace(s, memsz=s.filesz - 1),)))
    if kind == "short":
        return encode(base)[:40]
    if kind == "badmagic":
        return b"\x7fELG" + encode(base)[4:]
    raise ValueError(kind)


INTERP_ELF_KINDS = ["dyn", "exec", "rel", "core", "noload", "arm", "i386", "phentsize", "filesz>memsz",
                    "short", "badmagic"]


@st.composite
def interp_cases(draw) -> Case:
    main = draw(base_programs(allow32=False))
    kind = draw(st.sampled_from(["probe", "probe", "probe", "elf", "missing", "script", "dir", "noexec",
                                 "text", "symlink", "relative", "odd-string", "several"]))
    files: list[File] = []
    path = b"/lib/ld"
    sizes: list[int | None] | None = None
    offsets: list[int | None] | None = None
    strings = [path + b"\0"]
    if kind == "probe":
        files.append(File(path=path, type="probe", mode=0o755, tag="I",
                          variant=draw(st.sampled_from(["pie", "static"]))))
    elif kind == "elf":
        data = _interp_elf(draw(st.sampled_from(INTERP_ELF_KINDS)))
        files.append(File(path=path, type="file", mode=0o755, data=data))
    elif kind == "script":
        body = draw(st.sampled_from([b"#!/lib/p\n", b"#!/lib/p\n" + b"#" * 80]))
        files += [File(path=path, type="file", mode=0o755, data=body),
                  File(path=b"/lib/p", type="probe", mode=0o755, tag="S")]
    elif kind == "dir":
        files.append(File(path=path, type="dir", mode=0o755))
    elif kind == "noexec":
        files.append(File(path=path, type="probe", mode=0o644, tag="I"))
    elif kind == "text":
        files.append(File(path=path, type="file", mode=0o755, data=draw(st.sampled_from(
            [b"", b"x" * 63, b"x" * 64, b"\x7fELF", b"\x7fELF" + b"\0" * 100]))))
    elif kind == "symlink":
        files += [File(path=path, type="symlink", mode=0o777, data=b"/lib/real"),
                  File(path=b"/lib/real", type="probe", mode=0o755, tag="I", variant="pie")]
    elif kind == "relative":
        strings = [b"lib/ld\0"]
        files.append(File(path=path, type="probe", mode=0o755, tag="I", variant="pie"))
    elif kind == "odd-string":
        files.append(File(path=path, type="probe", mode=0o755, tag="I", variant="pie"))
        s, size, off = draw(st.sampled_from([
            (b"/lib/ld", None, None),  # no NUL
            (b"/lib/ld\0junk\0", None, None),  # the name stops at the first NUL
            (b"\0", None, None),  # p_filesz 1
            (b"\0\0", None, None),  # empty name
            (b"/lib/ld\0", 4097, None),  # > PATH_MAX
            (b"/lib/ld\0", 0, None),
            (b"/" * 4088 + b"lib/ld\0", None, None),  # 4095 bytes + NUL = 4096: allowed
            (b"/lib/ld\0", 8, 1 << 20),  # past the end of the file: EIO
            (b"/lib/ld\0", 8, 1 << 63),  # a negative loff_t: EINVAL
            (b"/lib/ld\0", 8, (1 << 63) - 4),  # pos + count overflows: EINVAL
        ]))
        strings, sizes, offsets = [s], [size], [off]
    elif kind == "several":
        second = draw(st.sampled_from([b"/nope\0", b"/lib/ld\0", b"bad"]))
        first = draw(st.sampled_from([b"/lib/ld\0", b"/nope\0"]))
        strings = [first, second]
        files.append(File(path=path, type="probe", mode=0o755, tag="I", variant="pie"))
    data = with_interp(main, strings, sizes, offsets)
    return _case(data, tuple(files))


# ------------------------------------------------------------------ mutations

def _boundaries(e: Elf, n: int) -> list[int]:
    eh = e.ehsize
    ph = e.phsize
    out = [0, 1, 4, 5, 16, 18, 20, 24, eh - 2, eh - 1, eh, eh + 1]
    nph = len(e.segs)
    out += [eh + i * ph + d for i in range(1, nph + 1) for d in (-1, 0)]
    # the code whole (n - 1 only cuts the trailing ud2) or gone, never half
    out += [e.body_off, n - 1]
    return sorted({x for x in out if 0 <= x < n})


MUTATIONS = ["magic", "class", "data", "version", "osabi", "type", "machine", "phentsize", "phnum", "phoff",
             "truncate", "entry", "filesz>memsz", "offset", "overlap", "vaddr", "memsz", "past-eof", "bss",
             "nonload"]


@st.composite
def mutated_programs(draw) -> Case:
    e: Elf = draw(base_programs())
    for m in draw(st.lists(st.sampled_from(MUTATIONS), min_size=1, max_size=2, unique=True)):
        e = _mutate(draw, e, m)
    data = encode(e)
    if "truncate" in e.extra:
        data = data[:e.extra["truncate"]]
    return _case(data)


def _mutate(draw, e: Elf, m: str) -> Elf:
    s0 = e.segs[0]
    if m == "magic":
        return replace(e, magic=draw(st.sampled_from([b"\x7fELf", b"\0ELF", b"\x7fEL\0", b"ELF\x7f"])))
    if m == "class":  # EI_CLASS apart from the layout actually written
        return replace(e, ei_class=draw(st.sampled_from([0, 1, 2, 3, 0xFF])))
    if m == "data":
        return _ident(e, 5, draw(st.sampled_from([0, 2, 3])))
    if m == "version":
        return _ident(e, 6, draw(st.sampled_from([0, 2, 0xFF])))
    if m == "osabi":
        return _ident(e, 7, draw(st.sampled_from([3, 9, 0x61, 0xFF])))
    if m == "type":
        return replace(e, type=draw(st.sampled_from([0, ET_REL, ET_EXEC, ET_DYN, ET_CORE, 0xFE00, 0xFFFF])))
    if m == "machine":
        return replace(e, machine=draw(st.sampled_from([0, EM_386, 6, EM_ARM, EM_X86_64, EM_AARCH64, 0xFFFF])))
    if m == "phentsize":
        return replace(e, phentsize=draw(st.sampled_from([0, 32, 55, 56, 57, 64, 0xFFFF])))
    if m == "phnum":
        k = draw(st.sampled_from(["zero", "more", "pad"]))
        if k == "zero":
            return replace(e, phnum=0)
        if k == "more":  # entries past the end of the file
            return replace(e, phnum=draw(st.sampled_from([len(e.segs) + 1, 0xFFFF, 200])))
        # PT_NULL padding around the one-page (pre-6.17) and 64 KiB limits
        total = draw(st.sampled_from([73, 74, 128, 146, 147, 1170, 1171] if e.cls == 2 else
                                     [128, 129, 2048, 2049]))
        return _pad_phdrs(e, total)
    if m == "phoff":
        n = len(encode(e))
        return replace(e, phoff=draw(st.sampled_from([n, n - 8, 1 << 20, 1 << 32, (1 << 63) + 64, 2**64 - 8, 1])))
    if m == "truncate":
        n = len(encode(e))
        return replace(e, extra={**e.extra, "truncate": draw(st.sampled_from(_boundaries(e, n)))})
    if m == "entry":
        tasksize = (1 << 47) - PAGE if e.cls == 2 else 0xFFFFE000
        # never the ELF header itself: its bytes are not code the model can judge
        choices = [s0.vaddr + 0x100000, tasksize + 16, e.entry]
        if e.type == ET_EXEC:  # (for ET_DYN, 0 is the header)
            choices.append(0)
        if e.cls == 2:
            choices += [1 << 63, 2**64 - 1]
        if len(e.segs) > 1:  # the same code, mapped read-write (not executable)
            choices.append(e.segs[1].vaddr + (e.entry - s0.vaddr))
        return replace(e, entry=draw(st.sampled_from(choices)))
    if m == "filesz>memsz":
        i = draw(st.integers(0, len(e.segs) - 1))
        s = e.segs[i]
        return _seg(e, i, replace(s, memsz=draw(st.sampled_from([0, s.filesz - 1]))))
    if m == "offset":  # p_offset not congruent with p_vaddr modulo the page
        i = draw(st.integers(0, len(e.segs) - 1))
        return _seg(e, i, replace(e.segs[i], offset=draw(st.sampled_from([1, 8, 0x800]))))
    if m == "overlap":  # another PT_LOAD over the code page (same file page), other rights
        return _add_load(e, replace(s0, flags=draw(st.sampled_from([PF_R, PF_R | PF_W, PF_R | PF_X])),
                                    filesz=draw(st.sampled_from([s0.filesz, 16])),
                                    memsz=draw(st.sampled_from([s0.memsz, 16]))))
    if m == "vaddr":
        # not in [4096, 65536): vm.mmap_min_addr differs between hosts
        v = draw(st.sampled_from([0, 0x10000, (1 << 47) - PAGE, 1 << 47, 1 << 63]))
        if e.cls == 1:
            v &= 0xFFFFFFFF
        return _move(e, v)
    if m == "memsz":
        big = draw(st.sampled_from([1 << 47, 1 << 63, 0x100000]))
        return _seg(e, 0, replace(s0, memsz=big if e.cls == 2 else big & 0xFFFFFFFF or 0xFFFFF000))
    if m == "past-eof":  # filesz reaches a page past the end of the file
        return _seg(e, 0, replace(s0, filesz=2 * PAGE, memsz=2 * PAGE + draw(st.sampled_from([0, 100]))))
    if m == "bss":  # a bss on the code segment (padzero on a read-only page)
        return _seg(e, 0, replace(s0, memsz=s0.filesz + draw(st.sampled_from([1, 100, PAGE, 3 * PAGE]))))
    if m == "nonload":  # the only PT_LOAD becomes another type
        return _seg(e, 0, replace(s0, type=draw(st.sampled_from([0, PT_NOTE, 6, 0x6474E552]))))
    raise ValueError(m)


def _ident(e: Elf, i: int, v: int) -> Elf:
    return replace(e, **{{5: "data", 6: "version", 7: "osabi"}[i]: v})  # type: ignore[arg-type]


def _seg(e: Elf, i: int, s: Seg) -> Elf:
    segs = list(e.segs)
    segs[i] = s
    return replace(e, segs=tuple(segs))


def _rebuild(e: Elf, segs: list[Seg]) -> Elf:
    """Room for more program headers: shift the code, keep vaddr = base + off."""
    ph = e.phsize
    body_off = (e.ehsize + ph * len(segs) + 15) & ~15
    delta = body_off - e.body_off
    size = body_off + len(e.body)
    out = []
    for s in segs:
        if s.type == PT_LOAD and s.filesz == e.body_off + len(e.body):
            s = replace(s, filesz=size, memsz=s.memsz + delta)
        out.append(s)
    return replace(e, segs=tuple(out), body_off=body_off, entry=e.entry + delta)


def _add_load(e: Elf, s: Seg) -> Elf:
    return _rebuild(e, [*e.segs, s])


def _pad_phdrs(e: Elf, total: int) -> Elf:
    # a big table grows segment 0 past 64 KiB: move the other PT_LOADs well
    # clear of it (by whole pages, so offsets stay congruent)
    segs = [e.segs[0], *(replace(s, vaddr=s.vaddr + 0x1000000) if s.type == PT_LOAD else s for s in e.segs[1:])]
    return _rebuild(e, [*segs, *[Seg(0, 0) for _ in range(max(0, total - len(e.segs)))]])


def _move(e: Elf, v: int) -> Elf:
    """Segment 0 (and the entry) at vaddr v."""
    s0 = e.segs[0]
    return replace(_seg(e, 0, replace(s0, vaddr=v)), entry=v + (e.entry - s0.vaddr))


# ------------------------------------------------------------------ load addresses

# 3 and 0x7000 are no powers of two (maximum_alignment skips them: 0x7000
# as a mask would clear bit 14 of ELF_ET_DYN_BASE)
ADDR_ALIGNS = (PAGE, PAGE, 0x10000, 0x200000, 0x40000000, 0, 3, 0x7000)
ADDR_RLIMITS = (8 << 20, 8 << 20, 1 << 20, 127 << 20, 128 << 20, 512 << 20, -1)


# the static-PIE probes run directly: p_align of the page, 64 KiB and 2 MiB
# (maximum_alignment; 3545deff0ec7), one at first p_vaddr 64 KiB; the ia32 ones
DIRECT_PROBES = ("pie", "pie", "pie64k", "pie2m", "pie2m_at64k", "pie32", "static32")
INTERP_PROBES = {2: ("pie", "static"), 1: ("pie32", "static32")}
# set-id modes: honoured (4755, 2755, 6755, 4711), sgid without g+x (2745, not set-id)
ADDR_MODES = (0o755, 0o755, 0o4755, 0o2755, 0o2745, 0o6755, 0o4711)


@st.composite
def _credentials(draw, files: tuple[File, ...], final: int, kw: dict
                 ) -> tuple[tuple[File, ...], tuple[Mount, ...], dict]:
    """Owner, set-id bits and capabilities on one of the case's files -- most
    often files[final], bprm->file when the creds are computed -- and an
    identity for the call, mostly not root: begin_new_exec() clears
    ADDR_NO_RANDOMIZE when bprm_fill_uid() honours a set-id bit (even the
    caller's own) or the exec gains capabilities (outcome `personality`);
    a secureexec that gains nothing (the effective flag alone) keeps it but
    caps RLIMIT_STACK at 8 MiB."""
    from .creds import GIDS, UIDS, file_caps, identity
    i = final if draw(st.integers(0, 3)) else draw(st.integers(0, len(files) - 1))
    caps = draw(st.one_of(st.none(), st.none(), file_caps(), st.just(FileCaps(effective=True)),
                          st.just(FileCaps(permitted=1 << 12))))  # CAP_NET_ADMIN
    f = replace(files[i], mode=draw(st.sampled_from(ADDR_MODES)), uid=draw(st.sampled_from(UIDS)),
                gid=draw(st.sampled_from(GIDS)), caps=caps)
    files = (*files[:i], f, *files[i + 1:])
    ident = draw(st.one_of(st.none(), identity(), identity()))
    if ident is not None:
        kw = {**kw, "uid": ident["uid"], "gid": ident["gid"], "groups": ident["groups"]}
    kw = {**kw, "no_new_privs": draw(st.integers(0, 4)) == 0}
    if caps == FileCaps(effective=True):  # a stack limit the 8 MiB cap changes
        kw["rlimit_stack"] = draw(st.sampled_from((128 << 20, 512 << 20, -1)))
    mounts = (Mount(path=b"/", flags=("nosuid",)),) if draw(st.integers(0, 5)) == 0 else ()
    return files, mounts, kw


@st.composite
def address_cases(draw) -> Case:
    """ET_DYN placement under ADDR_NO_RANDOMIZE (kselftest exec/load_address.c,
    setarch -R): a crafted program (64-bit or ia32; ET_EXEC, or ET_DYN at
    p_vaddr 0 or not, one to three PT_LOADs -- the later ones map the headers
    again higher up, which AT_PHDR shows since 5.18 -- with a power-of-two,
    odd or zero p_align) whose PT_INTERP is the static or PIE probe of its
    class, or a static-PIE probe run directly (p_align up to 2 MiB, a
    non-zero first p_vaddr, ia32) or as a #! interpreter (a static PIE: the
    mmap region, whose base follows RLIMIT_STACK around the 128 MiB floor
    and the 5/6 ceiling).  One case in three adds credentials (set-id bits,
    file capabilities, an identity, no_new_privs, a nosuid root), which may
    clear ADDR_NO_RANDOMIZE.  Outcome: the personality, and AT_PHDR,
    AT_ENTRY, AT_BASE as numbers while ADDR_NO_RANDOMIZE survived."""
    rl = draw(st.sampled_from(ADDR_RLIMITS))
    how = draw(st.sampled_from(("interp", "interp", "interp", "pie", "script", "static")))
    kw: dict = {"personality": ("ADDR_NO_RANDOMIZE",), "rlimit_stack": rl}
    argv: tuple[bytes, ...]
    envp: tuple[bytes, ...]
    if how in ("pie", "static"):
        variant = draw(st.sampled_from(DIRECT_PROBES)) if how == "pie" else "static"
        files: tuple[File, ...] = (File(path=b"/p", type="probe", mode=0o755, tag="P", variant=variant),)
        path, argv, envp, final = b"/p", (b"p",), (), 0
    elif how == "script":
        files = (File(path=b"/s", type="file", mode=0o755, data=b"#!/p -x\n"),
                 File(path=b"/p", type="probe", mode=0o755, tag="P", variant=draw(st.sampled_from(DIRECT_PROBES))))
        path, argv, envp, final = b"/s", (b"s",), (), 1  # the interpreter's bits count
    else:
        cls = draw(st.sampled_from([2, 2, 1]))
        etype = draw(st.sampled_from([ET_EXEC, ET_DYN, ET_DYN]))
        if etype == ET_DYN:
            base = draw(st.sampled_from([0, 0, 0x10000, 0x400000]))
        else:
            base = 0x400000 if cls == 2 else draw(st.sampled_from([0x8048000, 0x400000]))
        e = program(cls=cls, type=etype, base=base, nsegs=draw(st.integers(1, 3)),
                    align=draw(st.sampled_from(ADDR_ALIGNS)))
        data = with_interp(e, [b"/lib/ld\0"])
        interp = File(path=b"/lib/ld", type="probe", mode=0o755, tag="I",
                      variant=draw(st.sampled_from(INTERP_PROBES[cls])))
        files = (File(path=b"/e", type="file", mode=0o755, data=data), interp)
        path, argv, envp, final = b"/e", (b"e", b"1"), (b"K=V",), 0  # the program's, not PT_INTERP's
    mounts: tuple[Mount, ...] = ()
    if draw(st.integers(0, 2)) == 0:
        files, mounts, kw = draw(_credentials(files, final, kw))
    return Case(files=files, mounts=mounts, exec=Exec(path=path, argv=argv, envp=envp, **kw))
