"""Simulator targets: the description mechanism (a command template, no
code) checked with a do-nothing "simulator" -- our launcher chrooted on the
host kernel, which must then agree with the model -- plus smoke runs under
PRoot and qemu-user (SKIP when they are not installed) and the report's
classifier."""
from __future__ import annotations

import json
import os
import shutil

import pytest

import model
from contract.case import Case, Exec, diff_outcomes
from generators.common import probe, script
from harness.causes.search import classify
from harness.targets import TargetUnavailable, get_target

PROBE_CASE = Case(files=(probe(b"/bin/probe", "P"),),
                  exec=Exec(path=b"/bin/probe", argv=(b"p", b"a b", b"\xff"), envp=(b"K=V",)))
SCRIPT_CASE = Case(files=(probe(b"/bin/probe", "P"), script(b"/s", b"#!/bin/probe -x\n")),
                   exec=Exec(path=b"/s", argv=(b"s", b"1"), envp=()))
ENOENT_CASE = Case(files=(probe(b"/bin/probe", "P"),), exec=Exec(path=b"/nope", argv=(b"n",), envp=()))


@pytest.fixture
def identity(tmp_path):
    d = {"name": "identity", "command": ["{launcher}"], "mode": "launcher", "chroot": True,
         "emulated": "nothing: the host kernel in a chroot"}
    p = tmp_path / "identity.json"
    p.write_text(json.dumps(d))
    try:  # chrooted inside the simulator jail: no root needed, only user namespaces
        t = get_target(f"sim:{p}")
    except TargetUnavailable as e:
        pytest.skip(str(e))
    yield t
    t.close()


class Altered:
    """The identity simulator with another `run` (which may call
    identity.run itself): its kernel, what it observes and what it skips
    stay identity's."""

    def __init__(self, identity, name: str, run, describe: str | None = None):
        self.name, self.kernel, self.observable = name, identity.kernel, identity.observable
        self._identity, self.run = identity, run
        if describe is not None:
            self.describe = lambda: describe

    def skip_reason(self, case):
        return self._identity.skip_reason(case)


@pytest.mark.userns
@pytest.mark.parametrize("case", [PROBE_CASE, SCRIPT_CASE, ENOENT_CASE], ids=["probe", "script", "enoent"])
def test_template_mechanism_on_the_host_kernel(identity, case):
    observed = identity.run(case)
    assert not diff_outcomes(model.predict(case, identity.kernel), observed, identity.observable), observed


def test_bad_description(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps({"name": "x", "command": ["y"]}))
    with pytest.raises(TargetUnavailable, match="mode"):
        get_target(f"sim:{p}")
    with pytest.raises(TargetUnavailable, match="known: "):
        get_target("sim:no-such-simulator")


@pytest.mark.userns
@pytest.mark.skipif(shutil.which("proot") is None, reason="proot not installed")
def test_proot_smoke():
    t = get_target("sim:proot")
    try:
        o = t.run(PROBE_CASE)
        assert o["outcome"] == "exec" and o["argv"] == [b"p", b"a b", b"\xff"] and o["envp"] == [b"K=V"]
        assert t.run(ENOENT_CASE) == {"outcome": "error", "errno": "ENOENT"}
        reg = Case(files=PROBE_CASE.files, exec=PROBE_CASE.exec, binfmt_misc=(b":x:E::x::/bin/probe:",))
        assert t.run(reg)["outcome"] == "skip"  # never the host's global binfmt_misc
    finally:
        t.close()


@pytest.mark.userns
def test_qemu_user_smoke():
    try:
        t = get_target("sim:qemu-user")
    except TargetUnavailable as e:
        pytest.skip(str(e))
    try:
        o = t.run(PROBE_CASE)
        assert o["outcome"] == "exec" and o["argv"] == [b"p", b"a b", b"\xff"] and o["envp"] == [b"K=V"]
        assert t.skip_reason(Case(files=(), exec=Exec(path=b"/p", argv=(), envp=())))
    finally:
        t.close()


def test_classify():
    exp = {"outcome": "exec", "tag": "P", "argv": [b"a"], "envp": [], "execfn": b"/a", "comm": b"a",
           "execfd": False}
    assert classify("g", exp, dict(exp), frozenset(exp)) is None
    k = classify("g", exp, {**exp, "comm": b"/a"}, frozenset(exp) | {"outcome"})
    assert k == "comm | model exec -> simulator exec"  # the generator never splits a class
    assert classify("h", exp, {**exp, "comm": b"/a"}, frozenset(exp) | {"outcome"}) == k
    assert classify("g", {"outcome": "error", "errno": "ENOENT"}, {"outcome": "error", "errno": "EACCES"},
                    frozenset({"outcome", "errno"})) == ("load failure: simulator error EACCES where Linux fails "
                                                         "with another errno")



def test_classify_errno_only_differences_are_one_cause():
    """A load failure is keyed on what the simulator did: the errnos Linux
    gives for the same cases never split it."""
    obs = frozenset({"outcome", "errno", "status", "signal", "argv", "envp", "tag"})
    err = [{"outcome": "error", "errno": e} for e in ("ENOENT", "ELOOP", "ENOEXEC", "ETXTBSY")]
    for sim in ({"outcome": "error", "errno": "EACCES"}, {"outcome": "exit", "status": 1},
                {"outcome": "signal", "signal": "SIGSEGV"}):
        keys = {classify("g", e, sim, obs) for e in err}
        assert len(keys) == 1 and next(iter(keys)).startswith("load failure: simulator"), keys
    assert (classify("g", err[0], {"outcome": "error", "errno": "EACCES"}, obs)
            != classify("g", err[0], {"outcome": "error", "errno": "EFAULT"}, obs))  # what the simulator did
    ran = {"outcome": "exec", "tag": "P", "argv": [b"a"], "envp": []}
    # Linux runs it: one class per simulator errno, whatever the exec fields
    assert (classify("g", ran, {"outcome": "error", "errno": "ENOENT"}, obs)
            == classify("g", {**ran, "argv": [b"a", b"b"]}, {"outcome": "error", "errno": "ENOENT"}, obs)
            == classify("g", {"outcome": "signal", "signal": "SIGSEGV"}, {"outcome": "error", "errno": "ENOENT"}, obs)
            == "load failure: simulator error ENOENT where Linux runs the program")
    # the simulator runs what Linux refuses: keyed on the check it lacks
    assert classify("g", err[0], ran, obs) == classify("g", err[0], {**ran, "tag": "Q"}, obs)
    assert classify("g", err[0], ran, obs) != classify("g", err[1], ran, obs)


class _Shebang:
    """A fake simulator that cuts a #! line at `cut` bytes (None: never)."""
    observable = frozenset({"outcome", "argv"})

    def __init__(self, cut: int | None):
        self.cut = cut

    def run(self, case):
        line = case.files[1].data.split(b"\n")[0]
        if self.cut is not None:
            line = line[:self.cut - 1]
        return {"outcome": "exec", "argv": [b"/bin/probe", *line[2:].split(b" ", 1)[1:], b"/s"]}


def test_shebang_buffer_no_limit():
    """A simulator with no #! buffer limit is "no limit up to N", never a
    size computed from the longest probe (it once printed 614)."""
    from harness.report import SHEBANG_PROBES, shebang_buffer
    prof = model.profile(os.uname().release)
    assert shebang_buffer(_Shebang(128), prof).startswith("#! line cut after 127 bytes")
    assert shebang_buffer(_Shebang(256), prof).startswith("#! line cut after 255 bytes")
    assert shebang_buffer(_Shebang(4096), prof).startswith("#! line cut after 4095 bytes")
    text = shebang_buffer(_Shebang(None), prof)
    assert text.startswith(f"no limit up to {len(b'#!/bin/probe ') + SHEBANG_PROBES[-1] + 1} bytes"), text


def _execveat_dirfd_cases() -> list[Case]:
    """Every dirfd path of the execveat generator, opened each way, with a
    relative name and with AT_EMPTY_PATH (the launcher opens the path as fd 3)."""
    from generators.execveat import DIRFDS, FILES
    out = []
    for d in (x for x in DIRFDS if isinstance(x, bytes)):
        for path, flags in ((b"probe", ()), (b"", ("AT_EMPTY_PATH",))):
            for cloexec, opath in ((False, False), (True, False), (False, True)):
                out.append(Case(files=FILES, exec=Exec(path=path, argv=(b"x",), envp=(b"K=V",), cwd=b"/",
                                                       syscall="execveat", dirfd=d, flags=flags,
                                                       dirfd_cloexec=cloexec, dirfd_opath=opath)))
    return out


@pytest.mark.userns
def test_do_nothing_simulator_execveat_dirfd(identity):
    """The launcher's own dirfd set-up must be invisible: with fd 3 free it
    once called dup3(3, 3) (EINVAL), which the PRoot report blamed on PRoot."""
    wrong = []
    for case in _execveat_dirfd_cases():
        observed = identity.run(case)
        if diff_outcomes(model.predict(case, identity.kernel), observed, identity.observable):
            e = case.exec
            wrong.append((e.dirfd, e.path, e.flags, e.dirfd_cloexec, e.dirfd_opath, observed))
    assert not wrong, wrong[:5]


def _desc(tmp_path, **d) -> str:
    p = tmp_path / f"{d['name']}.json"
    p.write_text(json.dumps(d))
    return f"sim:{p}"


@pytest.mark.userns
def test_broken_description_fails_loudly(tmp_path):
    """A description whose every case fails the same way (here: host paths,
    no chroot, so every exec is ENOENT) is refused at once, not reported."""
    from harness.targets import TargetBroken
    spec = _desc(tmp_path, name="wrong", command=["{launcher}"], mode="launcher")
    with pytest.raises(TargetBroken, match="looks broken"):
        get_target(spec)


@pytest.mark.userns
def test_broken_description_stops_a_report(identity):
    from harness.report import BrokenDescription, Reporter

    class Always:  # every case the same errno, whatever the model says
        name = "sim:always"
        kernel = identity.kernel
        observable = identity.observable

        def skip_reason(self, case):
            return None

        def run(self, case):
            return {"outcome": "error", "errno": "ENOENT"}
    rep = Reporter(Always(), 1, 1)
    cases = [PROBE_CASE, SCRIPT_CASE, ENOENT_CASE] * 10
    with pytest.raises(BrokenDescription, match="description is broken"):
        for c in cases:
            rep.key("g", c)


@pytest.mark.userns
def test_long_root_plus_path_skips(identity):
    from generators.common import exact_path
    p = exact_path(4090)
    o = identity.run(Case(files=(probe(p, "L"),), exec=Exec(path=p, argv=(b"x",), envp=())))
    assert o["outcome"] == "skip" and "PATH_MAX" in o["reason"], o


@pytest.mark.userns
def test_cause_edits_and_corner_probes(identity):
    """The corner probes are valid cases the do-nothing simulator agrees on,
    and a cause edit that applies changes exactly its one thing."""
    from harness.causes import EDITS
    from harness.report import corner_cases
    for name, case in corner_cases():
        exp = model.predict(case, identity.kernel)
        obs = identity.run(case)
        if obs["outcome"] != "skip":
            assert not diff_outcomes(exp, obs, identity.observable), (name, obs)
    null = Case(files=PROBE_CASE.files, exec=Exec(path=b"/bin/probe", argv=None, envp=()))
    edited = dict(EDITS)["NULL argv"](null)
    assert edited.exec.argv == (b"",) and edited.files == null.files  # what Linux 5.18+ makes of it
    assert dict(EDITS)["NULL argv"](PROBE_CASE) is None


def test_always_declared_differences(tmp_path):
    """valgrind-style declared differences: added env entries dropped and
    argv[0] given back, nothing else hidden."""
    t = get_target(_desc(tmp_path, name="decl", command=["{launcher}"], mode="launcher", chroot=True,
                         always={"envp_drop": ["^ADDED="], "argv0": "path"}))
    case = Case(files=(probe(b"/bin/probe", "P"),), exec=Exec(path=b"/bin/probe", argv=(b"p", b"q"), envp=()))
    o = t.normalise(case, {"outcome": "exec", "argv": [b"/bin/probe", b"q"], "envp": [b"ADDED=1", b"K=V"]})
    assert o["argv"] == [b"p", b"q"] and o["envp"] == [b"K=V"]
    o = t.normalise(case, {"outcome": "exec", "argv": [b"/bin/probe"], "envp": [b"ADDEDX=1"]})
    assert o["argv"] == [b"p"] and o["envp"] == [b"ADDEDX=1"]  # a lost argv[1] still shows


@pytest.mark.userns
def test_simulator_reproducer(identity, tmp_path):
    """The reproducer is a shell script that rebuilds the root, builds the
    launcher and runs the simulator's command on it."""
    import subprocess

    from harness.simrepro import reproducer
    exp = model.predict(SCRIPT_CASE, identity.kernel)
    text = reproducer(SCRIPT_CASE, identity, model.profile(identity.kernel), exp, exp, exp, "k")
    assert text.startswith("#!/bin/bash") and "launch.c" in text and "/.execspec/launch" in text
    from harness.simrepro import ROOT_GUARD
    assert ROOT_GUARD in text  # unjailed: never as root
    p = tmp_path / "r.sh"
    p.write_text(text)
    r = subprocess.run(["bash", "-n", str(p)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.userns
@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("runuser") is None or shutil.which("cc") is None,
                    reason="needs root to become nobody (runuser) and a C compiler")
def test_chroot_reproducer_runs_as_nobody(identity, tmp_path):
    """A chroot description's reproducer (valgrind, qemu-user) runs as an
    unprivileged user with an empty environment from an empty directory:
    the chroot, binds and mounts in a user namespace of its own."""
    import subprocess
    import tempfile
    from pathlib import Path

    from harness.simrepro import reproducer
    exp = model.predict(SCRIPT_CASE, identity.kernel)
    top = Path(tempfile.mkdtemp(prefix="execspec-repro-test-"))  # pytest's tmp_path is root's alone (0700)
    try:
        p = top / "r.sh"
        p.write_text(reproducer(SCRIPT_CASE, identity, model.profile(identity.kernel), exp, exp, exp, "k"))
        empty = top / "empty"
        empty.mkdir()
        for d in (top, empty):
            d.chmod(0o777)
        p.chmod(0o755)
        r = subprocess.run(["runuser", "-u", "nobody", "--", "env", "-i", "/bin/bash", str(p)], cwd=empty,
                           capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    assert "exit status: 0" in r.stdout and "the program ran" in r.stdout, r.stdout + r.stderr
    assert "the call returned" not in r.stdout  # the exec went through: no errno


def test_background_only_class_has_no_cause(identity):
    """A class whose only difference is a field the simulator gets wrong on
    every exec (qemu-user's comm) is that background, not a cause some edit
    "removes" (it was once labelled "NULL envp")."""
    from harness.causes.search import _cause
    from harness.report import Reporter

    def comm(case):  # the do-nothing simulator with qemu-user's comm
        o = identity.run(case)
        return {**o, "comm": b"qemu"} if o.get("outcome") == "exec" else o
    t = Altered(identity, "sim:comm", comm)
    rep = Reporter(t, 1, 1)
    case = Case(files=PROBE_CASE.files, exec=Exec(path=b"/bin/probe", argv=(b"p",), envp=None))
    exp = model.predict(case, rep.profile)
    assert _cause(rep, t, case, exp, t.run(case)) is None
    assert rep.background == {"comm": "a program"}  # a plain ELF exec shows it
    # the class is the field's own, whatever else the case has
    assert rep.class_keys(exp, t.run(case)) == ["cause: comm (the task name) wrong on every exec of a program"]


def test_merged_class_split_by_cause(identity):
    """Two errnos merged into one load-failure class, one of them explained
    by an edit (drop the writers): the ETXTBSY pair leaves for its cause, the
    other stays under the merged key -- no class hides a second cause."""
    from dataclasses import replace

    from harness.causes.search import _cause, split_by_cause
    from harness.report import Reporter

    def eacces(case):  # the do-nothing simulator, but every failure is EACCES
        o = identity.run(case)
        return {"outcome": "error", "errno": "EACCES"} if o.get("outcome") == "error" else o
    t = Altered(identity, "sim:eacces", eacces, describe="eacces")
    rep = Reporter(t, 1, 1)
    busy = Case(files=(replace(probe(b"/bin/probe", "P"), open_for_write=True),),
                exec=Exec(path=b"/bin/probe", argv=(b"p",), envp=()))
    keys = set()
    for c in (ENOENT_CASE, busy):
        k = rep.key("g", c)
        keys.add(k)
        rep.note(k, "g", c, "g")
    assert len(keys) == 1 and len(rep.classes) == 1  # one class while exploring
    key, c = next(iter(rep.classes.items()))
    c.update(case=ENOENT_CASE, expected=model.predict(ENOENT_CASE, rep.profile), observed=t.run(ENOENT_CASE),
             host=None, host_ok=True)
    c["cause"] = _cause(rep, t, ENOENT_CASE, c["expected"], c["observed"])
    assert c["cause"] is None
    split_by_cause(rep, t, identity)
    causes = sorted((x["cause"] or "", x["pairs"]) for x in rep.classes.values())
    assert causes == [("", ["error ENOENT -> error EACCES"]),
                      ("files held open for writing (ETXTBSY)", ["error ETXTBSY -> error EACCES"])], causes


def test_long_shebang_edit():
    """The #! line-length edit cuts every #! line of 127 bytes or more to 126
    (what every parser keeps with its newline: a 127-byte line fills PRoot's
    128-byte buffer without it), so a buffer-size cause is one class."""
    from harness.causes import EDITS
    name = next(n for n, _ in EDITS if n.startswith("a #! line of 127 bytes or more"))
    assert EDITS[-1][0] == name  # tried last: it may cut away what another edit names
    edit = dict(EDITS)[name]
    long = Case(files=(probe(b"/bin/probe", "P"), script(b"/s", b"#!/bin/probe " + b"a" * 300 + b"\nbody\n")),
                exec=Exec(path=b"/s", argv=(b"s",), envp=()))
    e = edit(long)
    line, _, rest = e.files[1].data.partition(b"\n")
    assert len(line) == 126 and rest == b"body\n" and e.files[0] == long.files[0]
    assert edit(SCRIPT_CASE) is None


def test_execveat_as_execve_edit():
    """execveat(dirfd by path, name) becomes the execve() of the file it
    names, so a simulator's execveat handling is one cause."""
    from harness.causes import EDITS
    edit = dict(EDITS)["execveat() (as execve() it agrees)"]
    at = Exec(path=b"probe", argv=(b"x",), envp=(), syscall="execveat", dirfd=b"/d/", flags=("0x8000",),
              dirfd_cloexec=True)
    e = edit(Case(files=(), exec=at)).exec
    assert (e.syscall, e.path, e.dirfd, e.flags, e.dirfd_cloexec) == ("execve", b"/d/probe", None, (), False)
    e = edit(Case(files=(), exec=replace_exec(at, path=b"", flags=("AT_EMPTY_PATH",)))).exec
    assert e.path == b"/d/"
    assert edit(Case(files=(), exec=replace_exec(at, path=b"/abs"))).exec.path == b"/abs"
    e = edit(Case(files=(), exec=replace_exec(at, dirfd=99))).exec  # a raw descriptor: the name from the cwd
    assert (e.syscall, e.path, e.dirfd) == ("execve", b"probe", None)
    assert edit(PROBE_CASE) is None


def replace_exec(e: Exec, **kw) -> Exec:
    from dataclasses import replace
    return replace(e, **kw)


def test_cause_when_the_class_changes(identity):
    """An outcome-level class whose edit leaves another class's divergence
    is that edit's cause: a simulator that fails NULL argv with EFAULT and
    also gets \r wrong has the NULL argv cause for its EFAULT class."""
    from harness.causes.search import _cause
    from harness.report import Reporter

    def both(case):  # EFAULT for NULL argv; runs a #! interpreter path with \r stripped
        if case.exec.argv is None:
            return {"outcome": "error", "errno": "EFAULT"}
        o = identity.run(case)
        return {"outcome": "error", "errno": "EACCES"} if o.get("outcome") == "error" else o
    t = Altered(identity, "sim:both", both)
    rep = Reporter(t, 1, 1)
    case = Case(files=(probe(b"/bin/probe", "P"), script(b"/s", b"#!/bin/probe\r\n")),
                exec=Exec(path=b"/s", argv=None, envp=()))
    exp, obs = model.predict(case, rep.profile), t.run(case)
    assert exp["outcome"] == "error" and obs == {"outcome": "error", "errno": "EFAULT"}
    assert _cause(rep, t, case, exp, obs) == "NULL argv"  # what remains (ENOENT -> EACCES) is another class


def test_no_cause_when_only_linux_changes(identity):
    """An edit that lets Linux run what the simulator still refuses the same
    way names no cause (qemu-user exits 1 on every #! script: stripping a
    \\r from the line is not why).  Only with the script run directly too
    does the simulator agree; the \\r edit changed Linux alone, so the
    cause is the script, and the two together only where both matter to
    the simulator."""
    from harness.causes import edits
    from harness.causes.search import TOGETHER, _cause, _explains, classify
    from harness.report import Reporter

    def noscripts(case):
        if any(f.path == case.exec.path and f.data[:2] == b"#!" for f in case.files):
            return {"outcome": "exit", "status": 1}
        return identity.run(case)
    t = Altered(identity, "sim:noscripts", noscripts)
    rep = Reporter(t, 1, 1)
    case = Case(files=(probe(b"/bin/probe", "P"), script(b"/s", b"#!/bin/probe\r\n")),
                exec=Exec(path=b"/s", argv=(b"s",), envp=()))
    exp, obs = model.predict(case, rep.profile), t.run(case)
    assert exp == {"outcome": "error", "errno": "ENOENT"} and obs["outcome"] == "exit"
    assert [n for n, e in edits(case) if _explains(rep, t, e, exp, obs, classify("", exp, obs, t.observable),
                                                   True)[0]] == []
    script_cause = "a #! script as the program (run through its interpreter directly, it agrees)"
    assert _cause(rep, t, case, exp, obs) == script_cause

    def both(case):  # the \r matters to this simulator too: another exit status
        if any(b"\r" in f.data for f in case.files if f.type == "file"):
            return {"outcome": "exit", "status": 2}
        return noscripts(case)
    t2 = Altered(identity, "sim:both", both)
    assert _cause(Reporter(t2, 1, 1), t2, case, exp, t2.run(case)) == TOGETHER.join(
        ["\\r in a #! line", script_cause])


def test_reproducer_words_keep_their_bytes():
    """The reproducer's command line gives the simulator the case's exact
    bytes (a cwd with \\xff was once written as UTF-8 'ÿ' and not found)."""
    import subprocess

    from harness.simrepro import _sh_bytes
    for b in (b"/a b", b"/\xffy/.", b"it's\\", b"\x01\n", b""):
        out = subprocess.run(["bash", "-c", "printf %s " + _sh_bytes(b)], capture_output=True).stdout
        assert out == b, (b, _sh_bytes(b))


def test_reproducer_command_line_bytes(identity):
    """The words of the simulator's command built from the case (cwd, path,
    argv0) reach it byte for byte: the template quotes them, so a value
    closes the quote first (an \\xff in the cwd once became '$xff')."""
    import subprocess

    from harness.simrepro import reproducer
    case = Case(files=(probe(b"/\xffy", "P"),), exec=Exec(path=b"/\xffy", argv=(b"a\xff",), envp=(), cwd=b"/"))
    identity.desc = {**identity.desc, "command": ["printf", "%s|", "{path}", "{argv0}", "{cwd}"], "chroot": False}
    exp = model.predict(case, identity.kernel)
    text = reproducer(case, identity, model.profile(identity.kernel), exp, exp, exp, "k")
    line = next(x for x in text.split("\n") if x.endswith("& pid=$!"))  # the simulator's command
    out = subprocess.run(["bash", "-c", line.split(" 10<")[0]], capture_output=True).stdout
    assert out == b"/\xffy|a\xff|/|", (line, out)


def _elf_case(**seg) -> Case:
    from dataclasses import replace

    from contract.case import File
    from generators.elfbuild import encode, program
    e = program(cls=seg.pop("cls", 2))
    d = encode(replace(e, segs=(replace(e.segs[0], **seg),)))
    return Case(files=(File(path=b"/e", type="file", mode=0o755, data=d),),
                exec=Exec(path=b"/e", argv=(b"e",), envp=()))


@pytest.mark.userns
def test_host_completes_the_exit_status(identity):
    """The model says only that a crafted program exits; a simulator's own
    exit 255 for an ELF it cannot load (qemu-x86_64 and an ia32 program)
    agreed with that.  The report takes the status from the host kernel."""
    from harness.report import Reporter

    def exit255(case):
        if any(f.data[:4] == b"\x7fELF" for f in case.files):
            return {"outcome": "exit", "status": 255}
        return identity.run(case)
    t = Altered(identity, "sim:exit255", exit255)
    case = _elf_case(cls=1)
    assert model.predict(case, identity.kernel) == {"outcome": "exit"}
    assert Reporter(t, 1, 1).key("g", case) is None  # without the host: a false agreement
    assert Reporter(t, 1, 1, identity).key("g", case) == "status | model exit -> simulator exit"


@pytest.mark.userns
def test_crash_repairing_edit_needs_full_agreement(identity):
    """Linux SIGSEGV for a bss past the address space: repairing it is the
    cause where the simulator then agrees (it ran the repaired program),
    never merely because the simulator then acts otherwise."""
    from harness.causes.search import _cause
    from harness.report import Reporter
    case = _elf_case(memsz=1 << 47)

    def crash(fixed_outcome):
        def run(c):
            o = identity.run(c)
            return {"outcome": "signal", "signal": "SIGBUS"} if o.get("outcome") == "signal" else fixed_outcome(o)
        return run
    huge = "an ELF program with a PT_LOAD whose p_memsz reaches past the end of the address space"
    for name, fixed, cause in (
            ("sim:bus", lambda o: o, huge),
            ("sim:bus-exit1", lambda o: {"outcome": "exit", "status": 1}, None)):
        t = Altered(identity, name, crash(fixed))
        rep = Reporter(t, 1, 1, identity)
        exp, obs = model.predict(case, rep.profile), t.run(case)
        assert exp["signal"] == "SIGSEGV" and obs["signal"] == "SIGBUS"
        assert _cause(rep, t, case, exp, obs) == cause, name


@pytest.mark.userns
def test_class_reproducer_drops_credentials(identity):
    """A class whose case has a set-id bit, which the reproducer cannot
    write yet: the report takes the case without credentials where it is
    still of the class, and writes its reproducer (fakechroot's report
    once stopped at the end with a CaseError and wrote nothing)."""
    from dataclasses import replace

    from harness.report import Reporter, representative

    def comm(case):
        o = identity.run(case)
        return {**o, "comm": b"sim"} if o.get("outcome") == "exec" else o
    t = Altered(identity, "sim:comm", comm)
    t.desc, t.timeout = identity.desc, identity.timeout  # what the reproducer writes from
    rep = Reporter(t, 1, 1, identity)
    case = Case(files=(replace(probe(b"/bin/probe", "P"), mode=0o4755),),
                exec=Exec(path=b"/bin/probe", argv=(b"p",), envp=()))
    obs = t.run(case)
    exp = rep.complete(case, model.predict(case, rep.profile), obs)
    [key] = rep.class_keys(exp, obs)
    c = {"case": case, "expected": exp, "observed": obs, "host": identity.run(case), "host_ok": True}
    got_key, chosen, script, why = representative([(key, c)], key, t, rep, identity)
    assert why is None and script is not None and got_key == key
    assert chosen["case"].files[0].mode == 0o755 and chosen["case"] != case
    # a shape split off by its cause is keyed "KEY [cause]": still its class
    split = f"{key} [some cause]"
    _, chosen, script, why = representative([(split, {**c, "gkey": key})], split, t, rep, identity)
    assert why is None and script is not None and chosen["case"].files[0].mode == 0o755


def test_committed_reports_are_causes():
    """Each committed report (reports/<simulator>/) is a list of distinct
    causes: one class per cause, each described in simulators/known.json
    (none left 'new' unreviewed), each with its case and a reproducer under
    the simulator; a class no edit names says why in its description."""
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    reports = sorted((root / "reports").glob("*/report.json"))
    assert {p.parent.name for p in reports} >= {"proot", "qemu-user", "valgrind", "fakechroot"}
    for p in reports:
        rows = json.loads(p.read_text())["classes"]
        causes = [r["cause"] or r["key"] for r in rows]
        assert len(set(causes)) == len(causes), (p, causes)
        for r in rows:
            assert r["status"] == "known" and r["description"], (p.parent.name, r["key"])
            assert (root / r["case"]).exists() and r["reproducer"] and (root / r["reproducer"]).exists(), r["key"]
            if not r["key"].startswith("cause: "):
                assert "edit" in r["description"], (p.parent.name, r["key"])
