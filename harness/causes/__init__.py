"""One-change edits that name what in a case triggers a divergence.

Each edit looks for one feature of the case (a #! interpreter that is a
directory, an ELF header field Linux refuses, an unsearchable cwd, ...),
and, when the case has it, returns (cause, edited case): the cause named
after the feature as this case has it, and the case with just that feature
repaired (the interpreter replaced by a probe, the field given its usual
value, the directory made searchable).  search.py runs the edited
case on the simulator and the model: if the divergence vanishes (or turns
into another class while the simulator acts differently), the feature is
the class's cause.  Two classes with the same cause are one; the subsets
of a merged class with different causes are separate classes.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

from contract.case import DEFAULT_RLIMIT_STACK, Case

from .elf import (
    IA32,
    WHOLE_PROGRAM,
    _field_fixes,
    _segment_fixes,
    anomalies,
    describe,
    drop_interp,
    elf_fields,
    elf_interpreter,
    ia32,
    pt_interp,
)
from .paths import (
    _as_execve,
    absolute_links,
    directory_program,
    empty_path,
    execute_only,
    file_as_directory,
    long_path,
    name_max,
    near_path_max,
    owner_x,
    symlink_loop,
    unsearchable_dirs,
)
from .shebang import (
    SHORT_SHEBANG,
    _cut_shebang,
    _long_shebang,
    _no_cr,
    _replace_files,
    blank_end,
    empty_shebang,
    script_direct,
    shebang_interpreter,
)
from .tree import without_creds

__all__ = ["EDITS", "FEATURE_EDITS", "IA32", "WHOLE_PROGRAM", "_field_fixes", "_no_cr", "_segment_fixes",
           "anomalies", "describe", "edits", "ia32", "near_path_max", "pt_interp", "without_creds"]


# One-change edits of a shrunk case: when the simulator agrees with the model
# after one of them, that edit names the class's cause, and classes with the
# same cause are one.
EDITS: list[tuple[str, Callable[[Case], Case | None]]] = [
    ("files held open for writing (ETXTBSY)",
     lambda c: _replace_files(c, lambda f: replace(f, open_for_write=False))
     if any(f.open_for_write for f in c.files) else None),
    # what Linux (5.18+) makes of a NULL argv: [""]
    ("NULL argv", lambda c: replace(c, exec=replace(c.exec, argv=(b"",))) if c.exec.argv is None else None),
    ("NULL envp", lambda c: replace(c, exec=replace(c.exec, envp=())) if c.exec.envp is None else None),
    ("argc 0 (empty argv)", lambda c: replace(c, exec=replace(c.exec, argv=(b"x",))) if c.exec.argv == () else None),
    ("a FIFO", lambda c: _replace_files(c, lambda f: replace(f, type="file", data=b"") if f.type == "fifo" else f)
     if any(f.type == "fifo" for f in c.files) else None),
    ("\\r in a #! line", _no_cr),
    ("a raised RLIMIT_STACK", lambda c: replace(c, exec=replace(c.exec, rlimit_stack=DEFAULT_RLIMIT_STACK))
     if c.exec.rlimit_stack != DEFAULT_RLIMIT_STACK else None),
    ("execveat() (as execve() it agrees)", _as_execve),
    # last: cutting a line may also cut away what an edit above names
    (f"a #! line of {SHORT_SHEBANG} bytes or more (the simulator cuts #! lines elsewhere than Linux's 255)",
     lambda c: _replace_files(c, lambda f: replace(f, data=_cut_shebang(f.data)) if _long_shebang(f) else f)
     if any(_long_shebang(f) for f in c.files) else None),
]


FEATURE_EDITS: list[tuple[str, Callable[[Case], list[tuple[str, Case]]]]] = [
    ("a file named as a directory", lambda c: [x] if (x := file_as_directory(c)) else []),
    ("an empty program path", lambda c: [x] if (x := empty_path(c)) else []),
    ("a path of PATH_MAX bytes", lambda c: [x] if (x := long_path(c)) else []),
    ("a path near PATH_MAX", lambda c: [x] if (x := near_path_max(c)) else []),
    ("a component of NAME_MAX bytes", lambda c: [x] if (x := name_max(c)) else []),
    ("a symlink loop", lambda c: [x] if (x := symlink_loop(c)) else []),
    ("a directory as the program", lambda c: [x] if (x := directory_program(c)) else []),
    ("an absolute symlink target", lambda c: [x] if (x := absolute_links(c)) else []),
    ("a directory without search permission", lambda c: [x] if (x := unsearchable_dirs(c)) else []),
    ("a program without its owner's x bit", lambda c: [x] if (x := owner_x(c)) else []),
    ("an execute-only program", lambda c: [x] if (x := execute_only(c)) else []),
    ("an ELF header field", elf_fields),
    ("an ELF interpreter (PT_INTERP)", lambda c: [x] if (x := elf_interpreter(c)) else []),
    ("a #! interpreter", lambda c: [x] if (x := shebang_interpreter(c)) else []),
    ("a #! line naming no interpreter", lambda c: [x] if (x := empty_shebang(c)) else []),
    ("a #! line ending in a blank", lambda c: [x] if (x := blank_end(c)) else []),
    ("an ELF program with an interpreter", lambda c: [x] if (x := drop_interp(c)) else []),
    ("an ia32 ELF program", lambda c: [x] if (x := ia32(c)) else []),
    ("a #! script as the program", lambda c: [x] if (x := script_direct(c)) else []),
]


def edits(case: Case) -> Iterator[tuple[str, Case]]:
    """The one-change edits that apply to `case`, in the order they are
    tried: the fixed ones above (but the #! line cut), then the feature
    edits of the submodules (named after the feature as the case has
    it), the #! line cut, and last the broadest: the #! script run through
    its interpreter directly (it changes everything a #! line does, so a
    narrower edit that explains the class names it first)."""
    for name, edit in EDITS[:-1]:
        if (e := edit(case)) is not None:
            yield name, e
    for _, feature in FEATURE_EDITS[:-1]:
        yield from feature(case)
    name, edit = EDITS[-1]
    if (e := edit(case)) is not None:
        yield name, e
    yield from FEATURE_EDITS[-1][1](case)
