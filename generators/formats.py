"""Files of exec's other formats: bFLT, a.out (OMAGIC/NMAGIC/ZMAGIC/QMAGIC),
FDPIC ELF, em86-style (ia32) ELF programs and plain ia32 ELF programs, run
directly, through a "#!" line, and with a binfmt_misc entry that claims them.

Which of them the kernel runs depends on its configuration (model/kconfig.py):
on x86-64 bFLT, a.out and FDPIC have no loader, so they give ENOEXEC unless
binfmt_misc matches; ia32 programs run where the compat ELF handler is
registered and enabled, and a binfmt_misc entry (asked first) wins over it.
"""
from __future__ import annotations

import struct
from dataclasses import replace

from hypothesis import strategies as st

from contract.case import Case, Exec, File

from .elfbuild import EM_386, EM_ARM, encode, program

EM_486 = 6
ELFOSABI_ARM_FDPIC = 65
OMAGIC, NMAGIC, ZMAGIC, QMAGIC = 0o407, 0o410, 0o413, 0o314
M_386 = 100


def bflt(rev: int = 4, flags: int = 0) -> bytes:
    """A uClinux flat binary: the big-endian flat_hdr, then a little text."""
    hdr = b"bFLT" + struct.pack(">IIIIIIIII", rev, 0x40, 0x50, 0x60, 0x60, 4096, 0x60, 0, flags)
    return hdr + struct.pack(">I", 0) + b"\0" * 16 + b"\xde\xad\xbe\xef" * 8


def aout(kind: str = "ZMAGIC", machine: int = M_386) -> bytes:
    """A 32-bit a.out header (struct exec) with `kind`'s magic; ZMAGIC puts
    the text at offset 1024, QMAGIC keeps the header in the text page."""
    magic = {"OMAGIC": OMAGIC, "NMAGIC": NMAGIC, "ZMAGIC": ZMAGIC, "QMAGIC": QMAGIC}[kind]
    text = b"\x90" * 32
    hdr = struct.pack("<IIIIIIII", magic | (machine << 16), 4096, 0, 0, 0, 0x1020 if kind == "QMAGIC" else 0, 0, 0)
    pad = 1024 if kind == "ZMAGIC" else 0
    return hdr.ljust(pad, b"\0") + text


def ia32_program(machine: int = EM_386) -> bytes:
    """A valid ia32 static program (exit_group(42) through int 0x80)."""
    return encode(replace(program(cls=1), machine=machine))


def fdpic(kind: str) -> bytes:
    """An FDPIC ELF: `arm` is an ARM FDPIC program (EM_ARM, ELFOSABI_ARM_FDPIC),
    `x86` the x86-64 program with that EI_OSABI (x86 never asks for FDPIC)."""
    if kind == "arm":
        return encode(replace(program(cls=1), machine=EM_ARM, osabi=ELFOSABI_ARM_FDPIC))
    return encode(replace(program(), osabi=ELFOSABI_ARM_FDPIC))


# kind -> (bytes, a binfmt_misc magic/mask that claims it, as qemu-user or em86 registrations do)
def sample(kind: str) -> bytes:
    if kind == "bflt":
        return bflt()
    if kind.startswith("aout-"):
        return aout(kind[5:].upper())
    if kind == "ia32":
        return ia32_program()
    if kind == "em86":  # what binfmt_em86 took: ia32 ELF, EM_386 or EM_486
        return ia32_program(EM_486)
    if kind.startswith("fdpic-"):
        return fdpic(kind[6:])
    raise ValueError(kind)


KINDS = ("bflt", "aout-omagic", "aout-nmagic", "aout-zmagic", "aout-qmagic", "fdpic-arm", "fdpic-x86", "ia32", "em86")


def _hex(b: bytes) -> bytes:
    return b"".join(b"\\x%02x" % c for c in b)


def misc_rule(kind: str, interp: bytes, flags: bytes = b"") -> bytes:
    """A magic rule claiming files of `kind` (the em86/qemu-i386 style for ELF)."""
    data = sample(kind)
    if kind in ("ia32", "em86", "fdpic-arm"):
        # e_ident class/data/version, then e_type (any) and e_machine
        magic = data[:7] + b"\0" * 9 + b"\x02\x00" + data[18:20]
        mask = b"\xff" * 7 + b"\0" * 9 + b"\xfe\xff" + b"\xff\xff"
    elif kind == "fdpic-x86":
        magic, mask = data[:8], b"\xff" * 8  # "\x7fELF", class, data, version, OSABI 65
    else:
        magic, mask = data[:4] if kind == "bflt" else data[:2], b""
    return b":" + kind.encode() + b":M::" + _hex(magic) + b":" + _hex(mask) + b":" + interp + b":" + flags


@st.composite
def format_cases(draw, misc: bool = True) -> Case:
    """One file of another format, exec'd directly or as a "#!" interpreter,
    with or without a binfmt_misc entry for it (only when `misc`)."""
    kind = draw(st.sampled_from(KINDS))
    data = sample(kind)
    if kind not in ("ia32", "em86", "fdpic-x86") and draw(st.booleans()):
        # cut: the header alone decides (a cut program that starts is test_elf's business)
        data = data[:draw(st.integers(min_value=4, max_value=len(data)))]
    via = draw(st.sampled_from(("direct", "direct", "shebang")))
    files = [File(path=b"/f", type="file", mode=0o755, data=data),
             File(path=b"/bin/interp", type="probe", mode=0o755, tag="I")]
    rules: tuple[bytes, ...] = ()
    if misc and draw(st.booleans()):
        flags = draw(st.sampled_from((b"", b"P", b"F", b"O")))
        rules = (misc_rule(kind, b"/bin/interp", flags),)
    path = b"/f"
    if via == "shebang":
        files.append(File(path=b"/s", type="file", mode=0o755, data=b"#!/f -a\n"))
        path = b"/s"
    argv = draw(st.sampled_from(((b"f",), (b"f", b"1"), ())))
    return Case(files=tuple(files), binfmt_misc=rules,
                exec=Exec(path=path, argv=argv, envp=(b"K=V",)), name=f"{kind}-{via}")


def pinned() -> list[tuple[str, Case]]:
    """One case per format and way in: direct, via "#!", claimed by binfmt_misc."""
    out = []
    for kind in KINDS:
        base = [File(path=b"/f", type="file", mode=0o755, data=sample(kind)),
                File(path=b"/bin/interp", type="probe", mode=0o755, tag="I")]
        ex = Exec(path=b"/f", argv=(b"f", b"1"), envp=(b"K=V",))
        out.append((f"{kind}-direct", Case(files=tuple(base), exec=ex)))
        out.append((f"{kind}-shebang", Case(files=(*base, File(path=b"/s", type="file", mode=0o755,
                                                              data=b"#!/f -a\n")),
                                            exec=replace(ex, path=b"/s"))))
        out.append((f"{kind}-misc", Case(files=tuple(base), exec=ex,
                                         binfmt_misc=(misc_rule(kind, b"/bin/interp"),))))
    return out
