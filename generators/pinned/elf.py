"""Pinned binfmt_elf cases (suites/test_elf.py): one per rule of
model/binfmt_elf.py, each named after its rule, with the outcome the rule
gives (`Pinned.expect`).  A crafted program's code is exit_group(42)."""
from __future__ import annotations

from dataclasses import replace

from contract.case import Case, Exec, File, FileCaps
from generators.elf import _case, _interp_elf, _pad_phdrs, add_gnu_stack, with_interp
from generators.elfbuild import (
    EM_386,
    EM_AARCH64,
    ET_CORE,
    ET_DYN,
    ET_REL,
    PAGE,
    PF_R,
    PF_W,
    PF_X,
    Elf,
    Seg,
    encode,
    program,
)

from . import Pinned, Rule

P = program()
PROBE_I = File(path=b"/lib/ld", type="probe", mode=0o755, tag="I", variant="pie")
STATIC_I = File(path=b"/lib/ld", type="probe", mode=0o755, tag="I")
s0 = P.segs[0]


def _ph(e: Elf, i: int, **kw: int) -> Elf:
    segs = list(e.segs)
    segs[i] = replace(segs[i], **kw)
    return replace(e, segs=tuple(segs))


def _interp(data: bytes) -> tuple[File, ...]:
    return (File(path=b"/lib/ld", type="file", mode=0o755, data=data),)


# name -> (file bytes, extra files, expected outcome kind or errno, or
# (feature commit, expected with it, expected without it)) -- the expectation
# documents the rule; the comparison itself is always model vs kernel.
_PINNED: dict[str, tuple[bytes, tuple[File, ...], Rule]] = {
    "valid-exec": (encode(P), (), "exit"),
    "valid-dyn-static-pie": (encode(program(type=ET_DYN, base=0)), (), "exit"),
    "valid-ia32": (encode(program(cls=1, base=0x8048000)), (), "exit"),
    "three-loads": (encode(program(nsegs=3)), (), "exit"),
    "gnu-stack-rwx": (add_gnu_stack(encode(P), PF_R | PF_W | PF_X), (), "exit"),
    "align-2m-dyn": (encode(program(type=ET_DYN, base=0, align=0x200000)), (), "exit"),
    "align-not-power-of-2": (encode(program(type=ET_DYN, base=0, align=3 * PAGE)), (), "exit"),
    "bad-magic": (b"\x7fELG" + encode(P)[4:], (), "ENOEXEC"),
    "ei-class-ignored": (encode(replace(P, ei_class=1)), (), "exit"),
    "ei-data-ignored": (encode(replace(P, data=2)), (), "exit"),
    "ei-version-osabi-ignored": (encode(replace(P, version=0, osabi=0xFF)), (), "exit"),
    "et-rel": (encode(replace(P, type=ET_REL)), (), "ENOEXEC"),
    "et-core": (encode(replace(P, type=ET_CORE)), (), "ENOEXEC"),
    "machine-aarch64": (encode(replace(P, machine=EM_AARCH64)), (), "ENOEXEC"),
    "machine-386-64bit-layout": (encode(replace(P, machine=EM_386)), (), "ENOEXEC"),
    "phentsize-55": (encode(replace(P, phentsize=55)), (), "ENOEXEC"),
    "phnum-0": (encode(replace(P, phnum=0)), (), "ENOEXEC"),
    "phnum-past-eof": (encode(replace(P, phnum=2)), (), "ENOEXEC"),
    "phoff-past-eof": (encode(replace(P, phoff=1 << 20)), (), "ENOEXEC"),
    "phoff-negative-loff": (encode(replace(P, phoff=1 << 63)), (), "ENOEXEC"),
    "truncated-in-ehdr": (encode(P)[:40], (), "ENOEXEC"),
    "truncated-in-phdr": (encode(P)[:100], (), "ENOEXEC"),
    "no-code": (encode(P)[:P.body_off], (), "SIGSEGV"),
    "entry-unmapped": (encode(replace(P, entry=0x900000)), (), "SIGSEGV"),
    "entry-past-task-size": (encode(replace(P, entry=1 << 63)), (), "SIGSEGV"),
    "entry-not-executable": (encode(_ph(P, 0, flags=PF_R)), (), "SIGSEGV"),
    "ia32-read-implies-exec": (encode(_ph(program(cls=1, base=0x8048000), 0, flags=PF_R)), (), "exit"),
    "ia32-gnu-stack-no-read-implies-exec": (add_gnu_stack(encode(_ph(program(cls=1, base=0x8048000), 0, flags=PF_R)),
                                                          PF_R | PF_W), (), "SIGSEGV"),
    "filesz-gt-memsz": (encode(_ph(P, 0, memsz=s0.filesz - 1)), (), "SIGSEGV"),
    "offset-not-congruent": (encode(_ph(P, 0, offset=8)), (), "SIGSEGV"),
    "vaddr-zero": (encode(replace(_ph(P, 0, vaddr=0), entry=P.body_off)), (), "SIGSEGV"),
    "memsz-past-task-size": (encode(_ph(P, 0, memsz=1 << 47)), (), "SIGSEGV"),
    "entry-page-past-eof": (encode(replace(_ph(P, 0, filesz=2 * PAGE, memsz=2 * PAGE), entry=s0.vaddr + PAGE)), (),
                            "SIGBUS"),
    "dyn-without-load": (encode(replace(program(type=ET_DYN, base=0), segs=(Seg(4, PF_R, 0, 0, 4, 4),))), (),
                         "SIGSEGV"),
    "exec-without-load": (encode(replace(P, segs=(Seg(4, PF_R, 0, 0, 4, 4),))), (), "SIGSEGV"),
    "bss-on-code-readonly": (encode(_ph(P, 0, memsz=s0.filesz + 100)), (), ("f9c0a39d9530", "exit", "SIGSEGV")),
    "bss-zeroes-code": (encode(_ph(P, 0, flags=PF_R | PF_W | PF_X, memsz=s0.filesz + 100, filesz=P.body_off)),
                        (), "SIGSEGV"),
    "interp-pie-probe": (with_interp(P, [b"/lib/ld\0"]), (PROBE_I,), "exec"),
    "interp-static-probe": (with_interp(P, [b"/lib/ld\0"]), (STATIC_I,), "exec"),
    "interp-missing": (with_interp(P, [b"/lib/ld\0"]), (), "ENOENT"),
    # open_exec() of PT_INTERP denies writers like the program's own open
    "interp-open-for-write": (with_interp(P, [b"/lib/ld\0"]), (replace(PROBE_I, open_for_write=True),),
                              ("2a010c412853", "exec", "ETXTBSY")),
    "interp-empty-name": (with_interp(P, [b"\0\0"]), (PROBE_I,), "EACCES"),
    "interp-filesz-1": (with_interp(P, [b"\0"]), (PROBE_I,), "ENOEXEC"),
    "interp-no-nul": (with_interp(P, [b"/lib/ld"]), (PROBE_I,), "ENOEXEC"),
    "interp-embedded-nul": (with_interp(P, [b"/lib/ld\0x\0"]), (PROBE_I,), "exec"),
    "interp-over-path-max": (with_interp(P, [b"/lib/ld\0"], sizes=[4097]), (PROBE_I,), "ENOEXEC"),
    "interp-past-eof": (with_interp(P, [b"/lib/ld\0"], sizes=[8], offsets=[1 << 20]), (PROBE_I,), "EIO"),
    "interp-negative-offset": (with_interp(P, [b"/lib/ld\0"], sizes=[8], offsets=[1 << 63]), (PROBE_I,), "EINVAL"),
    "interp-first-wins": (with_interp(P, [b"/lib/ld\0", b"/nope\0"]), (PROBE_I,), "exec"),
    "interp-first-wins-missing": (with_interp(P, [b"/nope\0", b"/lib/ld\0"]), (PROBE_I,), "ENOENT"),
    "interp-relative": (with_interp(P, [b"lib/ld\0"]), (PROBE_I,), "exec"),
    "interp-dir": (with_interp(P, [b"/lib/ld\0"]), (File(path=b"/lib/ld", type="dir", mode=0o755),), "EACCES"),
    "interp-not-executable": (with_interp(P, [b"/lib/ld\0"]), (replace(PROBE_I, mode=0o644),), "EACCES"),
    "interp-short-script": (with_interp(P, [b"/lib/ld\0"]), _interp(b"#!/lib/p\n"), "EIO"),
    "interp-long-script": (with_interp(P, [b"/lib/ld\0"]), _interp(b"#!/lib/p\n" + b"#" * 80), "ELIBBAD"),
    "interp-short-elf": (with_interp(P, [b"/lib/ld\0"]), _interp(_interp_elf("short")), "EIO"),
    "interp-wrong-machine": (with_interp(P, [b"/lib/ld\0"]), _interp(_interp_elf("arm")), "ELIBBAD"),
    "interp-ia32": (with_interp(P, [b"/lib/ld\0"]), _interp(_interp_elf("i386")), "ELIBBAD"),
    "interp-bad-phentsize": (with_interp(P, [b"/lib/ld\0"]), _interp(_interp_elf("phentsize")), "ELIBBAD"),
    "interp-et-rel": (with_interp(P, [b"/lib/ld\0"]), _interp(_interp_elf("rel")), "SIGSEGV"),
    "interp-no-load": (with_interp(P, [b"/lib/ld\0"]), _interp(_interp_elf("noload")), "SIGSEGV"),
    # before 8b04d32678e3 load_elf_interp always padzero()s its last file byte's page
    "interp-crafted-dyn": (with_interp(P, [b"/lib/ld\0"]), _interp(_interp_elf("dyn")),
                           ("8b04d32678e3", "exit", "SIGSEGV")),
    "interp-crafted-exec": (with_interp(P, [b"/lib/ld\0"]), _interp(_interp_elf("exec")),
                            ("8b04d32678e3", "exit", "SIGSEGV")),
    "interp-filesz-gt-memsz": (with_interp(P, [b"/lib/ld\0"]), _interp(_interp_elf("filesz>memsz")), "SIGSEGV"),
}


def _phnum_case(n: int) -> bytes:
    return encode(_pad_phdrs(P, n))


_PINNED["phnum-73-one-page"] = (_phnum_case(73), (), "exit")
_PINNED["phnum-74-over-one-page"] = (_phnum_case(74), (), ("8030790477e8", "exit", "ENOEXEC"))
_PINNED["phnum-1170-64k"] = (_phnum_case(1170), (), ("8030790477e8", "exit", "ENOEXEC"))
# a bss alone (p_filesz 0) at a misaligned address: mapped by either loader
_PINNED["bss-only-misaligned"] = (encode(replace(P, segs=P.segs + (Seg(1, PF_R | PF_W, 0, 0x600800, 0, 0x100),))),
                                 (), "exit")
# the last page of the task: BAD_ADDR(p_vaddr) (a guest CPU without LA57, like the host)
_PINNED["vaddr-last-page"] = (encode(replace(_ph(P, 0, vaddr=(1 << 47) - PAGE), entry=(1 << 47) - PAGE + P.body_off)),
                             (), "SIGSEGV")
_PINNED["phnum-1171-over-64k"] = (_phnum_case(1171), (), "ENOEXEC")


# commits a case pins beyond the one its rule names
_TAGS = {"bss-on-code-readonly": ("585a018627b4",), "bss-only-misaligned": ("585a018627b4",)}


def _pinned(name: str, data: bytes, extra: tuple[File, ...], rule: Rule) -> Pinned:
    commits = ((rule[0],) if isinstance(rule, tuple) else ()) + _TAGS.get(name, ())
    return Pinned(name, _case(data, extra), tuple(f"linux-git:{c}" for c in commits), rule)


PINNED = {n: _pinned(n, *v) for n, v in _PINNED.items()}


def _address_case(e: Elf, interp_variant: str = "pie") -> Case:
    """`e` with PT_INTERP /lib/ld (a probe), run under ADDR_NO_RANDOMIZE:
    the probe reports AT_PHDR, AT_ENTRY and AT_BASE (suites/test_load_address.py)."""
    c = _case(with_interp(e, [b"/lib/ld\0"]),
              (File(path=b"/lib/ld", type="probe", mode=0o755, tag="I", variant=interp_variant),))
    return replace(c, exec=replace(c.exec, personality=("ADDR_NO_RANDOMIZE",)))


def _direct(variant: str, rlimit_stack: int = 8 << 20, mode: int = 0o755, owner: int = 0, group: int = 0,
            caps: FileCaps | None = None, uid: int | None = None, gid: int | None = None) -> Case:
    """The probe `variant` (owned by owner:group) run directly under
    ADDR_NO_RANDOMIZE by uid:gid (the case's root when None)."""
    return Case(files=(File(path=b"/p", type="probe", mode=mode, tag="P", variant=variant, uid=owner, gid=group,
                            caps=caps),),
                exec=Exec(path=b"/p", argv=(b"p",), envp=(), personality=("ADDR_NO_RANDOMIZE",),
                          rlimit_stack=rlimit_stack, uid=uid, gid=gid))


# name -> (case, commit or None, field, value with the commit, value without
# it); "absent": the outcome has no such field
_ADDRESSES: dict[str, tuple[Case, str | None, str, int | str, int | str]] = {
    # two PT_LOADs map the headers (at 0x400000 and 0x410000): AT_PHDR
    # through the last of them since 0da1d5002745, the first before
    "at-phdr-last-load": (_address_case(program(nsegs=2)), "0da1d5002745", "at_phdr", 0x410040, 0x400040),
    # a PIE with p_align 2 MiB: ELF_ET_DYN_BASE masked to it
    "pie-align-2m": (_address_case(program(type=ET_DYN, base=0, align=0x200000)), "ce81bb256a22", "at_phdr",
                     0x555555400040, 0x555555554040),
    # a static PIE (0x14000 bytes) with p_align 64 KiB: right below the mmap
    # base 0x7ffff7fff000 (0x7ffff7feb000), masked down to 64 KiB since 6.11
    "static-pie-align-64k": (_direct("pie64k"), "3545deff0ec7", "at_phdr", 0x7FFFF7FE0040, 0x7FFFF7FEB040),
    # ... p_align 2 MiB and the first PT_LOAD at p_vaddr 64 KiB: the masked
    # address is where that PT_LOAD goes (load_bias = it - p_vaddr)
    "static-pie-align-2m-vaddr": (_direct("pie2m_at64k"), "3545deff0ec7", "at_phdr", 0x7FFFF7E00040, 0x7FFFF7FEB040),
    # ia32: a PIE program at COMPAT_ELF_ET_DYN_BASE (0x56555000), its ET_DYN
    # interpreter and a static PIE right below mmap_compat_base (0xf7ffe000)
    "ia32-pie-compat-dyn-base": (_address_case(program(cls=1, type=ET_DYN, base=0), "pie32"), None, "at_phdr",
                                 0x56555034, 0x56555034),
    "ia32-pie-interp-compat-mmap-base": (_address_case(program(cls=1, type=ET_DYN, base=0), "pie32"), None,
                                         "at_base_addr", 0xF7FEA000, 0xF7FEA000),
    "ia32-static-pie": (_direct("pie32"), None, "at_phdr", 0xF7FEA034, 0xF7FEA034),
    # RLIM_INFINITY: the gap is 5/6 of the 32-bit task size
    "ia32-static-pie-unlimited-stack": (_direct("pie32", rlimit_stack=-1), None, "at_phdr", 0x2AA97034, 0x2AA97034),
    # set-id bits the caller's own: bprm_fill_uid() still sets per_clear
    "setuid-own-file-clears": (_direct("pie", mode=0o4755, owner=1000, uid=1000), None, "personality", 0, 0),
    "setuid-own-file-no-addresses": (_direct("pie", mode=0o4755, owner=1000, uid=1000), None, "at_phdr",
                                     "absent", "absent"),
    # S_ISGID without S_IXGRP is no set-gid: ADDR_NO_RANDOMIZE stays
    "setgid-no-group-exec-keeps": (_direct("pie", mode=0o2745, group=0, uid=1000, gid=1000), None, "personality",
                                   0x40000, 0x40000),
    # file capabilities gained (cap_bprm_creds_from_file: __cap_gained)
    "file-caps-gained-clears": (_direct("pie", caps=FileCaps(permitted=1 << 13), uid=1000), None, "personality",
                                0, 0),
    # the effective flag without a capability: AT_SECURE but nothing gained,
    # so ADDR_NO_RANDOMIZE stays -- and the secureexec caps RLIMIT_STACK at
    # 8 MiB before the mmap base is computed (512 MiB would put it lower)
    "secureexec-stack-limit": (_direct("pie", rlimit_stack=512 << 20, caps=FileCaps(effective=True), uid=1000),
                               None, "at_phdr", 0x7FFFF7FEB040, 0x7FFFF7FEB040),
}


def _value(v: int | str) -> str:
    return v if isinstance(v, str) else hex(v)


ADDRESSES = {n: Pinned(n, c, (f"linux-git:{commit}",) if commit else (),
                       (commit, f"{field}={_value(a)}", f"{field}={_value(b)}") if commit else f"{field}={_value(a)}")
             for n, (c, commit, field, a, b) in _ADDRESSES.items()}
