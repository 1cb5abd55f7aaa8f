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
- "helpers": NAME -> "which:PROGRAM" (a host program) or
  "deb:SUITE:PACKAGE:PATH" (a file of a Debian package, downloaded with the
  project's private apt state, never installed); copied to /.execspec/NAME.
- "requires": host programs that must exist (else the target SKIPs).
- "unsupported": {"binfmt_misc"|"execveat"|"argv_null"|"argc0"|"envp_null"|
  "path_null"|"env_without_equals": reason} -- cases the simulator cannot
  express honestly SKIP with that reason instead of running on the host.
- "emulated": prose for people: what the simulator emulates and what falls
  through to the host kernel.
- "observable": the outcome fields it can observe (default: all but `exe`:
  the launcher gives the program no procfs directory at fd 99, so the probe
  cannot read its exe link there).

Files are materialised on the host in a fresh temporary directory (no
namespace: nothing is mounted), which is removed after the case.
"""
from __future__ import annotations

import json
import os
import shutil
import signal as signal_mod
import struct
import subprocess
import tempfile
from pathlib import Path

from harness import build
from contract.case import Case
from harness.protocol import errno_name, parse_report

from .base import ALL_FIELDS, Target, TargetUnavailable

ROOT = Path(__file__).resolve().parents[2]
SIMULATORS = ROOT / "simulators"
LAUNCHER = "/.execspec/launch"


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


def _helper(how: str) -> Path:
    kind, _, arg = how.partition(":")
    if kind == "which":
        w = shutil.which(arg)
        if not w:
            raise TargetUnavailable(f"{arg} not found on the host")
        return Path(w)
    if kind == "deb":
        suite, pkg, path = arg.split(":", 2)
        r = subprocess.run([str(ROOT / "harness" / "qemu" / "fetch-kernel.sh"), suite, pkg],
                           capture_output=True, text=True)
        if r.returncode:
            raise TargetUnavailable(f"cannot fetch {pkg}: {r.stderr.strip()[-300:]}")
        return Path(r.stdout.strip().splitlines()[-1]) / path
    raise TargetUnavailable(f"unknown helper source {how!r}")


def materialise(case: Case, root: Path) -> None:
    """The case's files under `root`, as the executor makes them (parents
    0755, directory modes set last so a 0 mode can't block children)."""
    from harness.repro import file_bytes
    dirs: list[tuple[Path, int]] = []
    for f in case.files:
        rel = f.path.lstrip(b"/")
        p = Path(os.fsdecode(root)) / os.fsdecode(rel) if rel else root
        if not rel:
            if f.type == "dir":
                dirs.append((root, f.mode))
            continue
        p.parent.mkdir(parents=True, exist_ok=True)
        if f.type == "dir":
            p.mkdir(exist_ok=True)
            dirs.append((p, f.mode))
        elif f.type == "symlink":
            os.symlink(f.data, os.fsencode(p))
        elif f.type == "fifo":
            os.mkfifo(p, 0o600)
            os.chmod(p, f.mode)
        else:
            p.write_bytes(file_bytes(f))
            os.chmod(p, f.mode)
    for p, mode in reversed(dirs):
        os.chmod(p, mode)


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


class SimulatorTarget(Target):
    kernel_note = ""

    def __init__(self, spec: str, kernel: str | None = None):
        self.desc = load_description(spec)
        self.name = f"sim:{self.desc['name']}"
        for prog in self.desc.get("requires", []):
            if shutil.which(prog) is None:
                raise TargetUnavailable(f"{self.name}: {prog} not found "
                                        f"({self.desc.get('install', 'install it')})")
        self.helpers = {n: _helper(h) for n, h in self.desc.get("helpers", {}).items()}
        self.launcher = build.native("launch")
        self.kernel = kernel or os.uname().release  # what falls through runs on the host kernel
        self.observable = frozenset(self.desc.get("observable", ALL_FIELDS - {"exe"}))
        self.timeout = float(self.desc.get("timeout", 10))

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
        tmp = Path(tempfile.mkdtemp(prefix="execspec-sim-"))
        try:
            root = tmp / "root"
            root.mkdir()
            return self._run(case, root, tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _run(self, case: Case, root: Path, tmp: Path) -> dict:
        materialise(case, root)
        aux = root / ".execspec"
        aux.mkdir(exist_ok=True)
        shutil.copy(self.launcher, aux / "launch")
        for n, p in self.helpers.items():
            shutil.copy(p, aux / n)
        spec = tmp / "spec"
        spec.write_bytes(launch_spec(case))
        # held by this process for the whole run: i_writecount is the inode's,
        # so the simulator's exec meets them wherever it happens
        writers = [os.open(os.fsdecode(root) + os.fsdecode(f.path), os.O_WRONLY | os.O_CLOEXEC)
                   for f in case.files if f.open_for_write]
        try:
            return self._launch(case, root, tmp, spec)
        finally:
            for fd in writers:
                os.close(fd)

    def _launch(self, case: Case, root: Path, tmp: Path, spec: Path) -> dict:
        st_r, st_w = os.pipe()
        spec_fd = os.open(spec, os.O_RDONLY)
        e = case.exec
        direct = self.desc["mode"] == "direct"
        chroot = bool(self.desc.get("chroot"))
        rl = e.rlimit_stack

        def setup() -> None:
            os.dup2(spec_fd, 10)  # harness/native/launch.c reads fd 10, reports on fd 11
            os.dup2(st_w, 11)
            if direct:
                import resource
                resource.setrlimit(resource.RLIMIT_STACK, (resource.RLIM_INFINITY if rl == -1 else rl,
                                                           resource.getrlimit(resource.RLIMIT_STACK)[1]))
            if chroot:
                os.chroot(root)
                os.chdir(e.cwd or b"/")
        env = None
        if direct:
            env = dict(x.split(b"=", 1) for x in e.envp or ())
        try:
            p = subprocess.Popen(self._argv(case, root), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=env, pass_fds=(10, 11), preexec_fn=setup,
                                 cwd=None if chroot else root, start_new_session=True)
        finally:
            os.close(st_w)
            os.close(spec_fd)
        try:
            out, err = p.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal_mod.SIGKILL)
            p.communicate()
            os.close(st_r)
            return {"outcome": "timeout"}
        status = os.read(st_r, 4)
        os.close(st_r)
        if len(status) == 4:
            (errno,) = struct.unpack("<i", status)
            if errno == 0:
                return {"outcome": "returned", "value": 0}
            return {"outcome": "error", "errno": errno_name(errno)}
        rep = parse_report(out)
        if rep is not None:
            return rep
        if p.returncode < 0:
            return {"outcome": "signal", "signal": signal_mod.Signals(-p.returncode).name}
        o: dict = {"outcome": "exit", "status": p.returncode}
        if err.strip():
            o["stderr"] = err.decode("utf-8", "replace").strip()[-300:]
        return o
