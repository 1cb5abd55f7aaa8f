"""pytest plugin (-p tests.plugins.old_kernel): every target is a stand-in
for a host kernel older than 6.7 -- the model, with the capability a
private binfmt_misc instance needs reported absent and cases with
registrations refused as the sandbox refuses them there.  No kernel is
mocked: only the target's declared capability is."""
from __future__ import annotations

from contract.case import Case
from harness.targets.model_target import ModelTarget

REASON = "stand-in target: kernel 6.1 < 6.7 has no per-user-namespace binfmt_misc"


class OldKernelTarget(ModelTarget):
    name = "old-kernel"
    per_userns_binfmt_misc = False

    def skip_reason(self, case: Case) -> str | None:
        return REASON if case.binfmt_misc or case.binfmt_misc_read else None


def pytest_configure(config) -> None:
    import harness.targets
    harness.targets.get_target = lambda name, kernel=None, modules=None: OldKernelTarget(kernel or "6.1")
