"""Per-kernel figures for QEMU guests: boot to first outcome, cases/s inside
the guest, and the time of one argument-space case (6 MiB of argv).

    python bench/guests.py [--cases N]
        [--kernels debian-5.10,debian-6.1,debian-6.12,debian-7.2,debian-7.3,uml:debian-uml]

Kernels are fetched on first use (harness/qemu/fetch-kernel.sh); guests run
one after another so the figures do not compete for the CPU.  A measurement
that prints figures, not a test.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import corpus  # noqa: E402
from contract.case import Case, Exec  # noqa: E402
from generators.common import probe  # noqa: E402
from harness.qemu.guest import Guest, UmlGuest  # noqa: E402
from harness.targets.qemu import kernel_version, resolve_kernel  # noqa: E402
from harness.targets.uml import resolve_uml  # noqa: E402


def big_case() -> Case:
    """Close to the 6 MiB argument space of an unlimited stack: 48 strings of 128 KiB."""
    fill = (b"F" * (128 * 1024 - 1),) * 46
    return Case(files=(probe(b"/bin/probe", "P"),),
                exec=Exec(path=b"/bin/probe", argv=(b"p", *fill), envp=(), rlimit_stack=-1))


def measure(spec: str, cases: list[Case]) -> dict:
    if spec.startswith("uml:"):
        linux, module = resolve_uml(spec[4:], None)
        g: Guest = UmlGuest(linux, module)
    else:
        vmlinuz, module = resolve_kernel(spec)
        g = Guest(vmlinuz, module, machine="microvm")  # the Debian kernels and debian:SUITE
    try:
        t0 = time.perf_counter()
        g.start()
        g.run(cases[0])
        boot = time.perf_counter() - t0
        t1 = time.perf_counter()
        for c in cases:
            g.run(c)
        rate = len(cases) / (time.perf_counter() - t1)
        t2 = time.perf_counter()
        out = g.run(big_case())
        big = time.perf_counter() - t2
        assert out["outcome"] == "exec", out
        return {"kernel": kernel_version(g.hello), "accel": g.accel, "boot": boot, "rate": rate, "big": big}
    finally:
        g.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kernels", default="debian-5.10,debian-6.1,debian-6.12,debian-7.2,debian-7.3,uml:debian-uml")
    ap.add_argument("--cases", type=int, default=200)
    args = ap.parse_args()
    cases = corpus(args.cases)
    print(f"{'image':<16} {'kernel':<10} {'accel':<5} {'boot→1st outcome':>17} {'cases/s':>8} {'6 MiB argv case':>16}")
    for spec in args.kernels.split(","):
        r = measure(spec, cases)
        print(f"{spec:<16} {r['kernel']:<10} {r['accel']:<5} {r['boot']:>15.2f} s {r['rate']:>8.1f} "
              f"{r['big']:>14.2f} s", flush=True)


if __name__ == "__main__":
    main()
