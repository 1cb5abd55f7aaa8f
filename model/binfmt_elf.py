"""fs/binfmt_elf.c: load_elf_binary() — the part this model has so far.

A probe is a valid static ET_EXEC for the machine, so it simply runs.  For
other files only the first checks are modelled (ELF magic, e_type, machine,
e_phentsize); a file that passes them is predicted to start and "exit",
since what its code does is unknown.  Crafted ELF files get the full rules
in their own issue.
"""
from __future__ import annotations

import struct
from functools import lru_cache
from typing import TYPE_CHECKING

from .errors import Errno

if TYPE_CHECKING:
    from .exec import Bprm

ET_EXEC, ET_DYN = 2, 3
EM_X86_64 = 62


@lru_cache(maxsize=1)
def probe_header() -> bytes:
    """The first bytes of the harness's probe (what prepare_binprm reads)."""
    from harness import build
    return build.native("probe").read_bytes()[:256]


def load_elf_binary(bprm: "Bprm", buf: bytes) -> dict:
    if buf[:4] != b"\x7fELF":
        raise Errno("ENOEXEC")
    if bprm.file.is_probe:
        from .exec import new_program
        return new_program(bprm)
    e_type, e_machine = struct.unpack_from("<HH", buf, 16)
    if e_type not in (ET_EXEC, ET_DYN) or e_machine != EM_X86_64 or buf[4] != 2:
        raise Errno("ENOEXEC")
    if struct.unpack_from("<H", buf, 54)[0] != 56:
        raise Errno("ENOEXEC")
    return {"outcome": "exit"}
