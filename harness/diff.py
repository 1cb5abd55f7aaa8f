"""python -m harness diff CASES.json --targets sandbox,qemu:debian-5.10,model:6.1

Runs the same cases on several targets (real kernels, guests, model
profiles) and prints their outcomes side by side, marking the fields that
differ: the tool for confirming a regression between two kernel builds.
Exit status 1 when any case differs (usable from `git bisect run`), 0 when
all agree, 2/3 for bad input or an unavailable target.
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
import time

from contract.case import Case, CaseError, load_cases, outcome_to_json

from .targets import TARGETS, Target, TargetBroken, TargetUnavailable, get_target

# Fields compared: what every chosen target can observe.  "reason" (skip,
# unmodelled) is explanatory text, and "alternatives" (racy outcomes the
# model allows) a model annotation: shown, never compared.
_IGNORED = {"reason", "alternatives"}


def _start(spec: str, modules: str | None) -> Target:
    name, _, arg = spec.partition(":")
    if name in ("sandbox", "model"):
        return get_target(name, arg or None, modules)
    return get_target(spec, None, modules)


def _start_all(specs: list[str], modules: str | None) -> list[Target]:
    """Guests boot concurrently (each takes seconds under TCG)."""
    out: list[Target | BaseException | None] = [None] * len(specs)

    def boot(i: int) -> None:
        try:
            out[i] = _start(specs[i], modules)
        except BaseException as e:  # reported below, after the others are up
            out[i] = e
    threads = [threading.Thread(target=boot, args=(i,)) for i in range(len(specs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    errors = [(s, o) for s, o in zip(specs, out) if isinstance(o, BaseException)]
    if errors:
        for o in out:
            if isinstance(o, Target):
                o.close()
        spec, e = errors[0]
        raise TargetUnavailable(f"{spec}: {e}")
    return out  # type: ignore[return-value]


def _run_all(targets: list[Target], cases: list[Case]) -> list[list[dict]]:
    """Each target's outcomes (as case-format JSON), targets side by side."""
    results: list[list[dict] | BaseException] = [[] for _ in targets]

    def work(i: int) -> None:
        try:
            results[i] = [outcome_to_json(o) for o in targets[i].run_many(cases)]
        except BaseException as e:
            results[i] = e
    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(targets))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results  # type: ignore[return-value]


def _value(outcome: dict, field: str) -> str:
    if field == "concurrent" and field in outcome:  # the siblings, each without the model's alternatives
        return json.dumps(sorted(json.dumps({k: v for k, v in o.items() if k not in _IGNORED}, sort_keys=True)
                                 for o in outcome[field]), ensure_ascii=False)
    return json.dumps(outcome[field], ensure_ascii=False) if field in outcome else "-"


def compare(outcomes: list[dict], observable: frozenset[str]) -> list[str]:
    """Fields whose values are not the same on every target."""
    fields = sorted({f for o in outcomes for f in o} - _IGNORED)
    # The model predicts no exit status for crafted programs: compare it
    # only among the targets that report one.
    return [f for f in fields if f in observable and
            len({_value(o, f) for o in outcomes if f != "status" or f in o}) > 1]


def render(specs: list[str], cases: list[Case], table: list[list[dict]], observable: frozenset[str],
           only_diff: bool) -> tuple[str, int]:
    width = max(len(s) for s in specs)
    lines: list[str] = []
    differing = 0
    for k, case in enumerate(cases):
        outcomes = [col[k] for col in table]
        diff = compare(outcomes, observable)
        differing += bool(diff)
        if only_diff and not diff:
            continue
        label = f" {case.name}" if case.name else ""
        lines.append(f"{'≠' if diff else '='} case {k + 1}{label}")
        if not diff:
            lines.append(f"    all: {json.dumps(outcomes[0], ensure_ascii=False)}")
            continue
        same = {f: v for f, v in outcomes[0].items()
                if f not in diff and f not in _IGNORED and all(o.get(f) == v for o in outcomes)}
        if same:
            lines.append(f"    same: {json.dumps(same, ensure_ascii=False)}")
        for f in diff:
            lines.append(f"  ≠ {f}")
            for s, o in zip(specs, outcomes):
                lines.append(f"      {s:<{width}}  {_value(o, f)}")
        for s, o in zip(specs, outcomes):
            if "reason" in o:
                lines.append(f"    ({s}: {o['reason']})")
    lines.append(f"{len(cases)} cases on {len(specs)} targets: {differing} differ, {len(cases) - differing} agree")
    return "\n".join(lines), differing


def cmd_diff(args: argparse.Namespace) -> int:
    specs = [s.strip() for s in args.targets.split(",") if s.strip()]
    if len(specs) < 2:
        print("error: --targets needs at least two targets, comma-separated", file=sys.stderr)
        return 2
    try:
        with open(args.cases, "rb") as f:  # bytes: load_cases names bad UTF-8
            cases = load_cases(f.read(), source=args.cases)
    except (OSError, CaseError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    try:
        targets = _start_all(specs, args.modules)
    except (TargetUnavailable, TargetBroken) as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    try:
        for s, t in zip(specs, targets):
            print(f"# {s}: {t.describe()}", file=sys.stderr)
        table = _run_all(targets, cases)
    finally:
        for t in targets:
            t.close()
    observable = frozenset.intersection(*(t.observable for t in targets))
    if args.json:
        rows = [{"case": k + 1, "name": c.name, "differs": compare([col[k] for col in table], observable),
                 "outcomes": {s: col[k] for s, col in zip(specs, table)}} for k, c in enumerate(cases)]
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        differing = sum(bool(r["differs"]) for r in rows)
    else:
        text, differing = render(specs, cases, table, observable, args.only_diff)
        print(text)
    print(f"# {time.monotonic() - t0:.1f}s", file=sys.stderr)
    return 1 if differing else 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser("diff", help="run cases on several targets; print outcomes side by side")
    d.add_argument("cases", help="a case file: one case object or a JSON list of cases")
    d.add_argument("--targets", required=True,
                   help=f"comma-separated, each one of: {TARGETS}; "
                        "e.g. sandbox,qemu:debian-5.10,qemu:debian-6.12")
    d.add_argument("--modules", default=None, help="qemu: binfmt_misc.ko or a modules tree for custom images")
    d.add_argument("--only-diff", action="store_true", help="print only the cases that differ")
    d.add_argument("--json", action="store_true", help="machine-readable rows instead of the table")
    d.set_defaults(func=cmd_diff)
