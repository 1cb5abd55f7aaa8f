"""Drives one executor process (harness/native/executor.c) over a pipe."""
from __future__ import annotations

import os
import struct
import subprocess
import threading
from collections.abc import Sequence

from contract.case import LIMITS, Case

from . import build
from .protocol import ProtocolError, decode_response, encode_case, records

_LEN = struct.Struct("<I")
# a response: entry texts + the program's capped output + a little framing
_MAX_RESPONSE = LIMITS["MAX_OUTPUT"] + LIMITS["MAX_READS"] * 8448 + 4096


def _too_large(frame: bytes) -> dict | None:
    if len(frame) <= LIMITS["MAX_FRAME"]:
        return None
    return {"outcome": "case-error", "field": "case",
            "error": f"{len(frame)} bytes on the wire: over the {LIMITS['MAX_FRAME']} a case may take"}


class Executor:
    """A long-lived executor; one per test worker, restarted if it dies."""

    def __init__(self, argv_prefix: Sequence[str] = (), mode: str = "userns",
                 scratch: str = "/tmp", timeout_ms: int = 10000, argv: Sequence[str] | None = None,
                 all_probes: bool = False):
        """`argv`: the whole command, for an executor that lives elsewhere
        (e.g. `docker exec -i CONTAINER /executor ...`)."""
        if argv is None:
            probes = [a for p in build.probe_paths(all_probes) for a in ("--probe", str(p))]
            argv = [*argv_prefix, str(build.native("executor")), *probes, "--mode", mode, "--scratch", scratch]
        self.argv = list(argv)
        self.timeout_ms = timeout_ms
        self.proc: subprocess.Popen | None = None
        self.hello: dict[str, str] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, bufsize=0, close_fds=True)
        body = self._read()
        self.hello = {t.decode(): p.decode() for t, p in records(body)}

    def _read(self) -> bytes:
        assert self.proc and self.proc.stdout
        hdr = self.proc.stdout.read(4)
        if len(hdr) < 4:
            err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
            raise ProtocolError(f"executor exited: {err.strip() or self.proc.poll()}")
        (n,) = _LEN.unpack(hdr)
        if n > _MAX_RESPONSE:
            raise ProtocolError(f"executor frame of {n} bytes: over the {_MAX_RESPONSE} a response can be")
        chunks, left = [], n
        while left:
            c = self.proc.stdout.read(left)
            if not c:
                raise ProtocolError("executor closed mid-frame")
            chunks.append(c)
            left -= len(c)
        return b"".join(chunks)

    def _ensure_started(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self.start()

    def run(self, case: Case) -> dict:
        with self._lock:
            self._ensure_started()
            assert self.proc and self.proc.stdin
            frame = encode_case(case, self.timeout_ms)
            big = _too_large(frame)
            if big:
                return big
            try:
                self.proc.stdin.write(_LEN.pack(len(frame)) + frame)
                body = self._read()
            except (BrokenPipeError, ProtocolError):
                self.close()
                raise
        return decode_response(body, case)

    def run_many(self, cases: Sequence[Case]) -> list[dict]:
        """Pipelined: a writer thread keeps frames queued while responses are
        read, so Python's encoding overlaps the executor's work.  A case too
        large to send is answered here; if the writer fails, the executor's
        stdin closes so the reader never waits for a frame that won't come."""
        with self._lock:
            self._ensure_started()
            assert self.proc and self.proc.stdin
            stdin = self.proc.stdin
            err: list[BaseException] = []
            out: list[dict | None] = [None] * len(cases)
            sent: list[int] = []
            frames = []
            for i, c in enumerate(cases):
                f = encode_case(c, self.timeout_ms)
                big = _too_large(f)
                if big:
                    out[i] = big
                else:
                    sent.append(i)
                    frames.append(f)

            def write() -> None:
                try:
                    for f in frames:
                        stdin.write(_LEN.pack(len(f)) + f)
                except BaseException as e:  # surfaced after the reads
                    err.append(e)
                    try:
                        stdin.close()
                    except OSError:
                        pass
            w = threading.Thread(target=write, daemon=True)
            w.start()
            try:
                for i in sent:
                    out[i] = decode_response(self._read(), cases[i])
            except (BrokenPipeError, ProtocolError) as e:
                self.close()
                if err:
                    raise err[0] from e
                raise
            finally:
                w.join()
            if err:
                raise err[0]
            return out  # type: ignore[return-value]

    def close(self) -> None:
        if self.proc is not None:
            for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                if f:
                    f.close()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def __del__(self) -> None:  # best effort; PDEATHSIG covers hard kills
        try:
            self.close()
        except Exception:
            pass


def userns_available() -> tuple[bool, str]:
    """Can this process create a user namespace (root or unprivileged)?"""
    try:
        pid = os.fork()
    except OSError as e:
        return False, str(e)
    if pid == 0:
        try:  # os.unshare is 3.12+; ctypes keeps 3.11 working
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            os._exit(0 if libc.unshare(0x10000000 | 0x00020000) == 0 else 1)
        except BaseException:
            os._exit(1)
    _, st = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(st) == 0:
        return True, ""
    return False, ("cannot create a user namespace (kernel.unprivileged_userns_clone, "
                   "user.max_user_namespaces or a seccomp/LSM policy forbids it)")
