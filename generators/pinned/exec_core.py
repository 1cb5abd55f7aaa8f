"""Pinned exec-core cases (suites/test_pinned_exec.py): the shapes of the
kernel's own selftests (tools/testing/selftests/exec/execveat.c,
null-argv.c, recursion-depth.c) and the rules found while building the
model, each compared in full with the model (argv, comm, AT_EXECFN
included), not only pass/fail."""
from __future__ import annotations

from typing import Any

from contract.case import Case, Exec, File
from generators.common import probe, script

from . import group

BASE = (
    File(path=b"/t", type="dir", mode=0o755),
    File(path=b"/t/subdir", type="dir", mode=0o755),
    probe(b"/t/execveat", "E"),
    File(path=b"/t/execveat.symlink", type="symlink", mode=0o777, data=b"execveat"),
    script(b"/t/script", b"#!/t/execveat\n"),
    File(path=b"/t/pipe", type="fifo", mode=0o755),
    probe(b"/t/denatured", "X", mode=0o644),
    File(path=b"/t/Makefile", type="file", mode=0o644, data=b"all:\n"),
)


def at(dirfd, path: bytes | None, flags=(), cloexec=False, opath=False, argv=(b"execveat", b"99"), files=BASE) -> Case:
    return Case(files=files, exec=Exec(path=path, argv=argv, envp=(b"IN_TEST=yes",), cwd=b"/t",
                                       syscall="execveat", dirfd=dirfd, flags=tuple(flags),
                                       dirfd_cloexec=cloexec, dirfd_opath=opath))


_EXECVEAT: dict[str, Case] = {
    "subdir-dotdot": at(b"/t/subdir", b"../execveat"),
    "dot-dfd": at(b"/t", b"execveat"),
    "dot-dfd-opath": at(b"/t", b"execveat", opath=True),
    "fdcwd-abs": at(None, b"/t/execveat"),
    "bogus-dfd-abs": at(99, b"/t/execveat"),
    "fd-empty": at(b"/t/execveat", b"", ["AT_EMPTY_PATH"]),
    "fd-cloexec-empty": at(b"/t/execveat", b"", ["AT_EMPTY_PATH"], cloexec=True),
    "fd-opath-empty": at(b"/t/execveat", b"", ["AT_EMPTY_PATH"], opath=True),
    "fd-empty-no-flag": at(b"/t/execveat", b""),
    "fd-null-path": at(b"/t/execveat", None, ["AT_EMPTY_PATH"]),
    "symlink-dot-dfd": at(b"/t", b"execveat.symlink"),
    "symlink-fdcwd-abs": at(None, b"/t/execveat.symlink"),
    "symlink-fd-empty-nofollow": at(b"/t/execveat.symlink", b"", ["AT_EMPTY_PATH", "AT_SYMLINK_NOFOLLOW"]),
    "symlink-nofollow": at(b"/t", b"execveat.symlink", ["AT_SYMLINK_NOFOLLOW"]),
    "symlink-nofollow-abs": at(None, b"/t/execveat.symlink", ["AT_SYMLINK_NOFOLLOW"]),
    "fifo": at(b"/t", b"pipe"),
    "script-subdir-dotdot": at(b"/t/subdir", b"../script"),
    "script-dot-dfd": at(b"/t", b"script"),
    "script-fd-empty": at(b"/t/script", b"", ["AT_EMPTY_PATH"]),
    "script-fd-cloexec-empty": at(b"/t/script", b"", ["AT_EMPTY_PATH"], cloexec=True),
    "script-dfd-cloexec": at(b"/t", b"script", cloexec=True),
    "bad-flags": at(b"/t", b"execveat", ["0xFFFF"]),
    "missing": at(b"/t", b"no-such-file"),
    "missing-fdcwd": at(None, b"no-such-file"),
    "dir-fd-empty": at(b"/t", b"", ["AT_EMPTY_PATH"]),
    "not-executable": at(b"/t", b"Makefile"),
    "denatured-fd-empty": at(b"/t/denatured", b"", ["AT_EMPTY_PATH"]),
    "bad-fd-empty": at(99, b"", ["AT_EMPTY_PATH"]),
    "bad-fd-rel": at(99, b"execveat"),
    "file-as-dirfd": at(b"/t/execveat", b"execveat"),
    # comm after execveat(fd, "", AT_EMPTY_PATH): 543841d18060 (6.14) takes the
    # dentry name; argv[0] and a symlink-opened fd don't change it
    "comm-sentinel": at(b"/t/execveat", b"", ["AT_EMPTY_PATH"], argv=(b"sentinel",)),
    "comm-via-symlink": at(b"/t/execveat.symlink", b"", ["AT_EMPTY_PATH"], argv=(b"sentinel",)),
    "comm-null-argv": at(b"/t/execveat", b"", ["AT_EMPTY_PATH"], argv=None),
    # ... and for a script, the dentry of the file finally executed: the interpreter
    "comm-script-fd": at(b"/t/script", b"", ["AT_EMPTY_PATH"], argv=(b"sentinel",)),
    "execve-check": at(b"/t/execveat", b"", ["AT_EMPTY_PATH", "AT_EXECVE_CHECK"]),
    "execve-check-noexec": at(b"/t/denatured", b"", ["AT_EMPTY_PATH", "AT_EXECVE_CHECK"]),
}



def null_argv(argv, envp) -> Case:
    return Case(files=(probe(b"/null-argv", "N"),),
                exec=Exec(path=b"/null-argv", argv=argv, envp=envp))


_NULL_ARGV: dict[str, Case] = {  # null-argv.c's five forms (dcd46d897adb, 5.18)
    "empty-string": null_argv((b"",), None),
    "null-null": null_argv(None, None),
    "null-envp": null_argv(None, (b"A=1",)),
    "empty-null": null_argv((), None),
    "empty-envp": null_argv((), (b"A=1",)),
    "script-null": Case(files=(probe(b"/p", "P"), script(b"/s", b"#!/p -a\n")),
                        exec=Exec(path=b"/s", argv=None, envp=None)),
}



def chain(n: int, end: str) -> Case:
    """n scripts, each the interpreter of the one before."""
    files = [script(b"/%d" % i, b"#!/%d\n" % (i + 1)) for i in range(n)]
    if end == "probe":
        files.append(probe(b"/%d" % n, "END"))
    return Case(files=tuple(files), exec=Exec(path=b"/0", argv=(b"0",), envp=()))


_RECURSION: dict[str, Case] = {
    "self": Case(files=(script(b"/tmp/1", b"#!/tmp/1\n", mode=0o700),),
                 exec=Exec(path=b"/tmp/1", argv=None, envp=None)),
    **{f"chain-{n}": chain(n, "probe") for n in (4, 5, 6)},
    "chain-5-missing": chain(5, "missing"),
    "chain-6-missing": chain(6, "missing"),
}



_SCRIPT_RULES: dict[str, Case] = {  # load_script rules found on the real kernel
    "only-hashbang": Case(files=(script(b"/s", b"#!"),), exec=Exec(path=b"/s", argv=(b"s",), envp=())),
    "hashbang-blanks": Case(files=(script(b"/s", b"#! \t "),), exec=Exec(path=b"/s", argv=(b"s",), envp=())),
    "crlf": Case(files=(probe(b"/p", "P"), probe(b"/p\r", "CR"), script(b"/s", b"#!/p\r\n")),
                 exec=Exec(path=b"/s", argv=(b"s",), envp=())),
    "empty-arg-before-nul": Case(files=(probe(b"/p", "P"), script(b"/s", b"#!/p \0\n")),
                                 exec=Exec(path=b"/s", argv=(b"s",), envp=())),
    "arg-keeps-inner-blanks": Case(files=(probe(b"/p", "P"), script(b"/s", b"#!/p  -S a \t b  \n")),
                                   exec=Exec(path=b"/s", argv=(b"s", b"x"), envp=())),
    "relative-interp": Case(files=(probe(b"/d/p", "P"), script(b"/d/s", b"#!p\n")),
                            exec=Exec(path=b"s", argv=(b"s",), envp=(), cwd=b"/d")),
}



def busy(files, path=b"/s", argv=(b"s",), misc=(), **kw) -> Case:
    return Case(files=tuple(files), binfmt_misc=tuple(misc), exec=Exec(path=path, argv=argv, envp=(), **kw))


W: dict[str, Any] = {"open_for_write": True}  # a File held open for writing
# deny_write_access() on every file exec opens; 2a010c412853 (6.11) lifted it until its revert
_TEXT_BUSY: dict[str, Case] = {
    "program": busy([File(path=b"/p", type="probe", mode=0o755, tag="P", **W)], path=b"/p"),
    "script": busy([probe(b"/i", "I"), File(path=b"/s", type="file", mode=0o755, data=b"#!/i\n", **W)]),
    "script-interp": busy([File(path=b"/i", type="probe", mode=0o755, tag="I", **W), script(b"/s", b"#!/i\n")]),
    "chain-middle": busy([probe(b"/i", "I"), File(path=b"/m", type="file", mode=0o755, data=b"#!/i\n", **W),
                          script(b"/s", b"#!/m\n")]),
    "misc-interp": busy([File(path=b"/i", type="probe", mode=0o755, tag="I", **W), script(b"/s", b"xyz")],
                        misc=[b":a:M::xyz::/i:"]),
    # F opens the interpreter when the rule is written: the registration fails
    "misc-interp-F": busy([File(path=b"/i", type="probe", mode=0o755, tag="I", **W), script(b"/s", b"xyz")],
                          misc=[b":a:M::xyz::/i:F"]),
    # not executable: may_open's EACCES comes before the writer check
    "not-executable": busy([File(path=b"/p", type="file", mode=0o644, data=b"", **W)], path=b"/p"),
    # 978ffcbf00d8 (6.8) opens the file before copying strings: ETXTBSY beats E2BIG
    "vs-e2big": busy([File(path=b"/p", type="probe", mode=0o755, tag="P", **W)], path=b"/p",
                     argv=(b"p", b"x" * 5000), rlimit_stack=4096),
    # execveat(fd, "", AT_EMPTY_PATH) reopens the file through the fd: still busy
    "fd-empty": busy([File(path=b"/p", type="probe", mode=0o755, tag="P", **W)], path=b"", syscall="execveat",
                     dirfd=b"/p", flags=("AT_EMPTY_PATH",)),
}


EXECVEAT = group(_EXECVEAT, {"comm-sentinel": ["543841d18060"], "comm-via-symlink": ["543841d18060"],
                             "comm-null-argv": ["543841d18060"], "comm-script-fd": ["543841d18060"],
                             "execve-check": ["a5874fde3c08"], "execve-check-noexec": ["a5874fde3c08"]})
NULL_ARGV = group(_NULL_ARGV, every=["dcd46d897adb"])
RECURSION = group(_RECURSION)
SCRIPT_RULES = group(_SCRIPT_RULES)
# 2a010c412853 (6.11) lifted the check; its revert 3b832035387f (6.13) restored it
TEXT_BUSY = group(_TEXT_BUSY, {"vs-e2big": ["978ffcbf00d8"]}, every=["2a010c412853", "3b832035387f"])
