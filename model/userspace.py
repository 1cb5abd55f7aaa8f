"""The userspace half of exec: PATH search and the POSIX ENOEXEC fallback.

A "search" case (exec.syscall "search") names a caller, exec.via, that looks
exec.path up in PATH (exec.PATH in its environment, or its default) and
execs it; every execve it makes is the kernel model's (model/exec.py).
Read in glibc 2.36 (posix/execvpe.c, sysdeps/unix/sysv/linux/spawni.c),
dash 0.5.12 (src/exec.c), bash 5.2 (execute_cmd.c, findcmd.c, general.c)
and busybox 1.35 ash (shell/ash.c), and checked on Debian bookworm's builds:

glibc execvp/execvpe: "" is ENOENT; a name with '/' is exec'd as is; a name
  over NAME_MAX is ENAMETOOLONG; PATH unset means "/bin:/usr/bin"; an empty
  element is the cwd (the bare name).  Each candidate is execve'd; ENOEXEC
  runs /bin/sh with ["/bin/sh", CANDIDATE, argv[1:]...] (argv[0] dropped)
  and the search goes on if that fails; EACCES is remembered and the search
  goes on, as after ENOENT/ESTALE/ENOTDIR/ENODEV/ETIMEDOUT; any other
  errno ends the search with it.  At the end: EACCES if one was seen, else
  the last errno.  execvp passes the caller's environment, execvpe its envp.
posix_spawnp: the same search (__execvpex) without the /bin/sh fallback
  (only the 2.15 compat symbol tries the shell), and ENOEXEC ends the
  search at once (measured: an earlier EACCES does not win over it).
dash: `exec NAME`: every candidate is execve'd; ENOEXEC execs /bin/sh with
  ["/bin/sh", CANDIDATE, args...] unless the file looks binary (a control
  byte but TAB/LF/VT/FF/CR/ESC, or DEL, in its first line within 128
  bytes: exit 126 -- measured on Debian's 0.5.12, not in upstream's tryexec); the errno kept is the last one that is
  not ENOENT/ENOTDIR (a name with '/': its own).  The fallback writes the
  candidate over argv[0], and padvance() builds the next candidates from
  argv[0]: after a failed fallback dash and busybox search for
  "DIR//first/candidate" (measured on both; a binary-looking file is
  refused by dash like an EACCES and the search goes on).  Exit 126 for EACCES, 127
  for ENOENT, 2 for anything else.  Default PATH
  /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin (not exported).
busybox sh (ash): as dash, but ENOEXEC re-execs the shell itself as
  /proc/self/exe ["ash", CANDIDATE, args...] (a case root has no /proc:
  ENOENT, the search goes on), exit 127 for ENOENT/ENOTDIR/ELOOP/
  ENAMETOOLONG and 126 otherwise; default PATH /sbin:/usr/sbin:/bin:/usr/bin,
  exported; adds SHLVL=1.  (Names of its applets run the applet: unmodelled.)
bash: searches with stat(), not execve: the first candidate that exists, is
  no directory and has an execute bit wins; else the first that exists (a
  directory there means "not found"); a name with '/' is taken as is.  Not
  found: 127 (126 if the name is a directory).  The command is made absolute
  (full_pathname: the cwd joined, "./" dropped) before execve, so AT_EXECFN
  is absolute.  execve's ENOENT gives 127, other errors 126; ENOEXEC: an
  empty file exits 0, a "binary" one (ELF magic, or a NUL before the first
  newline -- the second after "#!") 126 "cannot execute binary file", any
  other file is run by bash itself as a script with $0 = the command.  Adds
  PWD and SHLVL=0 (exec undoes its own increment).
The shells pass argv[0] as the command word typed (exec.argv[0] is not
theirs to choose) and add PWD; their environment is a hash table, so the
targets report and the model predicts it sorted.

A script bash runs itself is modelled only in the form the generators write:
`exec /ABS/PATH "$0" "$@"`.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from contract.case import Case, Exec

from .binfmt_misc import NotModelled
from .profiles import Profile

if TYPE_CHECKING:
    from .namei import Node

Env = tuple[bytes, ...]
Kernel = Callable[[bytes, list[bytes], Env], dict[str, Any]]  # one execve by the caller, modelled

SHELLS = ("dash", "bash", "busybox")
DEFAULT_PATH = {"execvp": b"/bin:/usr/bin", "execvpe": b"/bin:/usr/bin", "posix_spawnp": b"/bin:/usr/bin",
                "dash": b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "busybox": b"/sbin:/usr/sbin:/bin:/usr/bin",
                "bash": b"/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin:."}
NAME_MAX = 255
_SCRIPT = re.compile(rb'\A[ \t]*exec[ \t]+(/[^\s"$]+)[ \t]+"\$0"[ \t]+"\$@"[ \t]*\n?\Z')
# busybox-static's applets that a generated name might hit (shell/ash.c runs them itself)
BUSYBOX_APPLETS = frozenset(b"sh ash ls cat echo test true false env sleep x86_64 linux32 linux64 [ [[".split())


class _Done(Exception):
    def __init__(self, outcome: dict[str, Any]):
        self.outcome = outcome


def predict(case: Case, profile: Profile) -> dict[str, Any]:
    from .exec import predict as kernel_predict
    e = case.exec
    via = e.via
    assert via is not None, "a search case names its caller (contract.case checks exec.via)"
    caller_env = ((b"PATH=" + e.search_path,) if e.search_path is not None else ()) + tuple(e.envp or ())
    name = e.path or b""
    argv = list(e.argv or ())

    def k(path: bytes, args: list[bytes], env: tuple[bytes, ...]) -> dict[str, Any]:
        """One execve by the caller, from its cwd: the kernel model's outcome."""
        c = replace(case, exec=Exec(path=path, argv=tuple(args), envp=tuple(env), cwd=e.cwd,
                                    rlimit_stack=e.rlimit_stack))
        out = kernel_predict(c, profile)
        if out["outcome"] in ("unmodelled", "skip", "register-error"):
            raise _Done(out)
        if out["outcome"] != "error" and via in SHELLS:
            out = _sorted_env(out)
        return out

    try:
        if via in ("execvp", "execvpe", "posix_spawnp"):
            env = caller_env if via == "execvp" else tuple(e.envp or ())
            path = e.search_path if e.search_path is not None else DEFAULT_PATH[via]
            return _glibc(k, name, argv, env, path, script=via != "posix_spawnp")
        shell_env = _shell_env(via, caller_env, e.cwd)
        path = e.search_path if e.search_path is not None else DEFAULT_PATH[via]
        args = [name] + argv[1:]
        if via == "bash":
            return _bash(k, case, name, args, shell_env, path)
        if via == "busybox" and b"/" not in name and name in BUSYBOX_APPLETS:
            raise NotModelled(f"busybox runs its applet {name.decode(errors='replace')!r} itself")
        return _ash(k, case, via, name, args, shell_env, path)
    except _Done as d:
        return d.outcome


def _err(o: dict[str, Any]) -> str | None:
    return o["errno"] if o["outcome"] == "error" else None


def _sorted_env(o: dict[str, Any]) -> dict[str, Any]:
    return {**o, "envp": sorted(o["envp"])} if "envp" in o else o


def _glibc(k: Kernel, name: bytes, argv: list[bytes], env: Env, path: bytes, script: bool) -> dict[str, Any]:
    if not name:
        return {"outcome": "error", "errno": "ENOENT"}

    def attempt(file: bytes) -> tuple[dict[str, Any] | None, str, str]:
        """(success, the switch's errno, errno afterwards)"""
        o = k(file, argv, env)
        first = _err(o)
        if first is None:
            return o, "", ""
        now = first
        if first == "ENOEXEC" and script:  # maybe_script_execute
            o2 = k(b"/bin/sh", [b"/bin/sh", file] + argv[1:], env)
            second = _err(o2)
            if second is None:
                return o2, "", ""
            now = second
        return None, first, now

    if b"/" in name:
        ok, _, now = attempt(name)
        return ok or {"outcome": "error", "errno": now}
    if len(name) > NAME_MAX:
        return {"outcome": "error", "errno": "ENAMETOOLONG"}
    got_eacces, last = False, "ENOENT"
    for elem in path.split(b":"):
        ok, first, now = attempt(elem + b"/" + name if elem else name)
        if ok:
            return ok
        last = now
        if first == "ENOEXEC" and not script:
            return {"outcome": "error", "errno": "ENOEXEC"}  # posix_spawnp: ends the search
        if first in ("ENOEXEC", "EACCES"):
            got_eacces = got_eacces or now == "EACCES"
        elif first not in ("ENOENT", "ESTALE", "ENOTDIR", "ENODEV", "ETIMEDOUT"):
            return {"outcome": "error", "errno": first}
    return {"outcome": "error", "errno": "EACCES" if got_eacces else last}


def _shell_env(via: str, env: tuple[bytes, ...], cwd: bytes) -> tuple[bytes, ...]:
    names = {v.split(b"=", 1)[0] for v in env}
    out = list(env)
    if b"PWD" not in names:
        out.append(b"PWD=" + cwd)
    if via == "bash":
        out.append(b"SHLVL=0")
    if via == "busybox":
        out.append(b"SHLVL=1")
        if b"PATH" not in names:
            out.append(b"PATH=" + DEFAULT_PATH["busybox"])
    return tuple(out)


def _ash(k: Kernel, case: Case, via: str, name: bytes, args: list[bytes], env: Env, path: bytes) -> dict[str, Any]:
    """dash's and busybox ash's shellexec()/tryexec()."""
    cwd = case.exec.cwd
    state = {"name": name}

    def tryexec(cmd: bytes) -> tuple[dict[str, Any] | None, str]:
        o = k(cmd, args, env)
        if _err(o) == "ENOEXEC":
            if via == "dash" and _dash_binary(_contents(case, cwd, cmd)):
                return None, "EACCES"  # refused as binary (exit 126 if nothing later runs)
            # tryexec() writes the candidate over argv[0] (argv[-1] becomes the
            # shell): later candidates get it as argv[0] and are searched for
            # by it (measured on dash and busybox)
            args[0] = cmd
            state["name"] = cmd
            state["fellback"] = cmd
            if via == "dash":
                o = k(b"/bin/sh", [b"/bin/sh"] + args, env)
            else:
                o = k(b"/proc/self/exe", [b"ash"] + args, env)
        err = _err(o)
        return (o, "") if err is None else (None, err)

    if b"/" in name:
        ok, e = tryexec(name)
        if ok:
            return ok
    else:
        e = "ENOENT"
        elems = path.split(b":")
        for i, elem in enumerate(elems):
            if b"%" in elem:
                raise NotModelled("a PATH element with '%' is a shell path option")
            n = state["name"]
            ok, err = tryexec(elem + b"/" + n if elem else n)
            if ok:
                return ok
            if err not in ("ENOENT", "ENOTDIR"):
                e = err
            fb = state.pop("fellback", None)
            if fb is not None and not fb.startswith(b"/") and i + 1 < len(elems):
                # A failed fallback left argv[0] pointing at the candidate,
                # which lives in the stack block padvance() builds the next
                # candidate in: for a relative candidate ("prog" from an empty
                # element, "./prog") neither shell ran "DIR/prog" after it
                # (seen on 6.18: exit 127); what they look up is not modelled.
                raise NotModelled("dash/busybox ash after a failed fallback for a relative PATH candidate")
    if via == "dash":
        status = 126 if e == "EACCES" else 127 if e == "ENOENT" else 2
    else:
        status = 127 if e in ("ENOENT", "ENOTDIR", "ELOOP", "ENAMETOOLONG") else 126
    return {"outcome": "exit", "status": status}


def _stat(case: Case, cwd: bytes, path: bytes) -> Node | None:
    """stat(2) from the cwd: the node or None."""
    from .errors import Errno
    from .namei import FS
    fs = FS(case.files)
    try:
        return fs.lookup(fs.lookup(fs.root, cwd, follow=True), path, follow=True)
    except Errno:
        return None


def _full_pathname(cwd: bytes, p: bytes) -> bytes:
    if p.startswith(b"/"):
        return p
    if p.startswith(b"./"):
        p = p[2:]
    return cwd + (b"" if cwd.endswith(b"/") else b"/") + p


def _bash(k: Kernel, case: Case, name: bytes, args: list[bytes], env: Env, path: bytes) -> dict[str, Any]:
    cwd = case.exec.cwd
    if b"/" in name:
        command = name
    else:
        found: bytes | None = None
        lose: tuple[bytes, bool] | None = None
        for elem in path.split(b":"):
            d = elem or b"."
            if d.startswith(b"~"):
                raise NotModelled("bash expands ~ in PATH")
            full = d + (b"" if d.endswith(b"/") else b"/") + name
            node = _stat(case, cwd, full)
            if node is None:
                continue
            if node.kind != "dir" and node.mode & 0o111:
                found = full
                break
            if lose is None:
                lose = (full, node.kind == "dir")
        if found is None and lose is not None and not lose[1]:
            found = lose[0]
        if found is None:
            n = _stat(case, cwd, name)
            return {"outcome": "exit", "status": 126 if n is not None and n.kind == "dir" else 127}
        command = found
    command = _full_pathname(cwd, command)
    o = k(command, args, env)
    err = _err(o)
    if err is None:
        return o
    if err != "ENOEXEC":
        return {"outcome": "exit", "status": 127 if err == "ENOENT" else 126}
    node = _stat(case, cwd, command)
    data = b"" if node is None or node.is_probe else node.data
    sample = data[:80]
    if not sample:
        return {"outcome": "exit", "status": 0}
    if _binary(sample):
        return {"outcome": "exit", "status": 126}
    m = _SCRIPT.match(data)
    if not m:
        raise NotModelled("bash runs this file as a shell script; only `exec /PATH \"$0\" \"$@\"` is modelled")
    prog = m.group(1)
    o = k(prog, [prog, command] + args[1:], env)
    err = _err(o)
    if err is None:
        return o
    return {"outcome": "exit", "status": 127 if err == "ENOENT" else 126}


def _contents(case: Case, cwd: bytes, path: bytes) -> bytes:
    node = _stat(case, cwd, path)
    return b"" if node is None or node.is_probe else node.data


# Debian's dash refuses a file whose first line (within its first 128
# bytes) holds a control character other than TAB, LF, VT, FF, CR and ESC,
# or DEL: exit 126, "cannot execute binary file" (seen on bookworm's 0.5.12).
_DASH_BINARY = frozenset(range(0x20)) - {9, 10, 11, 12, 13, 0x1B} | {0x7F}


def _dash_binary(data: bytes) -> bool:
    return any(c in _DASH_BINARY for c in data[:128].split(b"\n", 1)[0])


def _binary(sample: bytes) -> bool:
    """bash's check_binary_file()."""
    if sample[:4] == b"\x7fELF":
        return True
    nline = 2 if sample[:2] == b"#!" else 1
    for c in sample:
        if c == 0x0A:
            nline -= 1
            if nline == 0:
                return False
        if c == 0:
            return True
    return False
