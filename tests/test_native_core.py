"""One C core: the exec call, the making of a case's files and the record
format are written once (harness/native/bprm_call.h, materialise.h,
record.h) and every C program uses them, so the executor, the simulators'
launcher, simjail and the reproducers cannot drift apart.  Checked on the
source with comments dropped; the reproducers get the headers inlined."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness import build

NATIVE = build.NATIVE

# What only the core header of each concern may do.
CORE = {
    "bprm_call.h": [r"\bSYS_execve(at)?\b", r"\bexecve(at)?\s*\(", r"\bdup3\s*\([^,]*,\s*3\b"],
    "materialise.h": [r"\bsymlink(at)?\s*\(", r"\bmknod(at)?\s*\(", r"\bmkfifo\s*\(", r"\bmkdirat\s*\(",
                      r"\bf?chown(at)?\s*\(", r"\bO_EXCL\b"],
    "record.h": [r"\bbuf_add\s*\(\s*[^,]+,\s*&type\b", r"\bmemcpy\s*\([^;]*\+\s*off\s*\+\s*1\b"],
}


def _code(path: Path) -> str:
    """The source without its comments (a comment may name a call)."""
    return re.sub(r"/\*.*?\*/|//[^\n]*", "", path.read_text(), flags=re.S)


def _sources() -> list[Path]:
    return sorted([*NATIVE.glob("*.c"), *NATIVE.glob("*.h")])


@pytest.mark.parametrize("header", sorted(CORE))
def test_only_the_core_header_does_it(header):
    wrong = []
    for path in _sources():
        if path.name == header:
            continue
        code = _code(path)
        wrong += [f"{path.name}: {pat}" for pat in CORE[header] if re.search(pat, code)]
    assert not wrong, f"belongs in harness/native/{header} (the one C core):\n" + "\n".join(wrong)


def test_the_core_headers_do_it():
    for header, pats in CORE.items():
        code = _code(NATIVE / header)
        assert all(re.search(p, code) for p in pats[:1]), header


@pytest.mark.parametrize("program, headers", [
    ("executor.c", ["bprm_call.h", "materialise.h", "record.h"]),
    ("launch.c", ["bprm_call.h"]),
    ("repro.c", ["bprm_call.h", "materialise.h", "record.h"]),
    ("simjail.c", ["materialise.h"]),
    ("fallback.c", ["record.h"]),
])
def test_programs_include_the_core(program, headers):
    code = _code(NATIVE / program)
    for h in headers:
        assert f'#include "{h}"' in code, f"{program} must use {h}"


def test_inlined_reproducer_sources_are_standalone():
    """No local include survives inlining; each libc-exec variant is resolved
    and a definition nothing uses is left out."""
    launch = (NATIVE / "launch.c").read_text()
    raw = build.inline_headers(launch)
    libc = build.inline_headers(launch, frozenset({"LIBC_EXEC"}))
    for text in (raw, libc):
        assert '#include "' not in text and "#ifdef LIBC_EXEC" not in text
    assert "SYS_execveat" in raw and "execveat(dirfd" not in raw
    assert "SYS_execveat" not in libc and "execveat(dirfd" in libc
    held = build.inline_headers('#include "materialise.h"\nint main(void) { return hold_write_access(0, "x"); }')
    assert "hold_write_access(int" in held and "materialise_inode" not in held and "inode_write" not in held


def test_committed_simulator_reproducers_embed_the_current_launcher():
    """reports/*/class-*.sh carry launch.c with the core inlined, exactly as
    harness/simrepro.py writes it now (no stale second exec call)."""
    from harness.simrepro import _launch_c
    block = re.compile(r"<<'EXECSPEC_EOF'\n(.*?)\nEXECSPEC_EOF\n(cc [^\n]*)", re.S)
    scripts = sorted((NATIVE.parent.parent / "reports").glob("*/*.sh"))
    for path in scripts:
        m = block.search(path.read_text())
        assert m, path
        assert m.group(1) == _launch_c("-DLIBC_EXEC" in m.group(2)), f"{path}: regenerate its launcher"
