"""The 27 "#!" line shapes of the kernel's own binfmt_script selftest.

Source: tools/testing/selftests/exec/binfmt_script.py in the Linux tree
(checked against 6.18.2), which guards b5372fe5dc84 ("exec: load_script: Do
not exec truncated interpreter path") and 6eb3c3d0a52d ("exec: increase
BINPRM_BUF_SIZE to 256").  This module rebuilds the same byte shapes in this
project's own code, as cases in the project's case format; no selftest code
is copied.

Every shape's first line is

    hashbang + leading + root + middle + target + arg      (+ newline)

and is exactly `size` bytes long without its newline.  `middle` is the fill
byte repeated to make up that size, broken into directory names of at most
NAME_MAX - 1 fill bytes plus '/', so the interpreter path can exist on disk.

Mapping to this project:
- root keeps the selftest's own relative prefix ("./", or the Nix path for
  test.pl) and the case runs with cwd "/", so each first line is byte for
  byte the selftest's line, not only the same length.  The interpreter probe
  (tag "P") sits where that relative path resolves from "/": the shebang path
  minus its leading ".".
- The script is /s, run as execve("/s", ["s"], []).  Its name never appears in
  its first line, so it doesn't change any size.
- The selftest reuses three names for its half-buffer (128-byte) variants, so
  all four of those variants get an "@128" suffix to keep names unique.
"""
from __future__ import annotations

from typing import Any

SIZE = 256  # BINPRM_BUF_SIZE that the selftest's sizes are written for
NAME_MAX = 255
SCRIPT = b"/s"
BODY_TAIL = b"echo this is not really perl\n"  # what follows the newline, as in the selftest

# test.pl: a real-world Nix line (8099b047ecc4 regression), 439 bytes long.
NIX_ROOT = b"./nix/store/bwav8kz8b3y471wjsybgzw84mrh4js9-perl-5.28.1/bin"
NIX_ARG = b"".join(
    b" -I/nix/store/" + p + b"/lib/perl5/site_perl"
    for p in (
        b"x6yyav38jgr924nkna62q3pkp0dgmzlx-perl5.28.1-File-Slurp-9999.25",
        b"ha8v67sl8dac92r9z07vzr4gv1y9nwqz-perl5.28.1-Net-DBus-1.1.0",
        b"dcrkvnjmwh69ljsvpbdjjdnqgwx90a9d-perl5.28.1-XML-Parser-2.44",
        b"rmji88k2zz7h4zg97385bygcydrf2q8h-perl5.28.1-XML-Twig-3.52",
    )
)

# Overrides that make a line carry no interpreter at all (only blanks).
_BLANK = {"root": b"", "fill": b" ", "target": b""}

# (name, size, selftest expects it to run, overrides), in the selftest's order.
_SHAPES: list[tuple[str, int, bool, dict[str, bytes]]] = [
    # Expected to fail (8).
    ("too-big", SIZE + 80, False, {}),
    ("exact", SIZE, False, {}),  # no newline in the buffer: maybe truncated
    ("exact-space", SIZE, False, {"leading": b" "}),
    ("whitespace-too-big", SIZE + 71, False, _BLANK),
    ("truncated", SIZE + 17, False, {"leading": b" " * 19}),
    ("empty", 2, False, {"root": b"", "fill": b"", "target": b"", "newline": b""}),
    ("spaces", SIZE - 1, False, {**_BLANK, "newline": b""}),
    ("newline-prefix", SIZE - 1, False, {**_BLANK, "leading": b"\n"}),
    # Expected to run (19).
    ("test.pl", 439, True, {"leading": b" ", "root": NIX_ROOT, "arg": NIX_ARG}),
    ("one-under", SIZE - 1, True, {}),
    ("two-under", SIZE - 2, True, {}),
    ("exact-trunc-whitespace", SIZE, True, {"arg": b" "}),
    ("exact-trunc-arg", SIZE, True, {"arg": b" f"}),
    ("one-under-full-arg", SIZE - 1, True, {"arg": b" f"}),
    ("one-under-no-nl", SIZE - 1, True, {"newline": b""}),
    ("half-under-no-nl", SIZE // 2, True, {"newline": b""}),
    ("one-under-trunc-arg", SIZE - 1, True, {"arg": b" "}),
    ("one-under-leading", SIZE - 1, True, {"leading": b" "}),
    ("one-under-leading-trunc-arg", SIZE - 1, True, {"leading": b" ", "arg": b" "}),
    ("two-under-no-nl", SIZE - 2, True, {"newline": b""}),
    ("two-under-trunc-arg", SIZE - 2, True, {"arg": b" "}),
    ("two-under-leading", SIZE - 2, True, {"leading": b" "}),
    ("two-under-leading-trunc-arg", SIZE - 2, True, {"leading": b" ", "arg": b" "}),
    ("two-under-no-nl@128", SIZE // 2, True, {"newline": b""}),
    ("two-under-trunc-arg@128", SIZE // 2, True, {"arg": b" "}),
    ("two-under-leading@128", SIZE // 2, True, {"leading": b" "}),
    ("two-under-lead-trunc-arg@128", SIZE // 2, True, {"leading": b" ", "arg": b" "}),
]

SELFTEST_EXPECTS_SUCCESS: dict[str, bool] = {name: good for name, _, good, _ in _SHAPES}


def _middle(length: int, fill: bytes) -> bytes:
    """`length` bytes of fill, with every NAME_MAX-th byte a '/' so that no
    directory name exceeds NAME_MAX (a full chunk is NAME_MAX - 1 fill + '/')."""
    chunks, left = [], length
    while left >= NAME_MAX:
        chunks.append(fill * (NAME_MAX - 1) + b"/")
        left -= NAME_MAX
    return b"".join(chunks) + fill * left


def first_line(size: int, *, leading: bytes = b"", root: bytes = b"./", target: bytes = b"/perl",
               fill: bytes = b"A", arg: bytes = b"", hashbang: bytes = b"#!") -> tuple[bytes, bytes]:
    """(line without newline, interpreter path as named in it); the middle
    absorbs whatever `size` leaves after the fixed parts."""
    rest = size - len(hashbang) - len(leading) - len(root) - len(target) - len(arg)
    if rest < 0:
        raise ValueError(f"fixed parts exceed size {size}")
    interp = root + _middle(rest, fill) + target
    return hashbang + leading + interp + arg, interp


def _case(name: str, size: int, newline: bytes = b"\n", **parts: bytes) -> dict[str, Any]:
    line, interp = first_line(size, **parts)
    assert len(line) == size
    data = line + newline + (BODY_TAIL if newline else b"")
    files: list[dict[str, Any]] = []
    if parts.get("target", b"/perl"):
        # The line names the interpreter relative to cwd "/"; the loader wants
        # an absolute path, so drop the leading "." of "./".
        assert interp.startswith(b"./")
        files.append({"path": interp[1:], "type": "probe", "tag": "P"})
    files.append({"path": SCRIPT, "type": "file", "mode": "0755", "data": data})
    return {"name": f"selftest-binfmt_script-{name}", "files": files,
            "exec": {"path": SCRIPT, "argv": [b"s"], "envp": [], "cwd": b"/"}}


def selftest_shapes() -> list[tuple[str, dict[str, Any]]]:
    """(name, case) for each of the 27 shapes, in the selftest's order."""
    return [(name, _case(name, size, **kw)) for name, size, _, kw in _SHAPES]
