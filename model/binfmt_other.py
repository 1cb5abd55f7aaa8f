"""The formats an x86-64 kernel does not have: binfmt_flat, binfmt_elf_fdpic,
a.out (binfmt_aout / x86's ia32_aout) and binfmt_em86.

On x86-64 none of them can be configured (fs/Kconfig.binfmt: BINFMT_FLAT
needs ARCH_HAS_BINFMT_FLAT, BINFMT_ELF_FDPIC needs ARM or a no-MMU
M68K/RISCV/SUPERH/XTENSA; IA32_AOUT went in 5.18 and BINFMT_AOUT in 6.1;
BINFMT_EM86 was alpha-only and went in 5.1), so their files meet only
binfmt_misc, "#!" and the ELF handlers:

- bFLT ("bFLT" at offset 0, big-endian flat_hdr): no ELF magic, no "#!":
  ENOEXEC unless a binfmt_misc entry matches.
- a.out: the low 16 bits of the first little-endian word are the magic
  (N_MAGIC: OMAGIC 0407, NMAGIC 0410, ZMAGIC 0413, QMAGIC 0314): ENOEXEC
  unless a binfmt_misc entry matches.
- FDPIC ELF: an ELF file; on x86 elf_check_fdpic() is always false, so
  binfmt_elf judges it as any ELF (an ARM FDPIC file fails elf_check_arch:
  ENOEXEC; an x86-64 one with EI_OSABI ELFOSABI_ARM_FDPIC runs).
- em86 files are ia32 ELF programs: binfmt_em86 handed them to
  /usr/bin/em86 on alpha; on x86-64 the compat ELF handler runs them where
  it exists, a binfmt_misc entry (registered first: insert_binfmt) wins
  over it, and without either: ENOEXEC.

Where a config does enable one of them (another architecture's kernel)
the model does not cover its loader: a file of that format is unmodelled.
"""
from __future__ import annotations

import struct
from typing import TYPE_CHECKING, Any

from .binfmt_misc import NotModelled
from .errors import Errno

if TYPE_CHECKING:
    from .exec import Bprm

OMAGIC, NMAGIC, ZMAGIC, QMAGIC = 0o407, 0o410, 0o413, 0o314
AOUT_MAGICS = {OMAGIC: "OMAGIC", NMAGIC: "NMAGIC", ZMAGIC: "ZMAGIC", QMAGIC: "QMAGIC"}
ELFOSABI_ARM_FDPIC = 65


def is_flat(buf: bytes) -> bool:
    return buf[:4] == b"bFLT"


def aout_magic(buf: bytes) -> str | None:
    (info,) = struct.unpack_from("<I", buf.ljust(4, b"\0"))
    return AOUT_MAGICS.get(info & 0xFFFF)


def load_flat_binary(bprm: Bprm, buf: bytes) -> dict[str, Any]:
    if not is_flat(buf):
        raise Errno("ENOEXEC")
    raise NotModelled("binfmt_flat (CONFIG_BINFMT_FLAT) is not modelled: a no-MMU kernel's loader")


def load_aout_binary(bprm: Bprm, buf: bytes) -> dict[str, Any]:
    m = aout_magic(buf)
    if m is None:
        raise Errno("ENOEXEC")
    raise NotModelled(f"binfmt_aout ({m}) is not modelled: removed from x86 in 5.18")


def load_elf_fdpic(bprm: Bprm, buf: bytes) -> dict[str, Any]:
    if buf[:4] != b"\x7fELF":
        raise Errno("ENOEXEC")
    raise NotModelled("binfmt_elf_fdpic (CONFIG_BINFMT_ELF_FDPIC) is not modelled: ARM/no-MMU kernels")


def load_em86(bprm: Bprm, buf: bytes) -> dict[str, Any]:
    if buf[:4] != b"\x7fELF":
        raise Errno("ENOEXEC")
    raise NotModelled("binfmt_em86 (alpha, removed in 5.1) is not modelled")
