"""Figures for the docker target: image build (fresh and cached), container
start, and cases/s through the container, one at a time and pipelined.

    python bench/containers.py [--cases N]      (needs an engine: docker/engine.sh start)
"""
from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import corpus  # noqa: E402
from harness.targets.docker import DockerTarget, _image_module, engine  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=1200)
    args = ap.parse_args()
    cases = corpus(args.cases)
    client = engine()
    ctx, tag = _image_module().context()
    ref = f"{_image_module().REPO}:{tag}"
    try:
        client.images.remove(ref, force=True)
    except Exception:
        pass
    t0 = time.perf_counter()
    _image_module().ensure_image(client)
    print(f"image build (fresh):        {time.perf_counter() - t0:6.2f} s")
    t0 = time.perf_counter()
    t = DockerTarget()
    print(f"target up (image cached):   {time.perf_counter() - t0:6.2f} s "
          f"(container start {t.start_seconds:.2f} s, mode {t.mode.split(' ')[0]})")
    try:
        t0 = time.perf_counter()
        for c in cases[:300]:
            t.run(c)
        print(f"one case at a time:         {300 / (time.perf_counter() - t0):6.0f} cases/s")
        t0 = time.perf_counter()
        t.run_many(cases)
        print(f"pipelined, {os.cpu_count()} executors:     {len(cases) / (time.perf_counter() - t0):6.0f} cases/s")
    finally:
        t.close()


if __name__ == "__main__":
    main()
