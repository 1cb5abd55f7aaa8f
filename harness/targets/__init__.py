"""Targets: where a case runs.  Each target has a name, the kernel it runs
on (which picks the model profile), the outcome fields it can observe, and
run(case) -> outcome."""
from __future__ import annotations

from .base import Target, TargetBroken, TargetUnavailable

# Every spelling get_target() takes, for help texts and errors (one list).
TARGETS = "sandbox, docker, model[:PROFILE], qemu[:IMAGE], uml[:IMAGE], sim:NAME|sim:FILE.json"


def get_target(name: str, kernel: str | None = None, modules: str | None = None) -> Target:
    """`kernel` is the model profile for sandbox/model, the image for qemu
    (a target spelled "qemu:debian-6.1" carries its image)."""
    if name == "model" or name.startswith("model:"):
        from .model_target import ModelTarget
        return ModelTarget(name.partition(":")[2] or kernel or "newest")
    if name == "sandbox":
        from .sandbox import SandboxTarget
        return SandboxTarget(kernel)
    if name == "qemu" or name.startswith("qemu:"):
        from .qemu import QemuTarget
        return QemuTarget(name.partition(":")[2] or kernel, modules)
    if name.startswith("sim:"):
        from .simulator import SimulatorTarget
        return SimulatorTarget(name[4:], kernel)
    if name == "docker":
        from .docker import DockerTarget
        return DockerTarget(kernel)
    if name == "uml" or name.startswith("uml:"):
        from .uml import UmlTarget
        return UmlTarget(name.partition(":")[2] or kernel, modules)
    raise TargetUnavailable(f"unknown target {name!r} (known: {TARGETS})")


def preflight(name: str, kernel: str | None = None, modules: str | None = None) -> None:
    """Raises TargetUnavailable (one line saying why) when target `name`
    cannot start here, checking what each test worker's target will need
    (the emulator, the engine, the kernel: fetched here, once, with progress
    lines) without starting it."""
    base = name.partition(":")[0]
    if base == "qemu":
        from .qemu import preflight as qemu_preflight
        qemu_preflight(name.partition(":")[2] or kernel, modules)
    elif base == "uml":
        import os

        from .uml import resolve_uml
        resolve_uml(name.partition(":")[2] or kernel or "debian-uml",
                    modules or os.environ.get("EXECSPEC_QEMU_MODULES"))
    elif base == "sandbox":
        from harness.executor import userns_available
        ok, why = userns_available()
        if not ok:
            raise TargetUnavailable(f"sandbox target: {why}")
    elif base == "docker":
        from .docker import engine
        engine().close()
    elif base in ("model", "sim"):
        return
    else:
        get_target(name)  # unknown: raises saying which are known


def is_image_target(name: str) -> bool:
    """Targets whose --kernel names a kernel image rather than a model profile."""
    return name in ("qemu", "uml")


__all__ = ["Target", "TargetBroken", "TargetUnavailable", "get_target", "preflight"]
