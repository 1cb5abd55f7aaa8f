"""The hostile program (hostile.c) and the host-side checks the isolation
tests share: build it, and find a run's processes on the host by a marker
in their argv or environment."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

SOURCE = Path(__file__).resolve().parent / "hostile.c"


def build(out: Path) -> Path:
    """A static build of hostile.c at `out` (it runs in an empty case root)."""
    subprocess.run(["cc", "-static", "-O1", "-o", str(out), str(SOURCE)], check=True)
    return out


def _pids() -> list[str]:
    return [p for p in os.listdir("/proc") if p.isdigit()]


def procs_with(marker: str, but: str | None = None) -> list[int]:
    """Processes whose argv holds `marker` (except those whose argv[0] is `but`)."""
    out = []
    for pid in _pids():
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if marker.encode() in cmd and (but is None or cmd.split(b"\0")[0] != but.encode()):
            out.append(int(pid))
    return out


def procs_with_env(marker: bytes) -> list[str]:
    """Processes whose environment holds the entry `marker` (NAME=VALUE)."""
    out = []
    for pid in _pids():
        try:
            if marker in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                out.append(pid)
        except OSError:
            pass
    return out
