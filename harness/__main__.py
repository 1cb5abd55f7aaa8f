"""python -m harness run CASES.json --target NAME [--kernel VERSION]
          python -m harness diff CASES.json --targets T1,T2,..."""
from __future__ import annotations

import argparse
import json
import signal
import sys

from contract.case import Case, CaseError, dumps_outcome, load_cases_each

from .protocol import ProtocolError
from .targets import TARGETS, TargetBroken, TargetUnavailable, get_target


def cmd_run(args: argparse.Namespace) -> int:
    """One outcome line per case, in order, streamed as they come.  A case
    that is malformed (or that its target cannot set up) gets a
    `case-error` line naming its field; the others still run."""
    try:
        with open(args.cases, "rb") as f:
            items = load_cases_each(f.read(), source=args.cases)
    except (OSError, CaseError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    bad = 0
    for it in items:
        if isinstance(it, CaseError):
            print(f"error: {it}", file=sys.stderr)
            bad += 1
    if bad == len(items):
        for it in items:
            assert isinstance(it, CaseError)
            print(json.dumps(case_error(it)))
        return 2
    try:
        target = get_target(args.target, args.kernel, args.modules)
    except (TargetUnavailable, TargetBroken) as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    chunk = 64 if len(items) > 64 else 1  # a corpus: let the target parallelise
    try:
        for i in range(0, len(items), chunk):
            part = items[i:i + chunk]
            cases = [c for c in part if isinstance(c, Case)]
            outs = iter(_run_chunk(target, cases))
            for it in part:
                o = case_error(it) if isinstance(it, CaseError) else next(outs)
                if o.get("outcome") == "case-error" and not isinstance(it, CaseError):
                    print(f"error: {args.cases}: case {items.index(it)}: {o['field']}: {o['error']}",
                          file=sys.stderr)
                    bad += 1
                print(dumps_outcome(o))
            sys.stdout.flush()
    finally:
        target.close()
    return 2 if bad else 0


def case_error(e: CaseError) -> dict:
    return {"outcome": "case-error", "field": e.field, "error": str(e)}


def _run_chunk(target, cases: list[Case]) -> list[dict]:
    """Outcomes of a chunk; if the target breaks on it, case by case, so one
    case that kills a target costs only its own line."""
    if not cases:
        return []
    from .targets.base import case_unsupported
    if any(case_unsupported(target, c) for c in cases):  # extensions the target would ignore
        return [{"outcome": "skip", "reason": case_unsupported(target, c)} if case_unsupported(target, c)
                else _run_chunk(target, [c])[0] for c in cases]
    try:
        return target.run_many(cases) if len(cases) > 1 else [target.run(cases[0])]
    except (ProtocolError, OSError) as e:
        if len(cases) == 1:
            return [{"outcome": "target-error", "error": str(e)}]
    return [o for c in cases for o in _run_chunk(target, [c])]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m harness", description="execspec harness")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run cases on a target; one outcome line per case")
    r.add_argument("cases", help="a case file: one case object or a JSON list of cases")
    r.add_argument("--target", default="sandbox", help=TARGETS)
    r.add_argument("--kernel", default=None,
                   help="model: the profile, e.g. 6.18, 5.10.223, 6.12+543841d18060; qemu: the image, "
                        "debian-5.10|debian-6.1|debian-6.12|debian-7.2|debian-7.3|debian:SUITE or a bzImage path")
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


def _terminate(signum: int, _frame: object) -> None:
    # SIGTERM/SIGHUP as an exit: every finally (a simulator's case root, a
    # guest, a container) still runs; SIGKILL is left to the next run's sweep
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    for _sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(_sig, _terminate)
    try:
        sys.exit(main())
    except BrokenPipeError:  # e.g. piped into head: the reader has what it wanted
        sys.stderr.close()
        sys.exit(0)
