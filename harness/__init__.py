"""execspec's harness: targets, the executor and probe, the CLI.

The model predicts probes' behaviour from their bytes; the probes are built
here, so the harness hands the model its builder (the model imports nothing
of the harness: tests/test_layers.py)."""
from model.binfmt_elf import set_probe_source as _set_probe_source


def _probe_bytes(variant: str) -> bytes:
    from . import build
    return build.native(build.PROBES[variant]).read_bytes()


_set_probe_source(_probe_bytes)
