"""Targets: where a case runs.  Each target has a name, the kernel it runs
on (which picks the model profile), the outcome fields it can observe, and
run(case) -> outcome."""
from __future__ import annotations

from .base import Target, TargetBroken, TargetUnavailable


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
    raise TargetUnavailable(f"unknown target {name!r} (known: sandbox, docker, sim:NAME|sim:FILE.json, model[:PROFILE], qemu[:IMAGE], uml[:IMAGE])")


def is_image_target(name: str) -> bool:
    """Targets whose --kernel names a kernel image rather than a model profile."""
    return name in ("qemu", "uml")


__all__ = ["Target", "TargetBroken", "TargetUnavailable", "get_target"]
