"""fs/binfmt_script.c: load_script(), the "#!" handler.

The buffer is the first BINPRM_BUF_SIZE bytes (256; 128 before 6eb3c3d0a52d),
NUL-padded.  Rules, in the order load_script applies them:
- Not "#!" at offset 0: ENOEXEC (the next handler tries).
- The line ends at the first '\\n' in the whole buffer.  With no newline the
  interpreter path must be followed by a space, tab or NUL somewhere in the
  buffer (else it may be truncated: ENOEXEC; an all-blank buffer: ENOEXEC)
  and the line then ends at the buffer's last byte, which is dropped.
- Trailing spaces/tabs are trimmed; only space and tab are blanks (CR, VT,
  FF are ordinary bytes).  Leading blanks after "#!" are skipped; nothing
  left: ENOEXEC.
- The name runs to the first space, tab or NUL; after a space/tab the rest
  of the line (from its first non-blank byte, up to any NUL) is one optional
  argument.  A NUL ends the name and means "no argument".
- A file name made from a close-on-exec fd: ENOENT (after parsing, since the
  5.8 rework; before it this came first).
- argv becomes [name, (arg), bprm->interp, argv[1:]...]; each string is
  counted against the argument space (E2BIG).
- bprm->interp becomes the name; the name is opened with open_exec()
  relative to the cwd, following symlinks.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .errors import Errno
from .namei import open_exec

if TYPE_CHECKING:
    from .exec import Bprm

_NONBLANK = re.compile(rb"[^ \t]")
_TERMINATOR = re.compile(rb"[ \t\0]")


def parse_shebang(buf: bytes, truncation_check: bool = True) -> tuple[bytes, bytes | None]:
    """(interpreter name, optional argument) of a "#!" buffer, or Errno ENOEXEC.

    `truncation_check`: b5372fe5dc84 (5.0).  Its first form, 8099b047ecc4,
    refused a truncated argument too, broke userspace and was reverted
    (cb5b020a8d38) in the same release cycle; b5372fe5dc84 refuses only an
    interpreter path that may be cut off.  Before it a line without newline
    simply ended at the buffer's last byte and the cut-off path was opened.

    Positions follow load_script: `end` is i_end (inclusive ranges end there).
    """
    end = buf.find(b"\n")
    if end < 0:
        first = _NONBLANK.search(buf, 2)
        if first is None:
            raise Errno("ENOEXEC")  # the whole buffer is blanks
        if truncation_check and _TERMINATOR.search(buf, first.start()) is None:
            raise Errno("ENOEXEC")  # the interpreter path may be truncated
        end = len(buf) - 1  # the last byte is dropped
    end = len(buf[:end].rstrip(b" \t"))  # never below 2: buf[1] is '!'
    name = _NONBLANK.search(buf, 2, end + 1)
    if name is None or name.start() == end:
        raise Errno("ENOEXEC")  # no interpreter name
    n = name.start()
    sep_m = _TERMINATOR.search(buf, n, end + 1)
    arg = None
    if sep_m is not None and buf[sep_m.start()] != 0:
        a = _NONBLANK.search(buf, sep_m.start(), end + 1)
        if a is not None:
            arg = buf[a.start():end].split(b"\0", 1)[0]
    stop = end if sep_m is None else min(sep_m.start(), end)
    return buf[n:stop].split(b"\0", 1)[0], arg


def load_script(bprm: Bprm, buf: bytes) -> dict[str, Any]:
    if buf[:2] != b"#!":
        raise Errno("ENOEXEC")
    name, arg = parse_shebang(buf, truncation_check=bprm.profile.has("b5372fe5dc84"))
    if bprm.path_inaccessible:  # checked after parsing since 5.8; all profiles are newer
        raise Errno("ENOENT")
    bprm.remove_arg_zero()
    new = [name] + ([arg] if arg is not None else []) + [bprm.interp]
    for s in reversed(new):  # pushed in reverse: interp, arg, name
        bprm.push_string(s)
    bprm.argv[:0] = new
    bprm.interp = name
    bprm.interpreter = open_exec(bprm.fs, bprm.cwd, name, bprm.profile)
    return {}

