"""The report's feature edits (harness/causes/): what in a case triggers
a simulator's divergence, named after the case's feature -- checked on the
edits themselves and with real simulator runs (PRoot, valgrind, qemu-user;
SKIP when not installed)."""
from __future__ import annotations

import shutil
import struct
from dataclasses import replace

import pytest

import model
from contract.case import Case, Exec, File
from generators.common import probe, script
from generators.elfbuild import PT_INTERP, Seg, encode, program, with_tail
from harness.targets import TargetUnavailable, get_target

CHAIN = "a #! interpreter that is a #! script, in a chain of more than 5 #! rewrites or a loop (Linux: ELOOP)"


def chain(end: File, n: int = 7) -> Case:
    """n #! scripts, each naming the next as its interpreter, the last /bin/end."""
    files = [script(f"/c{i}".encode(), f"#!/c{i + 1}\n".encode()) for i in range(n - 1)]
    files.append(script(f"/c{n - 1}".encode(), b"#!/bin/end\n"))
    return Case(files=(*files, replace(end, path=b"/bin/end")), exec=Exec(path=b"/c0", argv=(b"c0",), envp=()))


ENDS = {"probe": probe(b"/bin/end", "END"), "not executable": probe(b"/bin/end", "NX", mode=0o644),
        "empty": script(b"/bin/end", b"")}


def _names(case: Case) -> list[str]:
    from harness.causes import edits
    return [n for n, _ in edits(case)]


def test_shebang_depth_is_one_cause_whatever_ends_the_chain():
    """PRoot gave EACCES, ENOEXEC or ran the program for a too-long #!
    chain, depending on its last file: three classes keyed on its errno,
    one cause (the missing depth limit).  A self-referencing script is the
    same chain without end."""
    for end in ENDS.values():
        names = _names(chain(end))
        assert names[0] == CHAIN, names
    assert _names(Case(files=(script(b"/s", b"#!/s\n"),), exec=Exec(path=b"/s", argv=(b"s",), envp=())))[0] == CHAIN
    nested = chain(ENDS["probe"], n=2)  # within the limit: another cause
    assert _names(nested)[0] == "a #! interpreter that is itself a #! script (nested #!, within Linux's 5 rewrites)"


def _elf(**kw) -> bytes:
    return encode(program(**kw))


def _interp_elf(path: bytes) -> bytes:
    e = program(extra_segs=(Seg(PT_INTERP, 4, 0, 0, 0, 0, 1),))
    e, off = with_tail(e, path + b"\0")
    segs = list(e.segs)
    segs[1] = Seg(PT_INTERP, 4, off, 0, len(path) + 1, len(path) + 1, 1)
    return encode(replace(e, segs=tuple(segs)))


def _elf_case(data: bytes, *extra: File, mode: int = 0o755) -> Case:
    return Case(files=(File(path=b"/e", type="file", mode=mode, data=data), *extra),
                exec=Exec(path=b"/e", argv=(b"e",), envp=()))


def test_elf_feature_edits():
    """Each odd ELF header field, the PT_INTERP file and an ia32 program are
    named as such, and the edit changes that one thing."""
    from harness.causes import _field_fixes, pt_interp
    good = _elf()
    assert _field_fixes(good) == [] and _names(_elf_case(good)) == []
    bad = bytearray(good)
    struct.pack_into("<H", bad, 16, 0)  # e_type ET_NONE
    [(name, fixed)] = _field_fixes(bytes(bad))
    assert name == "ELF e_type neither ET_EXEC nor ET_DYN" and fixed == good  # one cause whatever the value
    bad = bytearray(good)
    struct.pack_into("<H", bad, 54, 0)  # e_phentsize
    assert _field_fixes(bytes(bad)) == [("ELF e_phentsize not the program header's size", good)]
    bad = bytearray(good)
    bad[4] = 0  # EI_CLASS: Linux never looks
    assert _field_fixes(bytes(bad))[0][0] == "ELF header EI_CLASS not the usual one"
    bad[4], bad[7] = 2, 3  # ELFOSABI_LINUX is usual
    assert _field_fixes(bytes(bad)) == []
    names = set()
    for phnum in (0, 200):  # no program headers, or more than the file has: one cause
        bad = bytearray(good)
        struct.pack_into("<H", bad, 56, phnum)
        [(name, _)] = _field_fixes(bytes(bad))
        names.add(name)
    assert names == {"ELF e_phnum not the program headers the file has (0, or past its end)"}
    ld = _interp_elf(b"/lib/ld")
    assert pt_interp(ld) == b"/lib/ld"
    for f, what in ((File(path=b"/lib/ld", type="dir", mode=0o755), "a directory"),
                    (probe(b"/lib/ld", "I", mode=0o644), "not executable (no x bit)"),
                    (probe(b"/lib/ld", "I"), "a static ET_EXEC program (not position-independent)"),
                    (script(b"/lib/ld", b"#!/bin/sh\n"), "not an ELF (no whole ELF header: a script, an empty or a "
                                                          "truncated file)")):
        name, edited = next((n, c) for n, c in _edits(_elf_case(ld, f)) if n.startswith("an ELF interpreter"))
        assert name == f"an ELF interpreter (PT_INTERP) that is {what}"
        assert [x for x in edited.files if x.path == b"/lib/ld"] == [
            File(path=b"/lib/ld", type="probe", mode=0o755, tag="EDIT", variant="pie")]
    drop = "an ELF program with an interpreter (PT_INTERP; without it, it agrees)"  # tried after the file's
    assert _names(_elf_case(ld, File(path=b"/lib/ld", type="probe", mode=0o755, tag="I", variant="pie"))) == [drop]
    assert _names(_elf_case(ld)) == ["an ELF interpreter (PT_INTERP) that is missing", drop]
    [(name, e)] = _edits(_elf_case(_elf(cls=1)))
    assert name == "an ia32 (32-bit x86) ELF program" and e.files[0].data == good  # the x86-64 build of it
    empty = Case(files=(probe(b"/a", "P"),), exec=Exec(path=b"", argv=(b"x",), envp=()))
    [(name, e)] = _edits(empty)
    assert name == "an empty program path" and model.predict(e, "newest") == model.predict(empty, "newest")


def _edits(case: Case):
    from harness.causes import edits
    return list(edits(case))


def test_path_and_permission_edits():
    P = probe(b"/bin/probe", "P")
    cwd = Case(files=(P, File(path=b"/b", type="dir", mode=0)), exec=Exec(path=b"/bin/probe", argv=(b"x",), envp=(),
                                                                          cwd=b"/b"))
    [(name, e)] = _edits(cwd)
    assert name == "the cwd without search permission" and e.files[1].mode == 0o755
    other = Case(files=(probe(b"/a", "T", mode=0o001),), exec=Exec(path=b"/a", argv=(b"x",), envp=()))
    assert _edits(other)[0][0] == "a program whose owner has no x bit (only group or others: Linux lets root run it)"
    assert _edits(other)[0][1].files[0].mode == 0o101
    xonly = Case(files=(probe(b"/a", "T", mode=0o111),), exec=Exec(path=b"/a", argv=(b"x",), envp=()))
    [(name, e)] = _edits(xonly)
    assert name == "an execute-only program (runnable, not readable)" and e.files[0].mode == 0o555
    slash = Case(files=(P,), exec=Exec(path=b"/bin/probe/.", argv=(b"x",), envp=()))
    [(name, e)] = _edits(slash)
    slash_cause = "a file named as a directory in the program path ('/' or more after it; Linux: ENOTDIR)"
    assert name == slash_cause and e.exec.path == b"/bin/probe"
    assert _edits(replace(slash, exec=replace(slash.exec, path=b"/bin/probe/")))[0][0] == name  # one cause
    loop = Case(files=(File(path=b"/l1", type="symlink", mode=0o777, data=b"/l2"),
                       File(path=b"/l2", type="symlink", mode=0o777, data=b"/l1")),
                exec=Exec(path=b"/l1", argv=(b"x",), envp=()))
    (name, e), (absolute, rel) = _edits(loop)
    assert name == "a symlink loop on the program's path" and [f.type for f in e.files] == ["probe"]
    # fakechroot: the kernel follows an absolute target from the host's root
    assert absolute == "an absolute symlink target" and [f.data for f in rel.files] == [b"l2", b"l1"]
    deep = Case(files=(P, File(path=b"/d/e/l", type="symlink", mode=0o777, data=b"/bin/probe")),
                exec=Exec(path=b"/d/e/l", argv=(b"x",), envp=()))
    [(absolute, rel)] = _edits(deep)
    assert rel.files[1].data == b"../../bin/probe"
    assert model.predict(rel, model.profile("6.18"))["exe"] == model.predict(deep, model.profile("6.18"))["exe"]
    # a file named as a directory by a symlink's target: the same cause as a path's own '/'
    via = Case(files=(P, File(path=b"/l", type="symlink", mode=0o777, data=b"bin/probe/")),
               exec=Exec(path=b"/l", argv=(b"x",), envp=()))
    assert model.predict(via, model.profile("6.18")) == {"outcome": "error", "errno": "ENOTDIR"}
    [(name, e)] = _edits(via)
    assert name == slash_cause and e.files[1].data == b"bin/probe" and model.predict(
        e, model.profile("6.18"))["outcome"] == "exec"


def test_raw_descriptor_execveat_is_the_execveat_cause():
    """execveat() with a raw descriptor number (or AT_FDCWD and an empty
    name) has the same edit as one with a dirfd by path: the execve() of
    the name.  (The old edit gave up on them: five valgrind classes.)"""
    from harness.causes import EDITS
    edit = dict(EDITS)["execveat() (as execve() it agrees)"]
    for dirfd, path, want in ((99, b".", b"."), (1, b"badscript", b"badscript"), (None, b"", b"."),
                              (99, b"/abs", b"/abs")):
        c = Case(files=(), exec=Exec(path=path, argv=(b"x",), envp=(), syscall="execveat", dirfd=dirfd,
                                     flags=("AT_EMPTY_PATH",) if not path else ()))
        e = edit(c).exec
        assert (e.syscall, e.path, e.dirfd, e.flags) == ("execve", want, None, ())


def _sim(name: str, program_name: str):
    if shutil.which(program_name) is None:
        pytest.skip(f"{program_name} not installed")
    try:
        return get_target(f"sim:{name}")
    except TargetUnavailable as e:
        pytest.skip(str(e))


def _cause_on(t, case: Case) -> str | None:
    from harness.causes.search import _cause
    from harness.report import Reporter
    rep = Reporter(t, 1, 1)
    exp, obs = model.predict(case, rep.profile), t.run(case)
    assert exp != obs
    return _cause(rep, t, case, exp, obs)


@pytest.mark.userns
def test_proot_shebang_depth_one_cause():
    """Real PRoot: the three ELOOP chains it gets wrong three ways are one
    cause."""
    t = _sim("proot", "proot")
    try:
        seen = {}
        for what, end in ENDS.items():
            case = chain(end)
            seen[what] = (t.run(case).get("outcome"), _cause_on(t, case))
        assert {c for _, c in seen.values()} == {CHAIN}, seen
        assert len({o for o, _ in seen.values()}) >= 2, seen  # the simulator's outcomes differ
    finally:
        t.close()


@pytest.mark.userns
def test_valgrind_raw_descriptor_execveat():
    """Real valgrind: execveat() with descriptor 99 (closed) or 1 (stdout)
    as dirfd, whatever errno valgrind returns, is the execveat() cause."""
    t = _sim("valgrind", "valgrind")
    d = (File(path=b"/d", type="dir", mode=0o755), probe(b"/d/probe", "P"),
         script(b"/d/badscript", b"#!\n"), File(path=b"/d/sub", type="dir", mode=0o755))
    try:
        for ex in (Exec(path=b".", argv=(b"a",), envp=(), syscall="execveat", dirfd=99,
                        flags=("AT_SYMLINK_NOFOLLOW", "AT_EMPTY_PATH", "AT_EXECVE_CHECK")),
                   Exec(path=b"badscript", argv=(b"x",), envp=(), cwd=b"/d", syscall="execveat", dirfd=1)):
            assert _cause_on(t, Case(files=d, exec=ex)) == "execveat() (as execve() it agrees)"
    finally:
        t.close()


@pytest.mark.userns
def test_qemu_load_failure_exit_is_declared():
    """qemu-user reports a program it cannot load as its exit status 1
    (declared in its description): no class; a crafted ELF that runs where
    Linux refuses it still is one."""
    from harness.report import Reporter, declared_load_failure
    try:
        t = get_target("sim:qemu-user")
    except TargetUnavailable as e:
        pytest.skip(str(e))
    try:
        missing = Case(files=(probe(b"/bin/probe", "P"),), exec=Exec(path=b"/nope", argv=(b"n",), envp=()))
        rep = Reporter(t, 1, 1)
        obs = t.run(missing)
        assert obs["outcome"] == "exit" and declared_load_failure(t, model.predict(missing, rep.profile), obs)
        assert rep.key("g", missing) is None
        assert not declared_load_failure(t, {"outcome": "error", "errno": "ENOEXEC"},
                                         {"outcome": "exit", "status": 42})
    finally:
        t.close()


@pytest.mark.userns
def test_proot_signal_exit_declared():
    """Real PRoot reports a program killed by SIGSEGV as its exit 255 ('...
    terminated with signal 11'), on every such case (proot-me/proot#146):
    declared in its description, the outcome is the signal again."""
    from generators.elfbuild import PF_R
    t = _sim("proot", "proot")
    try:
        case = _elf_case(_elf(code_flags=PF_R))  # code not executable: SIGSEGV at the entry
        assert model.predict(case, model.profile(t.kernel)) == {"outcome": "signal", "signal": "SIGSEGV"}
        assert t.run(case) == {"outcome": "signal", "signal": "SIGSEGV"}
        desc, t.desc = t.desc, {k: v for k, v in t.desc.items() if k != "always"}
        try:
            raw = t.run(case)  # undeclared: what proot itself says
        finally:
            t.desc = desc
        assert raw["outcome"] == "exit" and raw["status"] == 255 and "signal 11" in raw["stderr"], raw
    finally:
        t.close()


def test_signal_exit_declarations():
    """Both forms of "signal_exit" on recorded outcomes: PRoot's message and
    a shell wrapper's 128+N; other exits stay exits."""
    from harness.targets.simulator import SimulatorTarget
    f = SimulatorTarget._signal_exit
    proot = {"stderr": "terminated with signal (\\d+)"}
    assert f(proot, {"outcome": "exit", "status": 255, "stderr": "proot info: pid 3: terminated with signal 11"}) \
        == {"outcome": "signal", "signal": "SIGSEGV"}
    assert f(proot, {"outcome": "exit", "status": 42})["outcome"] == "exit"
    assert f({"status_base": 128}, {"outcome": "exit", "status": 139}) == {"outcome": "signal", "signal": "SIGSEGV"}
    assert f({"status_base": 128}, {"outcome": "exit", "status": 42}) == {"outcome": "exit", "status": 42}


@pytest.mark.userns
def test_valgrind_owner_x_bit():
    """Real valgrind refuses (EACCES) a program of mode 0001 that Linux lets
    the case's root run; with the owner's x bit (0101) it runs: the cause
    is the owner's bit, not the missing read permission (0100 runs too)."""
    t = _sim("valgrind", "valgrind")
    try:
        case = Case(files=(probe(b"/a", "T0", mode=0o001),), exec=Exec(path=b"/a", argv=(b"x",), envp=()))
        assert t.run(case) == {"outcome": "error", "errno": "EACCES"}
        assert _cause_on(t, case) == "a program whose owner has no x bit (only group or others: Linux lets root run it)"
    finally:
        t.close()


def test_script_direct_edit():
    """A #! script as the program becomes the exec of its interpreter with
    the argv Linux gives it, so the model predicts the same program run."""
    c = Case(files=(probe(b"/bin/probe", "P"), script(b"/s", b"#!/bin/probe  -x y \n")),
             exec=Exec(path=b"/s", argv=(b"s", b"1"), envp=()))
    name, e = next((n, x) for n, x in _edits(c) if n.startswith("a #! script as the program"))
    assert e.exec.path == b"/bin/probe" and e.exec.argv == (b"/bin/probe", b"-x y", b"/s", b"1")
    assert model.predict(e, "newest")["argv"] == model.predict(c, "newest")["argv"]
    nested = chain(ENDS["probe"], n=2)  # /c0 -> /c1 -> /bin/end
    name, e = next((n, x) for n, x in _edits(nested) if n.startswith("a #! script as the program"))
    assert e.exec.path == b"/bin/end" and model.predict(e, "newest")["argv"] == model.predict(nested, "newest")["argv"]


@pytest.mark.userns
def test_qemu_no_shebang_loader_cause():
    """Real qemu-user exits 1 on any #! script Linux runs (no #! loader):
    the cause is the script as the program, whatever the script does."""
    try:
        t = get_target("sim:qemu-user")
    except TargetUnavailable as e:
        pytest.skip(str(e))
    try:
        nested = chain(ENDS["probe"], n=2)
        assert t.run(nested)["outcome"] == "exit"
        assert _cause_on(t, nested).startswith("a #! script as the program")
    finally:
        t.close()


def test_interp_and_long_path_edits():
    """Dropping the PT_INTERP entry runs the program by itself; a path of
    PATH_MAX bytes becomes a missing short one (ENOENT both ways on Linux's
    side: ENAMETOOLONG is Linux's, not the simulator's, to give)."""
    from harness.causes import pt_interp
    from harness.causes.search import _same_fate
    ld = _interp_elf(b"/lib/ld")
    c = _elf_case(ld, File(path=b"/lib/ld", type="probe", mode=0o755, tag="I", variant="pie"))
    [(name, e)] = _edits(c)
    assert name.startswith("an ELF program with an interpreter") and pt_interp(e.files[0].data) is None
    long = Case(files=(probe(b"/bin/probe", "P"),), exec=Exec(path=b"/" + b"a/" * 2047 + b"b", argv=(b"x",), envp=()))
    assert model.predict(long, "newest") == {"outcome": "error", "errno": "ENAMETOOLONG"}
    name, e = next((n, x) for n, x in _edits(long) if n.startswith("a program path of PATH_MAX"))
    assert model.predict(e, "newest") == {"outcome": "error", "errno": "ENOENT"}
    sig = {"outcome": "signal", "signal": "SIGSEGV"}
    assert _same_fate({"outcome": "exec"}, {"outcome": "exit"}) and not _same_fate(sig, {"outcome": "exec"})
    assert _same_fate({"outcome": "error"}, {"outcome": "exec"}) and not _same_fate({"outcome": "exit"}, sig)


def test_blank_shebang_names_no_interpreter():
    """A #! line of blanks only, however long, is a line naming no interpreter."""
    for line in (b"#!", b"#!" + b" " * 300):
        c = Case(files=(script(b"/s", line + b"\n"),), exec=Exec(path=b"/s", argv=(b"s",), envp=()))
        assert _names(c)[0] == "a #! line naming no interpreter", line


def _load_variant(**seg) -> bytes:
    e = program()
    return encode(replace(e, segs=(replace(e.segs[0], **seg),)))


def test_segment_edits():
    """Each odd PT_LOAD layout is named after itself and repaired alone: a
    bss without PF_W (qemu-user writes its zeros and faults; Linux runs
    it), a bss past the address space (Linux SIGSEGV; qemu-user hangs,
    PRoot SIGBUS), the entry point without PF_X (valgrind runs it)."""
    from harness.causes import _segment_fixes, describe
    good = _elf()
    size = program().segs[0].filesz
    p618 = model.profile("6.18")
    for seg, name, linux in (
            ({"memsz": size + 1}, "a PT_LOAD with a bss (p_memsz over p_filesz) but without PF_W", "exit"),
            ({"memsz": 1 << 47}, "a PT_LOAD whose p_memsz reaches past the end of the address space", "signal"),
            ({"flags": 4}, "its entry point in a PT_LOAD without PF_X", "signal")):
        bad = _load_variant(**seg)
        assert _segment_fixes(bad) == [(name, good)], seg
        assert model.predict(_elf_case(bad), p618)["outcome"] == linux
        assert _names(_elf_case(bad)) == [f"an ELF program with {name}"]
        assert describe(File(path=b"/i", type="file", mode=0o755, data=bad)) == f"a crafted ELF with {name}"
    past = _load_variant(filesz=size + 100, memsz=size + 100)
    [(name, padded)] = _segment_fixes(past)
    assert name == "a PT_LOAD whose file range runs past the end of the file" and len(padded) == size + 100
    assert padded[:len(past)] == past
    for seg, name in (({"memsz": size - 1}, "a PT_LOAD with p_filesz over p_memsz"),
                      ({"offset": 0x800}, "a PT_LOAD whose p_offset and p_vaddr differ modulo the page size "
                                          "(mmap refuses it)")):
        bad = _load_variant(**seg)  # Linux: SIGSEGV after the point of no return; repaired, it runs
        assert model.predict(_elf_case(bad), p618) == {"outcome": "signal", "signal": "SIGSEGV"}
        fixes = dict(_segment_fixes(bad))  # (an offset past the page also runs past the file's end)
        assert model.predict(_elf_case(fixes[name]), p618)["outcome"] == "exit"
    low = encode(program(base=0))  # the image at address 0: mmap refuses it, Linux kills it
    assert model.predict(_elf_case(low), p618) == {"outcome": "signal", "signal": "SIGSEGV"}
    [(name, moved)] = _segment_fixes(low)
    assert name == "a PT_LOAD below mmap_min_addr" and model.predict(_elf_case(moved), p618)["outcome"] == "exit"
    none = _load_variant(type=4)  # PT_NOTE: nothing to load, nothing to repair
    assert _segment_fixes(none) == [] and describe(File(path=b"/i", type="file", mode=0o755, data=none)) \
        == "a crafted ELF with no PT_LOAD"


def test_cr_edit_keeps_the_interpreter_found():
    """\\r in a #! line that names a file whose name has the \\r (Linux runs
    it): the edit drops the \\r from both, so Linux still runs it -- an edit
    that made Linux fail would name nothing where Linux ran the case."""
    from harness.causes import _no_cr
    case = Case(files=(probe(b"/p\r", "P"), script(b"/s", b"#!/p\r\n")), exec=Exec(path=b"/s", argv=(b"s",), envp=()))
    p618 = model.profile("6.18")
    assert model.predict(case, p618)["outcome"] == "exec"
    e = _no_cr(case)
    assert e is not None and [f.path for f in e.files] == [b"/p", b"/s"] and e.files[1].data == b"#!/p\n"
    assert model.predict(e, p618)["outcome"] == "exec"
    plain = Case(files=(probe(b"/p", "P"), script(b"/s", b"#!/p\r\n")), exec=Exec(path=b"/s", argv=(b"s",), envp=()))
    assert model.predict(plain, p618)["errno"] == "ENOENT" and model.predict(_no_cr(plain), p618)["outcome"] == "exec"


def test_two_edit_causes_fold_into_their_classes():
    """A cause of two edits whose parts are each a class is no class of its
    own: its shapes join the first part's class, marked; a part that is no
    class keeps the pair a class."""
    from harness.causes.search import TOGETHER, group_classes
    case = Case(files=(), exec=Exec(path=b"/x", argv=(b"x",), envp=()))
    classes = {k: {"cause": c, "case": case} for k, c in (
        ("k1", "A"), ("k2", "B"), ("k3", TOGETHER.join(["A", "B"])), ("k4", TOGETHER.join(["A", "C"])))}
    groups = group_classes(classes)
    assert sorted(groups) == ["cause: A", "cause: A -- together with -- C", "cause: B"]
    assert [(k, c.get("together")) for k, c in groups["cause: A"]] == [("k1", None), ("k3", TOGETHER.join(["A", "B"]))]


def _seg_case(**seg) -> Case:
    return _elf_case(_load_variant(**seg))


@pytest.mark.userns
def test_qemu_segment_and_ia32_causes():
    """Real qemu-user: a bss in a PT_LOAD without PF_W crashes it where
    Linux runs the program; an ia32 program is its own exit 255 where Linux
    exits 42 (seen only with the host's status) -- each named by its edit."""
    try:
        t = get_target("sim:qemu-user")
        host = get_target("sandbox")
    except TargetUnavailable as e:
        pytest.skip(str(e))
    try:
        from harness.causes.search import _cause
        from harness.report import Reporter
        rep = Reporter(t, 1, 1, host)
        size = program().segs[0].filesz
        for case, cause in ((_seg_case(memsz=size + 1),
                             "an ELF program with a PT_LOAD with a bss (p_memsz over p_filesz) but without PF_W"),
                            (_elf_case(_elf(cls=1)), "an ia32 (32-bit x86) ELF program")):
            obs = t.run(case)
            exp = rep.complete(case, model.predict(case, rep.profile), obs)
            assert rep.class_keys(exp, obs), (exp, obs)
            assert _cause(rep, t, case, exp, obs) == cause
    finally:
        t.close()
        host.close()


@pytest.mark.userns
def test_fakechroot_absolute_symlink():
    """Real fakechroot: the kernel follows an absolute symlink target from
    the host's root (ENOENT where Linux runs the program)."""
    t = _sim("fakechroot", "fakechroot")
    try:
        case = Case(files=(probe(b"/bin/probe", "P"), File(path=b"/l", type="symlink", mode=0o777, data=b"/bin/probe")),
                    exec=Exec(path=b"/l", argv=(b"x",), envp=()))
        assert t.run(case).get("errno") == "ENOENT"
        assert _cause_on(t, case) == "an absolute symlink target"
    finally:
        t.close()


def test_near_path_max_edit():
    """A path Linux takes whole (4094 bytes of './') that PRoot, adding its
    root's path, finds too long: the same path, lexically normalised."""
    from harness.causes import near_path_max
    p = b"./" * 2045 + b"a"
    case = Case(files=(probe(b"/a", "T", mode=0o644),), exec=Exec(path=p, argv=(b"x",), envp=()))
    name, e = near_path_max(case)
    assert name.startswith("a program path of 3584 bytes or more") and e.exec.path == b"a"
    p618 = model.profile("6.18")
    assert model.predict(case, p618) == model.predict(e, p618) == {"outcome": "error", "errno": "EACCES"}
    assert near_path_max(replace(case, exec=replace(case.exec, path=b"../" + p))) is None  # climbs from the cwd
    link = File(path=b"/l", type="symlink", mode=0o777, data=b"/a")  # not on a '..' path: '.' is lexical anyway
    assert near_path_max(replace(case, files=(*case.files, link)))[1].exec.path == b"a"


def test_whole_program_edit_names_no_crash():
    """The ia32 edit puts a well-formed x86-64 program in place of the
    ia32 one: where Linux crashes the ia32 program for another reason, the
    edit repairs that too, so it may not name the crash's cause even where
    the simulator then agrees."""
    from harness.causes.search import _explains
    from harness.report import Reporter

    class Runs:  # a simulator that runs every program to exit 42
        name, observable = "sim:runs", None
        kernel = "6.18"

        def run(self, case):
            return {"outcome": "exit", "status": 42}

        def skip_reason(self, case):
            return None
    t = Runs()
    e = program(cls=1)
    crash = encode(replace(e, segs=(replace(e.segs[0], offset=0x800),)))  # Linux: SIGSEGV
    case = _elf_case(crash)
    rep = Reporter(t, 1, 1)
    rep.background = {}
    exp = model.predict(case, rep.profile)
    assert exp["outcome"] == "signal"
    x86 = dict(_edits(case))["an ia32 (32-bit x86) ELF program"]
    assert _explains(rep, t, x86, exp, t.run(case), None, True, whole=True)[0] is None
    assert _explains(rep, t, x86, exp, t.run(case), None, True, whole=False)[0] is True


def test_interpreter_edit_keeps_the_writer():
    """A PT_INTERP that is a #! script held open for writing (Linux:
    ETXTBSY; PRoot: ENOEXEC, it checks neither): the interpreter edit still
    applies, and its probe stays held open, so what remains is the ETXTBSY
    class's and the interpreter is this class's cause."""
    ld = _interp_elf(b"/lib/ld")
    case = _elf_case(ld, replace(script(b"/lib/ld", b"#!/lib/p\n"), open_for_write=True), probe(b"/lib/p", "S"))
    p618 = model.profile("6.18")
    assert model.predict(case, p618)["errno"] == "ETXTBSY"
    edited = dict(_edits(case))
    e = edited["an ELF interpreter (PT_INTERP) that is not an ELF (no whole ELF header: a script, an empty or a "
               "truncated file)"]
    [new] = [f for f in e.files if f.path == b"/lib/ld"]
    assert new.type == "probe" and new.open_for_write and model.predict(e, p618)["errno"] == "ETXTBSY"


def test_blank_end_and_directory_edits():
    """A #! line ending in a blank without a newline: Linux passes an empty
    argument (the host kernel agrees with the model on it), and the edit
    that drops the blank takes it away; a directory as the program is
    EACCES for Linux before and after its edit (a file without x bit)."""
    from harness.causes.paths import directory_program
    from harness.causes.shebang import blank_end
    p618 = model.profile("6.18")
    P = probe(b"/bin/probe", "P")
    case = Case(files=(P, script(b"/s", b"#!/bin/probe\t")), exec=Exec(path=b"/s", argv=(b"s",), envp=()))
    assert model.predict(case, p618)["argv"] == [b"/bin/probe", b"", b"/s"]
    name, e = blank_end(case)
    assert name.startswith("a #! line ending in a blank") and e.files[1].data == b"#!/bin/probe"
    assert model.predict(e, p618)["argv"] == [b"/bin/probe", b"/s"]
    assert blank_end(replace(case, files=(P, script(b"/s", b"#!/bin/probe\t\n")))) is None  # the newline: no ""
    d = Case(files=(File(path=b"/d", type="dir", mode=0o755), probe(b"/d/p", "P")),
             exec=Exec(path=b"/d", argv=(b"x",), envp=()))
    name, e = directory_program(d)
    assert [f.type for f in e.files] == ["file"]  # what was under it went with it
    assert model.predict(d, p618) == model.predict(e, p618) == {"outcome": "error", "errno": "EACCES"}


@pytest.mark.userns
def test_fakechroot_blank_end_and_directory():
    """Real fakechroot: it drops Linux's empty #! argument, and a directory
    given as the program is ENOENT (Linux: EACCES) -- each named."""
    t = _sim("fakechroot", "fakechroot")
    try:
        P = probe(b"/bin/probe", "P")
        for case, cause in (
                (Case(files=(P, script(b"/s", b"#!/bin/probe\t")), exec=Exec(path=b"/s", argv=(b"s",), envp=())),
                 "a #! line ending in a blank, without a newline (Linux passes an empty argument)"),
                (Case(files=(File(path=b"/d", type="dir", mode=0o755),), exec=Exec(path=b"/d", argv=(b"x",), envp=())),
                 "a directory as the program (Linux: EACCES)")):
            assert _cause_on(t, case) == cause
    finally:
        t.close()


@pytest.mark.userns
def test_proot_name_max_component():
    """Real PRoot refuses a path component of NAME_MAX (255) bytes that
    Linux takes (proot-me/proot#391): ENAMETOOLONG where Linux runs the
    program; the component renamed short, it agrees."""
    t = _sim("proot", "proot")
    try:
        long = b"/d/" + b"n" * 255
        case = Case(files=(File(path=b"/d", type="dir", mode=0o755), probe(long, "P")),
                    exec=Exec(path=long, argv=(b"x",), envp=()))
        assert model.predict(case, model.profile("6.18"))["outcome"] == "exec"
        assert t.run(case).get("errno") == "ENAMETOOLONG"
        assert _cause_on(t, case) == "a path component of NAME_MAX (255) bytes, which Linux takes"
    finally:
        t.close()


def test_script_direct_without_a_newline():
    """A #! line with no newline that Linux runs (the kernel's buffer is
    NUL-padded): the script-direct edit reads the line as load_script()
    does, so it applies (it once raised ENOEXEC on the unpadded bytes)."""
    from harness.causes.shebang import script_direct
    name = b"/" + b"d" * 120 + b"/p\x0ba"
    case = Case(files=(probe(name, "D0"), script(b"/s", b"#!" + name)), exec=Exec(path=b"/s", argv=(b"s",), envp=()))
    assert model.predict(case, model.profile("6.18"))["tag"] == "D0"
    _, e = script_direct(case)
    assert e.exec.path == name and e.exec.argv == (name, b"/s")
