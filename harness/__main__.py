"""python -m harness run CASES.json --target NAME [--kernel VERSION]
          python -m harness diff CASES.json --targets T1,T2,..."""
from __future__ import annotations

import argparse
import sys

from .case import CaseError, dumps_outcome, load_cases
from .targets import TargetBroken, TargetUnavailable, get_target


def cmd_run(args: argparse.Namespace) -> int:
    try:
        with open(args.cases, encoding="utf-8") as f:
            cases = load_cases(f.read(), source=args.cases)
    except (OSError, CaseError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        target = get_target(args.target, args.kernel, args.modules)
    except (TargetUnavailable, TargetBroken) as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    try:
        if len(cases) > 64:  # a corpus: let the target parallelise
            for i in range(0, len(cases), 1024):
                for o in target.run_many(cases[i:i + 1024]):
                    print(dumps_outcome(o))
                sys.stdout.flush()
        else:
            for c in cases:
                print(dumps_outcome(target.run(c)), flush=True)
    finally:
        target.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m harness", description="execspec harness")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run cases on a target; one outcome line per case")
    r.add_argument("cases", help="a case file: one case object or a JSON list of cases")
    r.add_argument("--target", default="sandbox", help="sandbox, model, qemu or qemu:IMAGE")
    r.add_argument("--kernel", default=None,
                   help="model: the profile, e.g. 6.18, 5.10.223, 6.12+543841d18060; "
                        "qemu: the image, debian-5.10|debian-6.1|debian-6.12|debian-7.2|debian-7.3|debian:SUITE or a bzImage path")
    r.add_argument("--modules", default=None, help="qemu: binfmt_misc.ko or a modules tree for a custom image")
    r.set_defaults(func=cmd_run)
    from . import backports, diff, features, report, repro
    backports.add_parser(sub)
    diff.add_parser(sub)
    report.add_parser(sub)
    features.add_parser(sub)
    repro.add_parser(sub)
    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. piped into head: the reader has what it wanted
        sys.stderr.close()
        sys.exit(0)
