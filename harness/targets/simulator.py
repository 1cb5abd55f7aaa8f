"""Targets that re-implement exec in user space (PRoot, qemu-user, your own),
described by data: simulators/NAME.json, or any such file given by path.

    --target sim:proot | sim:qemu-user | sim:/path/to/mysim.json

A description says how to run a program under the simulator; nothing of
ours changes for a new one.  Fields:

- "command": argv, with placeholders {root} (the case's root directory on
  the host), {cwd} (the case's cwd), {launcher} (our launcher inside the
  root: /.execspec/launch), {path}, {argv0}, {args} (expands to the case's
  argv[1:]) and {helper:NAME} (a helper's path inside the root).
- "mode": "launcher" -- the command starts {launcher}, which makes the
  case's exact execve/execveat call inside the simulator; or "direct" -- the
  command itself runs {path} with {argv0} and {args} (the simulator's own
  loader is the first exec; envp is the command's environment).
- "chroot": run the command chrooted into the case's root (direct mode:
  the simulator then sees the case's paths as they are).
- "helpers": NAME -> "which:PROGRAM" (a host program), "file:PATH",
  "native:NAME" (one of ours, harness/build.py, e.g. native:vglaunch) or
  "deb:SUITE:PACKAGE:PATH" (a file of a Debian package, downloaded with the
  project's private apt state, never installed); copied to /.execspec/NAME.
- "launcher": "static" (default: our static launcher, raw system calls) or
  "libc" (dynamic, its exec through libc's execve(): for LD_PRELOAD-based
  simulators such as fakechroot, which never see a raw system call).
- "root_binds": {PATH_IN_ROOT: HOST_PATH} -- host files or directories
  bind-mounted read-only into every case's root (e.g. valgrind's tools).
- "root_mounts": {PATH_IN_ROOT: "proc"|"tmpfs"} -- a procfs (of the jail's
  PID namespace) or a tmpfs in every case's root, for simulators that need
  /proc or /tmp inside the root (the case then has them too).
- "env": {NAME: VALUE} added to the simulator's environment (launcher mode;
  in direct mode the environment is the case's envp).
- "timeout": seconds per case (default 10); past it the whole jail is killed
  and the outcome is {"outcome": "timeout"} (a hang, e.g. on a FIFO).
- "version": argv printing the simulator's version (run jailed, first line
  kept for the report's header).
- "always": declared always-present differences, applied to what the
  simulator reports before comparing: {"envp_drop": [REGEX, ...]} drops
  matching environment entries the simulator adds; {"argv0": "path"} says
  argv[0] is replaced by the program's path (valgrind) -- compared as such,
  the rest of argv still compared.  They neither multiply classes nor hide
  other argv/envp differences.  {"load_failure_exit": [STATUS, ...]}: the
  simulator loads the program itself and reports a load failure as its own
  exit with one of these statuses, never as execve()'s errno (qemu-user);
  the report then counts such an exit where Linux fails as no difference.
  {"signal_exit": {"stderr": REGEX}} or {"signal_exit": {"status_base": N}}:
  a program killed by a signal is reported as an exit (PRoot: status 255
  and "terminated with signal N" -- REGEX's group 1 is N; a shell wrapper:
  status N + the signal); such an exit is given back as the signal.
- "requires": host programs that must exist (else the target SKIPs).
- "unsupported": {"binfmt_misc"|"execveat"|"argv_null"|"argc0"|"envp_null"|
  "path_null"|"env_without_equals": reason} -- cases the simulator cannot
  express honestly SKIP with that reason instead of running on the host.
- "emulated": prose for people: what the simulator emulates and what falls
  through to the host kernel.
- "observable": the outcome fields it can observe (default: all but `exe`:
  the launcher gives the program no procfs directory at fd 99, so the probe
  cannot read its exe link there).

Isolation (harness/native/simjail.c, as the executor isolates a case): the
simulator and everything it runs live in a new user namespace whose root is
an unprivileged host id (ID_BASE.. of caselimits.h when the harness is root,
else the harness's own ids), with no supplementary groups, in a new PID
namespace killed whole when the simulator ends (or at the timeout), and in a
mount namespace where every host mount is read-only and nosuid; the case's
root {root} is a fresh tmpfs made there, from records, never on the host.
/tmp, /var/tmp and /dev/shm are private tmpfs.  Output is capped
(MAX_OUTPUT).  Where the kernel refuses this, the target is unavailable
(SKIP): a simulator never runs unjailed.
"""
from __future__ import annotations

import fcntl
import json
import os
import re
import selectors
import shutil
import signal as signal_mod
import struct
import subprocess
import tempfile
import time
from pathlib import Path

from contract.case import Case, Exec
from harness import build
from harness.protocol import errno_name, parse_report

from .base import ALL_FIELDS, Target, TargetBroken, TargetUnavailable

ROOT = Path(__file__).resolve().parents[2]
SIMULATORS = ROOT / "simulators"
LAUNCHER = "/.execspec/launch"
MAX_OUTPUT = build.limit("MAX_OUTPUT")
MAX_PATH = build.limit("MAX_PATH")


def load_description(spec: str) -> dict:
    p = Path(spec)
    if not p.suffix:
        p = SIMULATORS / f"{spec}.json"
    try:
        d = json.loads(p.read_text())
    except OSError:
        known = ", ".join(sorted(q.stem for q in SIMULATORS.glob("*.json") if q.stem != "known"))
        raise TargetUnavailable(f"no simulator description {p} (known: {known})") from None
    except json.JSONDecodeError as e:
        raise TargetUnavailable(f"{p}: not JSON: {e}") from None
    for k in ("name", "command", "mode"):
        if k not in d:
            raise TargetUnavailable(f"{p}: missing field {k!r}")
    if d["mode"] not in ("launcher", "direct"):
        raise TargetUnavailable(f"{p}: mode must be launcher or direct")
    return d


def _reachable_by_others(p: Path) -> bool:
    """Can an unprivileged user (the jail's id) read `p`, through every directory above it?"""
    import stat
    p = p.resolve()
    if not p.stat().st_mode & stat.S_IROTH:
        return False
    return all(d.stat().st_mode & stat.S_IXOTH for d in p.parents)


_staged: Path | None = None
_copies: dict[Path, Path] = {}


def for_the_jail(p: Path) -> Path:
    """`p`, or a copy the jail's unprivileged id can read: a checkout under a
    0700 directory (/root, mktemp -d) holds our launcher where it can't.
    The copies live in one directory per process, removed at exit (and by
    the next run, if this one was killed)."""
    global _staged
    if _reachable_by_others(p):
        return p
    if _staged is None:
        import atexit
        _staged = pid_dir(STAGED_PREFIX)
        os.chmod(_staged, 0o755)
        atexit.register(shutil.rmtree, _staged, True)
    if p not in _copies:
        out = _staged / f"{len(_copies)}-{p.name}"
        if p.is_dir():
            shutil.copytree(p, out, symlinks=True)
            for d in [out, *(x for x in out.rglob("*") if x.is_dir() and not x.is_symlink())]:
                os.chmod(d, 0o755)
        else:
            shutil.copyfile(p, out)
            os.chmod(out, 0o755)
        _copies[p] = out
    return _copies[p]


def _helper(how: str) -> Path:
    kind, _, arg = how.partition(":")
    if kind == "which":
        w = shutil.which(arg)
        if not w:
            raise TargetUnavailable(f"{arg} not found on the host")
        return Path(w)
    if kind == "native":
        return build.native(arg)
    if kind == "file":
        if not Path(arg).is_file():
            raise TargetUnavailable(f"{arg}: no such file")
        return Path(arg)
    if kind == "deb":
        suite, pkg, path = arg.split(":", 2)
        r = subprocess.run([str(ROOT / "harness" / "qemu" / "fetch-kernel.sh"), suite, pkg],
                           capture_output=True, text=True)
        if r.returncode:
            raise TargetUnavailable(f"cannot fetch {pkg}: {r.stderr.strip()[-300:]}")
        return Path(r.stdout.strip().splitlines()[-1]) / path
    raise TargetUnavailable(f"unknown helper source {how!r}")


def _s(b: bytes | None) -> bytes:
    return struct.pack("<I", 0xFFFFFFFF) if b is None else struct.pack("<I", len(b)) + b


def _v(v: tuple[bytes, ...] | None) -> bytes:
    return struct.pack("<I", 0xFFFFFFFF) if v is None else struct.pack("<I", len(v)) + b"".join(_s(x) for x in v)


def launch_spec(case: Case) -> bytes:
    """The launcher's input (harness/native/launch.c)."""
    e = case.exec
    dirfd = -100
    if isinstance(e.dirfd, int):
        dirfd = e.dirfd
    elif isinstance(e.dirfd, bytes):
        dirfd = -2
    rl = 0xFFFFFFFFFFFFFFFF if e.rlimit_stack == -1 else e.rlimit_stack
    return (struct.pack("<IiIIQ", 1 if e.syscall == "execveat" else 0, dirfd, e.flag_bits,
                        (1 if e.dirfd_opath else 0) | (2 if e.dirfd_cloexec else 0), rl)
            + _s(e.path) + _s(e.cwd or b"/") + _s(e.dirfd if isinstance(e.dirfd, bytes) else None)
            + _v(e.argv) + _v(e.envp))


CASE_DIR_PREFIX = "execspec-sim-"
STAGED_PREFIX = "execspec-jail-"  # for_the_jail()'s copies


def pid_dir(prefix: str) -> Path:
    """A temporary directory named after this process (PREFIXrandom-PID): a
    harness killed outright (SIGKILL) cannot remove its own, so the next one
    removes those whose process is gone (sweep_dead)."""
    return Path(tempfile.mkdtemp(prefix=prefix, suffix=f"-{os.getpid()}"))


def sweep_dead(prefix: str) -> None:
    """Remove the pid_dir()s of `prefix` whose process no longer exists."""
    for d in Path(tempfile.gettempdir()).glob(f"{prefix}*-*"):
        pid = d.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(d, ignore_errors=True)


class SimulatorTarget(Target):
    kernel_note = ""

    def __init__(self, spec: str, kernel: str | None = None):
        self.desc = load_description(spec)
        self.name = f"sim:{self.desc['name']}"
        for prog in self.desc.get("requires", []):
            if shutil.which(prog) is None:
                raise TargetUnavailable(f"{self.name}: {prog} not found "
                                        f"({self.desc.get('install', 'install it')})")
        for prefix in (CASE_DIR_PREFIX, STAGED_PREFIX):  # what killed runs left
            sweep_dead(prefix)
        self.helpers = {n: for_the_jail(_helper(h)) for n, h in self.desc.get("helpers", {}).items()}
        self.launcher = for_the_jail(build.native({"static": "launch", "libc": "launch_libc"}[
            self.desc.get("launcher", "static")]))
        self.jail = build.native("simjail")
        self.kernel = kernel or os.uname().release  # what falls through runs on the host kernel
        self.observable = frozenset(self.desc.get("observable", ALL_FIELDS - {"exe"}))
        self.timeout = float(self.desc.get("timeout", 10))
        self._check_jail()
        if not os.environ.get("EXECSPEC_SIM_NO_SANITY"):
            self.sanity()

    def _check_jail(self) -> None:
        """The jail must work here, or nothing runs (never unjailed): our
        launcher, chrooted in an empty root, with no call to make."""
        desc, self.desc = self.desc, {"name": self.desc["name"], "command": [LAUNCHER], "mode": "launcher",
                                      "chroot": True}
        launcher, self.launcher = self.launcher, for_the_jail(build.native("launch"))
        helpers, self.helpers = self.helpers, {}
        try:
            o = self._launch(Case(files=(), exec=Exec(path=b"/x", argv=(b"x",), envp=())),
                             Path(tempfile.gettempdir()) / f"execspec-sim-check-{os.getpid()}", None)
        finally:
            self.desc, self.launcher, self.helpers = desc, launcher, helpers
        if o.get("outcome") == "skip":
            raise TargetUnavailable(f"{self.name}: cannot isolate a simulator here (user, PID and mount "
                                    f"namespaces, read-only host): {o['reason']}")

    def describe(self) -> str:
        return f"{self.name} ({self.desc.get('emulated', 'a user-space exec')}; host kernel {os.uname().release})"

    per_userns_binfmt_misc = False  # a simulator run registers nothing

    def lacks(self, need: str) -> str | None:
        if need == "binfmt_misc":
            return f"{self.name}: " + self.desc.get("unsupported", {}).get(
                "binfmt_misc", "a simulator run registers nothing (no private binfmt_misc instance)")
        return super().lacks(need)

    def skip_reason(self, case: Case) -> str | None:
        e = case.exec
        checks = {"binfmt_misc": bool(case.binfmt_misc or case.binfmt_misc_read),
                  "execveat": e.syscall == "execveat",
                  "argv_null": e.argv is None, "argc0": e.argv is not None and not e.argv,
                  "envp_null": e.envp is None, "path_null": e.path is None,
                  "env_without_equals": any(b"=" not in x for x in e.envp or ())}
        unsupported = {"binfmt_misc": "a simulator run registers nothing (no private binfmt_misc instance)",
                       **self.desc.get("unsupported", {})}
        for what, reason in unsupported.items():
            if checks.get(what):
                return f"{self.name}: {reason}"
        if self.desc["mode"] == "direct" and (e.argv is None or not e.argv or e.path is None
                                              or e.syscall == "execveat"):
            return f"{self.name}: a direct command needs a path and argv[0], and makes no execveat"
        return None

    def _argv(self, case: Case, root: Path) -> list[bytes]:
        e = case.exec
        subst = {"{root}": os.fsencode(root), "{cwd}": e.cwd or b"/", "{launcher}": LAUNCHER.encode(),
                 "{path}": e.path or b"", "{argv0}": (e.argv or (b"",))[0]}
        out: list[bytes] = []
        for a in self.desc["command"]:
            if a == "{args}":
                out += list((e.argv or ())[1:])
            elif a.startswith("{helper:"):
                out.append(f"/.execspec/{a[8:-1]}".encode() if self.desc.get("chroot")
                           else os.fsencode(root / ".execspec" / a[8:-1]))
            else:
                b = a.encode()
                for k, v in subst.items():
                    b = b.replace(k.encode(), v)
                out.append(b)
        return out

    def run(self, case: Case) -> dict:
        reason = self.skip_reason(case)
        if reason:
            return {"outcome": "skip", "reason": reason}
        tmp = pid_dir(CASE_DIR_PREFIX)
        root = tmp / "root"
        try:
            if len(os.fsencode(root)) + max((len(f.path) for f in case.files), default=0) >= MAX_PATH:
                # the simulator would see root + path: past PATH_MAX on the host
                return {"outcome": "skip", "reason": f"{self.name}: the case's root ({len(os.fsencode(root))} "
                        f"bytes) plus its longest path reach PATH_MAX ({MAX_PATH}) on the host"}
            return self.normalise(case, self._launch(case, root, tmp))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def normalise(self, case: Case, o: dict) -> dict:
        """The description's declared always-present differences ("always")."""
        always = self.desc.get("always", {})
        if o.get("outcome") == "exit" and always.get("signal_exit"):
            return self._signal_exit(always["signal_exit"], o)
        if o.get("outcome") != "exec" or not always:
            return o
        o = dict(o)
        drops = [re.compile(r.encode()) for r in always.get("envp_drop", ())]
        if drops and o.get("envp") is not None:
            o["envp"] = [x for x in o["envp"] if not any(d.search(x) for d in drops)]
        e = case.exec
        if (always.get("argv0") == "path" and o.get("argv") and e.argv and e.path
                and o["argv"][0] == e.path and e.argv[0] != e.path):
            o["argv"] = [e.argv[0], *o["argv"][1:]]
        return o

    @staticmethod
    def _signal_exit(how: dict, o: dict) -> dict:
        """A program killed by a signal that the simulator (or the wrapper
        it runs in) reports as an exit: given back as the signal."""
        n = None
        if "stderr" in how:
            m = re.search(how["stderr"], str(o.get("stderr", "")))
            n = int(m.group(1)) if m else None
        elif "status_base" in how and isinstance(o.get("status"), int):
            n = o["status"] - how["status_base"] if how["status_base"] < o["status"] < how["status_base"] + 65 \
                else None
        try:
            return {"outcome": "signal", "signal": signal_mod.Signals(n).name} if n else o
        except ValueError:
            return o

    def run_command(self, argv: list[str]) -> tuple[bytes, bytes]:
        """stdout and stderr of a host command (the simulator's --version),
        run in the jail like everything of the simulator's."""
        argv = [str(self.helpers[a[8:-1]]) if a.startswith("{helper:") else a for a in argv]
        desc, self.desc = self.desc, {"name": self.desc["name"], "command": argv, "mode": "launcher"}
        tmp = pid_dir(CASE_DIR_PREFIX)
        try:
            self._launch(Case(files=(), exec=Exec(path=b"/x", argv=(b"x",), envp=())), tmp / "root", tmp)
            return self.last_output
        finally:
            self.desc = desc
            shutil.rmtree(tmp, ignore_errors=True)

    def sanity(self) -> None:
        """A description that runs nothing right fails here, loudly, not as
        a report of results: the simplest case there is (a static ELF, argv
        and envp of one string each) must run, argv and envp intact."""
        from generators.common import probe
        case = Case(files=(probe(b"/bin/probe", "P"),),
                    exec=Exec(path=b"/bin/probe", argv=(b"probe",), envp=(b"K=V",)))
        o = self.run(case)
        if o.get("outcome") != "exec" or o.get("tag") != "P" or o.get("envp") != [b"K=V"]:
            raise TargetBroken(f"{self.name}: the description looks broken: the simplest case (a static ELF "
                               f"/bin/probe, argv [probe], envp [K=V]) gives {o} (check its command, "
                               f"launcher, chroot, root_mounts; 'always' for what the simulator adds)")

    def records(self, case: Case) -> bytes:
        """The case's root for harness/native/simjail.c, which makes it inside
        the jail (never on the host): the case's files, our launcher and the
        helpers (bind-mounted read-only), the description's per-root mounts,
        and the files held open for writing."""
        from harness.repro import file_bytes
        out = []
        for f in case.files:
            kind = {"dir": b"d", "symlink": b"l", "fifo": b"p"}.get(f.type, b"f")
            data = f.data if f.type == "symlink" else b"" if kind != b"f" else file_bytes(f)
            out.append(_rec(kind, f.mode, f.path, data))
        out.append(_rec(b"d", 0o755, b"/.execspec"))
        out.append(_rec(b"b", 0o755, LAUNCHER.encode(), os.fsencode(self.launcher)))
        for n, p in self.helpers.items():
            out.append(_rec(b"b", 0o755, f"/.execspec/{n}".encode(), os.fsencode(p)))
        for where, host in self.desc.get("root_binds", {}).items():
            out.append(_rec(b"b", 0o755, where.encode(), host.encode()))
        for where, what in self.desc.get("root_mounts", {}).items():
            out.append(_rec(b"P" if what == "proc" else b"T", 0o755, where.encode()))
        out += [_rec(b"w", 0, f.path) for f in case.files if f.open_for_write]
        return b"".join(out)

    def _launch(self, case: Case, root: Path, tmp: Path | None) -> dict:
        e = case.exec
        direct = self.desc["mode"] == "direct"
        chroot = bool(self.desc.get("chroot"))
        jail = [os.fsencode(self.jail), b"--root", os.fsencode(root)]
        if chroot:
            jail += [b"--chroot", e.cwd or b"/"]
        if direct:
            jail += [b"--rlimit-stack", b"inf" if e.rlimit_stack == -1 else str(e.rlimit_stack).encode()]
        self.last_output = (b"", b"")
        env: dict[bytes, bytes] | dict[str, str] | None = None
        if direct:
            env = dict(x.split(b"=", 1) for x in e.envp or ())
        elif "env" in self.desc:
            env = {**os.environ, **self.desc["env"]}

        def high(fd: int) -> int:
            h = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 20)
            os.close(fd)
            return h
        spec = os.memfd_create("execspec-spec")
        os.write(spec, launch_spec(case))
        os.lseek(spec, 0, os.SEEK_SET)
        recs = os.memfd_create("execspec-files")
        data = self.records(case)
        view = memoryview(data)
        while view:
            view = view[os.write(recs, view):]
        os.lseek(recs, 0, os.SEEK_SET)
        st_r, st_w = os.pipe()
        res_r, res_w = os.pipe()
        # simjail moves them to 10, 11 (harness/native/launch.c reads fd 10
        # and reports on fd 11), 12 (its file records) and 13 (its result)
        fds = [high(spec), high(st_w), high(recs), high(res_w)]
        argv = jail + [b"--fds", ",".join(map(str, fds)).encode(), b"--"] + self._argv(case, root)
        try:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=env, pass_fds=fds, start_new_session=True)
        finally:
            for fd in fds:
                os.close(fd)
        try:
            out, err, limit = _collect(p, self.timeout, MAX_OUTPUT)
        finally:
            try:
                os.killpg(p.pid, signal_mod.SIGKILL)  # the jail's PID 1 takes the rest with it
            except ProcessLookupError:
                pass
            p.wait()
            status = _read_all(st_r)
            result = _read_all(res_r)
        self.last_output = (out, err) if limit is None else (b"", b"")
        if limit == "timeout":
            return {"outcome": "timeout"}
        if limit == "output":
            return {"outcome": "output-limit", "bytes": MAX_OUTPUT}
        setup_error, wait_status = _jail_result(result)
        if setup_error is not None:
            return {"outcome": "skip", "reason": f"{self.name}: the case's root could not be made: {setup_error}"}
        if len(status) == 4:
            (errno,) = struct.unpack("<i", status)
            if errno == 0:
                return {"outcome": "returned", "value": 0}
            return {"outcome": "error", "errno": errno_name(errno)}
        rep = parse_report(out)
        if rep is not None:
            return rep
        if len(status) not in (0, 4):
            return {"outcome": "target-error", "message": f"{self.name}: a short status from the launcher"}
        if wait_status is None:
            return {"outcome": "target-error", "message": f"{self.name}: the jail ended without a status "
                                                          f"(exit {p.returncode})"}
        code = os.waitstatus_to_exitcode(wait_status)
        if code < 0:
            return {"outcome": "signal", "signal": signal_mod.Signals(-code).name}
        o: dict = {"outcome": "exit", "status": code}
        if err.strip():
            o["stderr"] = err.decode("utf-8", "replace").strip()[-300:]
        return o


def _rec(kind: bytes, mode: int, path: bytes, data: bytes = b"") -> bytes:
    return kind + struct.pack("<I", mode) + _s(path.lstrip(b"/")) + _s(data)


def _read_all(fd: int) -> bytes:
    out = b""
    try:
        while chunk := os.read(fd, 65536):
            out += chunk
    finally:
        os.close(fd)
    return out


def _jail_result(b: bytes) -> tuple[str | None, int | None]:
    """harness/native/simjail.c's records: S + u32 + message, W + i32."""
    err, st, i = None, None, 0
    while i < len(b):
        if b[i:i + 1] == b"S" and i + 5 <= len(b):
            (n,) = struct.unpack_from("<I", b, i + 1)
            err = err or b[i + 5:i + 5 + n].decode("utf-8", "replace")
            i += 5 + n
        elif b[i:i + 1] == b"W" and i + 5 <= len(b):
            (st,) = struct.unpack_from("<i", b, i + 1)
            i += 5
        else:
            break
    return err, st


def _collect(p: subprocess.Popen, timeout: float, cap: int) -> tuple[bytes, bytes, str | None]:
    """stdout and stderr until both close, at most `cap` bytes in all and
    `timeout` seconds; the third value says which limit ended it, if any."""
    assert p.stdout is not None and p.stderr is not None  # started with PIPE for both
    ofd, efd = p.stdout.fileno(), p.stderr.fileno()
    bufs = {ofd: bytearray(), efd: bytearray()}
    sel = selectors.DefaultSelector()
    for fd in bufs:
        sel.register(fd, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    why = None
    try:
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                why = "timeout"
                break
            for key, _ in sel.select(left):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    sel.unregister(key.fd)
                    continue
                bufs[key.fd] += chunk
                if sum(map(len, bufs.values())) > cap:
                    why = "output"
                    break
            if why:
                break
        if why is None:
            try:
                p.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                why = "timeout"
    finally:
        sel.close()
        p.stdout.close()
        p.stderr.close()
    return bytes(bufs[ofd]), bytes(bufs[efd]), why
