"""A reproducer that runs under the simulator: a shell script that recreates
a class's case root, builds our launcher (harness/native/launch.c, embedded)
with the case's exact exec call, runs the simulator's own command on it and
prints what the simulator did next to what Linux does (the model and the
host kernel, recorded when the report was made).  Nothing of execspec is
needed: sh, cc, gzip, base64 and the simulator.  No jail: run it as an
unprivileged user (it is meant for the simulator's upstream).
"""
from __future__ import annotations

import json
import shlex

from contract.case import Case, outcome_to_json

from . import build
from .repro import MAX_LINE, shell
from .targets.simulator import LAUNCHER, launch_spec

NATIVE = build.NATIVE
# No jail here: the case may be anyone's, so never as root (its programs
# would run as real root with only the simulator's fake root around them).
ROOT_GUARD = ('if [ "$(id -u)" = 0 ]; then '
              'echo "run this as an unprivileged user: the case runs unjailed" >&2; exit 2; fi')


def _printf_bytes(b: bytes) -> list[str]:
    out, chunk = [], ""
    for x in b:
        chunk += f"\\{x:03o}"
        if len(chunk) > 400:
            out.append(chunk)
            chunk = ""
    if chunk:
        out.append(chunk)
    return out


def reproducer(case: Case, target, profile, expected: dict, observed: dict, host: dict | None, key: str) -> str:
    desc = target.desc
    lines = ["#!/bin/bash",
             f"# execspec: {desc['name']} diverges from Linux: {key}"[:MAX_LINE],
             f"# Linux (the execspec model{', and the host kernel' if host else ''}): "
             f"{json.dumps(outcome_to_json(expected), ensure_ascii=False)}"[:MAX_LINE],
             f"# {desc['name']}: {json.dumps(outcome_to_json(observed), ensure_ascii=False)}"[:MAX_LINE],
             "# Runs the simulator on the case below; needs bash, cc (static libc), gzip, base64.",
             "# The launcher makes the exec call; if the call returns, its errno is printed; a probe",
             "# (a libc-free program) prints its argv, envp, AT_EXECFN and comm when it runs.",
             ROOT_GUARD,
             # run with env -i, gcc finds neither itself nor cc1 without a PATH
             'export PATH="${PATH:-/usr/local/bin:/usr/bin:/bin}:/usr/sbin:/sbin"']
    lines += _files_part(case, profile)  # the case's files, as the kernel reproducer writes them
    launcher = "launch_libc" if desc.get("launcher") == "libc" else "launch"
    flags = "-O2" if launcher == "launch_libc" else "-static -O2"
    define = " -DLIBC_EXEC" if launcher == "launch_libc" else ""
    lines += ["mkdir -p \"$r/.execspec\"",
              "cat > \"$w/launch.c\" <<'EXECSPEC_EOF'", _launch_c(launcher == "launch_libc"), "EXECSPEC_EOF",
              f"cc {flags}{define} -o \"$r{LAUNCHER}\" \"$w/launch.c\" || exit 2",
              "# the exec call (harness/native/launch.c's input format)",
              ": > \"$w/spec\""]
    lines += [f"printf '{c}' >> \"$w/spec\"" for c in _printf_bytes(launch_spec(case))]
    cmd = []
    e = case.exec
    for a in desc["command"]:
        if a == "{args}":
            cmd += [_sh_bytes(x) for x in (e.argv or ())[1:]]
            continue
        if a.startswith("{helper:"):
            cmd.append(f"/.execspec/{a[8:-1]}" if desc.get("chroot") else f"\"$r/.execspec/{a[8:-1]}\"")
            continue
        q = shlex.quote(a)
        # q is single-quoted: a value closes the quote, stands as its own word part, reopens it
        for k, v in {"{root}": "'\"$r\"'", "{cwd}": f"'{_sh_bytes(e.cwd or b'/')}'",
                     "{launcher}": LAUNCHER, "{path}": f"'{_sh_bytes(e.path or b'')}'",
                     "{argv0}": f"'{_sh_bytes((e.argv or (b'',))[0])}'"}.items():
            q = q.replace(k, v)
        cmd.append(q)
    lines += _helpers(desc)
    run = " ".join(cmd)
    if desc.get("chroot"):
        run = _chrooted(desc, run)
    lines += ["cd \"$r\"",
              f"{run} 10<\"$w/spec\" 11>\"$w/status\" > \"$w/out\" 2>\"$w/err\" & pid=$!",
              f"( sleep {int(target.timeout)}; kill -9 $pid 2>/dev/null && echo 'TIMEOUT (a hang)' ) & k=$!",
              "st=0; wait $pid || st=$?; kill $k 2>/dev/null || :",
              "echo \"exit status: $st\"",
              "if [ -s \"$w/status\" ]; then echo \"the call returned, errno: $(od -An -td4 \"$w/status\")\"; fi",
              "if [ -s \"$w/out\" ]; then echo 'the program ran; its report:'; od -c \"$w/out\" | head -40; fi",
              "if [ -s \"$w/err\" ]; then echo 'stderr:'; head -c 2000 \"$w/err\"; fi",
              f"echo 'Linux: {json.dumps(outcome_to_json(expected), ensure_ascii=True)[:800]}'",
              ""]
    return "\n".join(x for x in lines if x is not None)


def _sh_bytes(b: bytes) -> str:
    """A shell word for exactly these bytes: quoted as is when printable
    ASCII, else bash's $'...' with \\xNN (a latin-1 decode written out as
    UTF-8 gave other bytes: a cwd with \\xff was not found)."""
    if all(0x20 <= x < 0x7f for x in b):
        return shlex.quote(b.decode())
    return "$'" + "".join(chr(x) if 0x20 <= x < 0x7f and x not in b"'\\" else f"\\x{x:02x}" for x in b) + "'"


def _helpers(desc: dict) -> list[str]:
    """The description's helpers, put at /.execspec/NAME in the root: ours
    (native:NAME) built from their source, embedded; a Debian package's
    file (deb:SUITE:PACKAGE:PATH) taken from the host, where that package is
    installed."""
    out = []
    for name, spec in desc.get("helpers", {}).items():
        kind, _, rest = spec.partition(":")
        if kind == "native":
            src, flags = build.PROGRAMS[rest]
            text = build.inline_headers((NATIVE / src).read_text().rstrip("\n"), frozenset())
            out += [f"cat > \"$w/{name}.c\" <<'EXECSPEC_EOF'", text, "EXECSPEC_EOF",
                    f"cc {' '.join(flags)} -o \"$r/.execspec/{name}\" \"$w/{name}.c\" || exit 2"]
        else:  # deb:SUITE:PACKAGE:PATH
            _suite, pkg, path = rest.split(":", 2)
            prog = path.rsplit("/", 1)[-1]
            out += [f"h=$(command -v {shlex.quote(prog)}) || {{ echo 'needs {prog} (Debian package {pkg})' >&2; "
                    "exit 2; }",
                    f"cp \"$h\" \"$r/.execspec/{name}\" || exit 2"]
    return out


def _chrooted(desc: dict, run: str) -> str:
    """The command chrooted in the case's root, as an unprivileged user: a
    user namespace (root there is not root on the host) with its own mount
    and PID namespaces for the description's root_binds (read-only binds of
    host paths) and root_mounts (a procfs, a tmpfs); the child dies with it."""
    mounts = []
    for at, host in desc.get("root_binds", {}).items():
        mounts += [f"mkdir -p \"$r{at}\"", f"mount --bind {shlex.quote(host)} \"$r{at}\"",
                   f"mount -o remount,bind,ro \"$r{at}\""]
    for at, fs in desc.get("root_mounts", {}).items():
        mounts += [f"mkdir -p \"$r{at}\"", f"mount -t {fs} {fs} \"$r{at}\""]
    inner = "; ".join([*mounts, f"exec chroot \"$r\" {run}"]).replace("'", "'\\''")
    return (f"r=\"$r\" unshare --map-root-user --mount --pid --fork --kill-child --mount-proc "
            f"sh -c '{inner}'")


def _launch_c(libc: bool) -> str:
    """launch.c with the one C core (bprm_call.h) built in, its -DLIBC_EXEC variant resolved."""
    text = (NATIVE / "launch.c").read_text().rstrip("\n")
    return build.inline_headers(text, frozenset({"LIBC_EXEC"}) if libc else frozenset())


def _files_part(case: Case, profile) -> list[str]:
    """The kernel reproducer's prologue (probe images, the case's files), up
    to where it builds its own exec program."""
    text = shell(case, profile, "class")
    out = []
    for line in text.split("\n")[1:]:
        if line.startswith("cat > \"$w/repro.c\""):
            break
        if line.startswith(("# execspec reproducer", "# Needs sh")):
            continue
        out.append(line)
    return out
