"""One QEMU guest running the executor, driven over its second serial port.

ttyS0 is the kernel console (kept in a log file, shown when a guest dies);
ttyS1 carries hex frames ("<hex>\\n" out, ">hex\\n" in) to the executor,
which the guest's /init starts in --mode plain.  A guest that stops
answering is killed, reported with its console tail, and restarted.
"""
from __future__ import annotations

import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from contract.case import Case
from harness.protocol import ProtocolError, decode_response, encode_case, hex_pack, hex_unpack, records

from .initramfs import build_initramfs

# No LA57: the guest gets the host's 47-bit address space (TASK_SIZE).
TCG_CPU = os.environ.get("EXECSPEC_QEMU_CPU", "max,la57=off")
# Boot attempts before a guest counts as not booting.  On this machine kind
# an early-boot panic with a corrupted RFLAGS shows up now and then when two
# TCG guests boot at once (any CPU model); a kernel that really panics does
# so every time.
BOOT_ATTEMPTS = int(os.environ.get("EXECSPEC_QEMU_BOOT_ATTEMPTS", "3"))
CMDLINE = "console=ttyS0 loglevel=4 lsm=capability panic=-1 rdinit=/init"


class GuestError(RuntimeError):
    pass


def kvm_usable() -> bool:
    if os.environ.get("EXECSPEC_QEMU_KVM", "auto") == "0":
        return False
    try:
        fd = os.open("/dev/kvm", os.O_RDWR)
        os.close(fd)
        return True
    except OSError:
        return False


def _kvm_verdict() -> str:
    try:
        build = Path(os.environ.get("EXECSPEC_BUILD", Path(__file__).resolve().parents[2] / "build"))
        return (build / "kvm-verdict").read_text().strip()
    except OSError:
        return "unknown"


def _remember_kvm(ok: bool) -> None:
    p = Path(os.environ.get("EXECSPEC_BUILD", Path(__file__).resolve().parents[2] / "build")) / "kvm-verdict"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("yes\n" if ok else "no\n")


class Guest:
    def __init__(self, vmlinuz: Path, module: Path | None, memory: str = "512M",
                 boot_timeout: float = 60.0, case_timeout: float = 30.0, extra_cmdline: str = "",
                 machine: str = "pc", callers: bool = False):
        if shutil.which("qemu-system-x86_64") is None and type(self) is Guest:
            raise GuestError("qemu-system-x86_64 not found: apt-get install --no-install-recommends qemu-system-x86")
        self.vmlinuz = vmlinuz
        # callers: the initramfs carries the "search" cases' programs too
        # (build_initramfs); False, or the reason they are missing, if not
        self.callers: bool | str = False
        if callers:
            from harness.userspace import ShellsUnavailable
            try:
                self.initrd = build_initramfs(module, callers=True)
                self.callers = True
            except ShellsUnavailable as e:
                self.callers = str(e)
        if self.callers is not True:
            self.initrd = build_initramfs(module)
        self.memory = memory
        self.machine = os.environ.get("EXECSPEC_QEMU_MACHINE", machine)
        self.boot_timeout = boot_timeout
        self.case_timeout = case_timeout
        self.cmdline = f"{CMDLINE} {extra_cmdline}".strip()
        self.proc: subprocess.Popen | None = None
        self.tmp = Path(tempfile.mkdtemp(prefix="execspec-qemu-"))
        self._watchdog = _Watchdog(self.tmp)
        self.console = self.tmp / "console.log"
        self.hello: dict[str, str] = {}
        self.boot_seconds = 0.0
        self.accel = "kvm" if kvm_usable() and _kvm_verdict() != "no" else "tcg"
        self._buf = b""

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        for attempt in range(1, BOOT_ATTEMPTS + 1):
            try:
                return self._start_once()
            except GuestError as e:
                if attempt == BOOT_ATTEMPTS:
                    raise
                first = str(e).splitlines()[0]
                print(f"execspec: guest boot attempt {attempt} failed ({first}); retrying", file=sys.stderr)

    def _start_once(self) -> None:
        if self.accel != "kvm":
            return self._boot("tcg")
        try:  # /dev/kvm may exist and still not run guests (nested/PVM hosts)
            self._boot("kvm", timeout=15)
            _remember_kvm(True)
        except GuestError:
            _remember_kvm(False)
            self.accel = "tcg"
            self._boot("tcg")

    def _command(self, accel: str) -> tuple[list[str], dict]:
        """The emulator's argv and extra Popen arguments."""
        argv = ["qemu-system-x86_64", "-accel", accel, "-cpu", TCG_CPU if accel == "tcg" else "host",
                "-m", self.memory, "-smp", "1", "-nodefaults", "-no-user-config", "-display", "none",
                "-no-reboot", "-kernel", str(self.vmlinuz), "-initrd", str(self.initrd),
                "-append", self.cmdline, "-serial", f"file:{self.console}", "-serial", "stdio",
                "-monitor", "none"]
        if self.machine == "microvm":
            # no PCI or ACPI to probe (5.10 boots in 2.6 s instead of 4.4);
            # microvm makes only the first serial port, so add the second
            argv += ["-machine", "microvm,acpi=off", "-device", "isa-serial,chardev=serial1"]
        return argv, {}

    def _boot(self, accel: str, timeout: float | None = None) -> None:
        self.stop()
        argv, extra = self._command(accel)
        t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, bufsize=0, start_new_session=True, **extra)
        self._watchdog.guard(self.proc.pid)
        for fd in extra.get("pass_fds", ()):
            os.close(fd)  # the child has its copy
        self._buf = b""
        body = self._read_frame(timeout or self.boot_timeout, "boot")
        self.boot_seconds = time.monotonic() - t0
        self.hello = {t.decode(): p.decode() for t, p in records(body)}

    def stop(self) -> None:
        if self.proc is not None:
            try:  # the whole session: UML runs a host process per guest process
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self._watchdog.guard(None)
            for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                if f:
                    f.close()
            self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
        self._watchdog.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    # ------------------------------------------------------------ frames

    def console_tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.console.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no console log)"

    def _read_frame(self, timeout: float, what: str) -> bytes:
        assert self.proc and self.proc.stdout
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while True:
            start = self._buf.find(b"<")
            if start >= 0:
                end = self._buf.find(b"\n", start)
                if end >= 0:
                    try:
                        raw = hex_unpack(self._buf[start + 1:end].strip())
                    except (ValueError, ProtocolError) as e:
                        raise GuestError(f"corrupt hex line from the guest during {what}: {e}") from None
                    self._buf = self._buf[end + 1:]
                    (n,) = struct.unpack_from("<I", raw)
                    if n != len(raw) - 4:
                        raise GuestError(f"corrupt frame from the guest during {what}")
                    return raw[4:]
            else:
                self._buf = b""
            left = deadline - time.monotonic()
            if left <= 0:
                raise GuestError(f"guest gave no answer within {timeout:.0f}s during {what}; console tail:\n"
                                 + self.console_tail())
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise GuestError(f"guest exited during {what}; console tail:\n" + self.console_tail())
                self._buf += chunk

    def _send(self, line: bytes) -> None:
        assert self.proc and self.proc.stdin
        self.proc.stdin.write(line)

    def run(self, case: Case) -> dict:
        """The case's outcome.  A guest that dies or stops answering is
        restarted and the case run once more on the fresh guest: on this
        machine kind TCG guests now and then panic with corrupted registers
        whatever they run.  A case that kills its guest twice is reported."""
        try:
            return self._run_once(case)
        except GuestError as first:
            print(f"execspec: guest failed during a case, rerunning it on a fresh guest: "
                  f"{str(first).splitlines()[0]}", file=sys.stderr)
            try:
                return self._run_once(case)
            except GuestError as second:
                raise GuestError(f"the case failed its guest twice.\nfirst: {first}\nsecond: {second}") from None

    def _run_once(self, case: Case) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        assert self.proc and self.proc.stdin
        frame = encode_case(case, int(self.case_timeout * 1000) - 2000)
        try:
            self._send(b">" + hex_pack(struct.pack("<I", len(frame)) + frame) + b"\n")
            body = self._read_frame(self.case_timeout, "a case")
        except (GuestError, BrokenPipeError, ProtocolError) as e:
            tail = self.console_tail()
            self.stop()  # restarted by the next run()
            raise GuestError(f"{e}\n(guest restarted; console tail:\n{tail})") from None
        try:
            return decode_response(body, case)
        except ProtocolError as e:
            if "unexpected executor response kind" not in str(e):
                raise  # the executor's own verdicts (setup failed, bad frame) stand
            # A frame with no outcome in it: seen now and then on TCG guests of
            # a loaded machine (3 in 3600 cases); a guest fault like a lost frame,
            # so the case is rerun on a fresh guest like one.
            try:
                tags = [t.decode(errors="replace") for t, _ in records(body)]
            except Exception:
                tags = ["(unparsable)"]
            tail = self.console_tail()
            self.stop()
            raise GuestError(f"{e} (a {len(body)}-byte frame with records {tags})\n"
                             f"(guest restarted; console tail:\n{tail})") from None


class _Watchdog:
    """Kills a guest's process group and removes its temp dir when this
    process dies, however it dies (SIGKILL included): a shell in its own
    session waits on a pipe whose only writer is this process, so the read
    returns at our exit; signals meant for a terminal's group don't reach it."""

    SCRIPT = ('trap "" INT TERM HUP; read _; '
              'p=$(cat "$1/guest.pgid" 2>/dev/null) && kill -9 "-$p" 2>/dev/null; rm -rf "$1"')  # dash: no "--"

    def __init__(self, tmp: Path):
        self.tmp = tmp
        r, self._w = os.pipe()  # both close-on-exec: no other child holds the writer
        self.proc = subprocess.Popen(["sh", "-c", self.SCRIPT, "sh", str(tmp)], stdin=r,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        os.close(r)

    def guard(self, pgid: int | None) -> None:
        f = self.tmp / "guest.pgid"
        if pgid is None:
            f.unlink(missing_ok=True)
        else:
            f.write_text(str(pgid))

    def close(self) -> None:
        if self._w >= 0:
            os.close(self._w)
            self._w = -1
            self.proc.wait()


class UmlGuest(Guest):
    """User-Mode Linux: the guest kernel is a host program (linux.uml), so it
    boots in about two seconds with no emulator.  Same initramfs and
    executor; the protocol port is UML's serial line 1 (ssl1 = our pipes),
    the console goes to the log file through fd 3."""

    def __init__(self, linux: Path, module: Path | None, **kw):
        super().__init__(linux, module, **kw)
        self.accel = "uml"

    def _start_once(self) -> None:
        self._boot("uml")

    def _command(self, accel: str) -> tuple[list[str], dict]:
        mem = self.memory if self.memory[-1] in "MG" else self.memory + "M"
        argv = [str(self.vmlinuz), f"mem={mem}", f"initrd={self.initrd}", "con=null", "con0=fd:3",
                "ssl=null", "ssl1=fd:0,fd:1", "rdinit=/init", "loglevel=4", "panic=-1"]
        log = os.open(self.console, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)

        def console_on_fd3() -> None:
            os.dup2(log, 3)
        return argv, {"preexec_fn": console_on_fd3, "pass_fds": (log,)}
