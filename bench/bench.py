"""Throughput of the model and of the sandbox target on a fixed corpus.

    python bench/bench.py [--cases N] [--seconds S]

The corpus is drawn deterministically (derandomized Hypothesis) from the
suites' generators, without the multi-megabyte argument-space cases, so
the figures compare across runs and machines.  Prints cases/s; this is a
measurement, not a test.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from hypothesis import HealthCheck, given, settings  # noqa: E402

import model  # noqa: E402
from contract.case import Case  # noqa: E402
from generators.execveat import execveat_cases  # noqa: E402
from generators.paths import path_cases, symlink_chain_cases  # noqa: E402
from generators.shebang import chain_cases, shebang_cases  # noqa: E402
from generators.vectors import vector_cases  # noqa: E402
from harness.executor import Executor  # noqa: E402
from harness.targets.sandbox import SandboxTarget  # noqa: E402


def corpus(n: int) -> list[Case]:
    out: list[Case] = []
    strategies = [shebang_cases(), chain_cases(), vector_cases(), path_cases(), symlink_chain_cases(), execveat_cases()]
    per = -(-n // len(strategies))
    for strat in strategies:
        @settings(max_examples=per, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(strat)
        def collect(case: Case) -> None:
            out.append(case)
        collect()
    return out[:n]


def rate(fn, cases: list[Case], seconds: float) -> tuple[float, int]:
    done, t0 = 0, time.perf_counter()
    while True:
        for c in cases:
            fn(c)
        done += len(cases)
        el = time.perf_counter() - t0
        if el >= seconds:
            return done / el, done


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=1200)
    ap.add_argument("--seconds", type=float, default=5.0)
    a = ap.parse_args()
    t0 = time.perf_counter()
    cases = corpus(a.cases)
    print(f"corpus: {len(cases)} cases drawn in {time.perf_counter() - t0:.1f}s")
    prof = model.profile(os.uname().release)
    r, n = rate(lambda c: model.predict(c, prof), cases, a.seconds)
    print(f"model:   {r:10.0f} predictions/s  ({n} predictions, profile {prof.name})")

    ex = Executor()
    r, n = rate(ex.run, cases, a.seconds)
    print(f"sandbox: {r:10.0f} cases/s        (one case at a time, as a test does; 1 executor; {n} cases)")
    ex.close()

    ex = Executor()
    r, n = rate_batch(ex.run_many, cases, a.seconds)
    print(f"sandbox: {r:10.0f} cases/s        (pipelined corpus, 1 executor; {n} cases)")
    ex.close()

    target = SandboxTarget()
    r, n = rate_batch(target.run_many, cases, a.seconds)
    print(f"sandbox: {r:10.0f} cases/s        (pipelined corpus, {os.cpu_count()} executors; {n} cases; "
          f"host kernel {os.uname().release})")
    target.close()


def rate_batch(fn, cases: list[Case], seconds: float) -> tuple[float, int]:
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        fn(cases)
        done += len(cases)
    return done / (time.perf_counter() - t0), done


if __name__ == "__main__":
    main()
