"""Targets: where a case runs.  Each target has a name, the kernel it runs
on (which picks the model profile), the outcome fields it can observe, and
run(case) -> outcome."""
from __future__ import annotations

from .base import Target, TargetUnavailable


def get_target(name: str, kernel: str | None = None) -> Target:
    if name == "model":
        from .model_target import ModelTarget
        return ModelTarget(kernel or "newest")
    if name == "sandbox":
        from .sandbox import SandboxTarget
        return SandboxTarget(kernel)
    raise TargetUnavailable(f"unknown target {name!r} (known: sandbox, model)")


__all__ = ["Target", "TargetUnavailable", "get_target"]
