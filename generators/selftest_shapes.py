"""The 27 "#!" shapes of the kernel's own test,
tools/testing/selftests/exec/binfmt_script.py (b5372fe5dc84, 6eb3c3d0a52d),
rebuilt in this project's own code as cases.

Each shape is a first line `#!` + leading + root + middle + target + arg,
of exactly `size` bytes before its newline; middle is 'A's cut into
NAME_MAX-sized directory names so the interpreter can exist.  The
selftest's perl interpreter becomes a probe at the same relative path
("./AAA.../perl"), and its script is /binfmt_script-<name>, run as
"./binfmt_script-<name>" from / (as the selftest runs it from its cwd).
The selftest only checks pass/fail; the suite compares whole outcomes.
"""
from __future__ import annotations

from typing import Any

SIZE = 256  # BINPRM_BUF_SIZE the selftest is written for
NAME_MAX = 255
NIX_ROOT = "./nix/store/bwav8kz8b3y471wjsybgzw84mrh4js9-perl-5.28.1/bin"
NIX_ARG = (" -I/nix/store/x6yyav38jgr924nkna62q3pkp0dgmzlx-perl5.28.1-File-Slurp-9999.25/lib/perl5/site_perl"
           " -I/nix/store/ha8v67sl8dac92r9z07vzr4gv1y9nwqz-perl5.28.1-Net-DBus-1.1.0/lib/perl5/site_perl"
           " -I/nix/store/dcrkvnjmwh69ljsvpbdjjdnqgwx90a9d-perl5.28.1-XML-Parser-2.44/lib/perl5/site_perl"
           " -I/nix/store/rmji88k2zz7h4zg97385bygcydrf2q8h-perl5.28.1-XML-Twig-3.52/lib/perl5/site_perl")

# (name, size, expected to run, overrides) in the selftest's order; the
# selftest reuses four names for its half-buffer variants: suffixed "@128".
_SHAPES: list[tuple[str, int, bool, dict[str, str]]] = [
    ("too-big", SIZE + 80, False, {}),
    ("exact", SIZE, False, {}),
    ("exact-space", SIZE, False, {"leading": " "}),
    ("whitespace-too-big", SIZE + 71, False, {"root": "", "fill": " ", "target": ""}),
    ("truncated", SIZE + 17, False, {"leading": " " * 19}),
    ("empty", 2, False, {"root": "", "fill": "", "target": "", "newline": ""}),
    ("spaces", SIZE - 1, False, {"root": "", "fill": " ", "target": "", "newline": ""}),
    ("newline-prefix", SIZE - 1, False, {"leading": "\n", "root": "", "fill": " ", "target": ""}),
    ("test.pl", 439, True, {"leading": " ", "root": NIX_ROOT, "arg": NIX_ARG}),
    ("one-under", SIZE - 1, True, {}),
    ("two-under", SIZE - 2, True, {}),
    ("exact-trunc-whitespace", SIZE, True, {"arg": " "}),
    ("exact-trunc-arg", SIZE, True, {"arg": " f"}),
    ("one-under-full-arg", SIZE - 1, True, {"arg": " f"}),
    ("one-under-no-nl", SIZE - 1, True, {"newline": ""}),
    ("half-under-no-nl", SIZE // 2, True, {"newline": ""}),
    ("one-under-trunc-arg", SIZE - 1, True, {"arg": " "}),
    ("one-under-leading", SIZE - 1, True, {"leading": " "}),
    ("one-under-leading-trunc-arg", SIZE - 1, True, {"leading": " ", "arg": " "}),
    ("two-under-no-nl", SIZE - 2, True, {"newline": ""}),
    ("two-under-trunc-arg", SIZE - 2, True, {"arg": " "}),
    ("two-under-leading", SIZE - 2, True, {"leading": " "}),
    ("two-under-leading-trunc-arg", SIZE - 2, True, {"leading": " ", "arg": " "}),
    ("two-under-no-nl@128", SIZE // 2, True, {"newline": ""}),
    ("two-under-trunc-arg@128", SIZE // 2, True, {"arg": " "}),
    ("two-under-leading@128", SIZE // 2, True, {"leading": " "}),
    ("two-under-lead-trunc-arg@128", SIZE // 2, True, {"leading": " ", "arg": " "}),
]

SELFTEST_EXPECTS_SUCCESS: dict[str, bool] = {name: good for name, _, good, _ in _SHAPES}


def _shape(name: str, size: int, leading: str = "", root: str = "./", target: str = "/perl",
           fill: str = "A", arg: str = "", newline: str = "\n", hashbang: str = "#!") -> dict[str, Any]:
    remaining = size - len(hashbang) - len(leading) - len(root) - len(target) - len(arg)
    middle = ""
    while remaining >= NAME_MAX:  # keep every directory name within NAME_MAX
        middle += fill * (NAME_MAX - 1) + "/"
        remaining -= NAME_MAX
    middle += fill * remaining
    line = hashbang + leading + root + middle + target + arg
    body = line + newline + ("echo this is not really perl\n" if newline else "")
    script = f"binfmt_script-{name.split('@')[0]}"
    files: list[dict[str, Any]] = [{"path": "/" + script, "type": "file", "mode": "0755", "data": body.encode()}]
    if target:
        interp = (root + middle + target).removeprefix(".")
        files.append({"path": interp.encode(), "type": "probe", "tag": "perl"})
    return {"name": f"selftest-binfmt_script-{name}", "files": files,
            "exec": {"path": f"./{script}".encode(), "argv": [f"./{script}".encode()], "envp": []}}


def selftest_shapes() -> list[tuple[str, dict[str, Any]]]:
    """(name, case) for each of the 27 shapes, in the selftest's order."""
    return [(name, _shape(name, size, **kw)) for name, size, _, kw in _SHAPES]
