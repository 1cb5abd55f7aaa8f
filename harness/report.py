"""python -m harness report --target sim:proot [--examples N] [--out DIR]

A divergence report for a simulator: the suites' generators run against it
and the model (the host kernel's profile); mismatches are grouped into
classes (which generator, which fields differ, outcome kinds and errnos),
each class shrunk by Hypothesis to a minimal case, which is then checked to
reproduce on the simulator and NOT on the host kernel (sandbox).  Written
as Markdown and JSON under reports/<simulator>/, with one case file and its
replay commands per class.  simulators/known.json lists the classes already
known (with an upstream link where one exists); the report marks the rest
as new.  The model and the kernel stay the reference: a class the host
kernel shares is a model bug, reported apart, never a simulator's.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis.errors import NoSuchExample

import model

from contract.case import Case, case_to_json, diff_outcomes, dumps_outcome, outcome_to_json
from .targets import TargetBroken, TargetUnavailable, get_target

ROOT = Path(__file__).resolve().parent.parent


def strategies() -> dict:
    from hypothesis import strategies as st

    from generators import elf, execveat, paths, shebang, vectors
    from generators.selftest_shapes import selftest_shapes
    from generators.writers import with_writers

    from contract.case import case_from_json
    return {"shebang": shebang.shebang_cases(), "shebang-chain": shebang.chain_cases(),
            "selftest-shapes": st.sampled_from([case_from_json(d) for _, d in selftest_shapes()]),
            "argv-envp": vectors.vector_cases(),
            "paths": paths.path_cases(), "symlinks": paths.symlink_chain_cases(),
            "execveat": execveat.execveat_cases(), "elf-valid": elf.valid_programs(),
            "elf-interp": elf.interp_cases(), "elf-mutated": elf.mutated_programs(),
            "text-busy": with_writers(st.one_of(shebang.chain_cases(), paths.path_cases(), elf.interp_cases()))}


def _kind(o: dict) -> str:
    k = o.get("outcome", "?")
    if k == "error":
        return f"error {o.get('errno')}"
    if k == "signal":
        return f"signal {o.get('signal')}"
    return k


def classify(source: str, expected: dict, observed: dict, observable) -> str | None:
    """A class key, or None when the simulator agrees with the model."""
    diff = diff_outcomes(expected, observed, observable)
    if not diff:
        return None
    fields = sorted(line.split(":", 1)[0].strip() for line in diff)
    return f"{source}: {', '.join(fields)} | model {_kind(expected)} -> simulator {_kind(observed)}"


class Reporter:
    def __init__(self, target, examples: int, shrink_examples: int):
        self.target = target
        self.profile = model.profile(target.kernel)
        self.examples = examples
        self.shrink_examples = shrink_examples
        self.classes: dict[str, dict] = {}
        self.cases_run = 0
        self.skipped = 0

    def key(self, source: str, case: Case) -> str | None:
        if self.target.skip_reason(case):
            return None
        expected = model.predict(case, self.profile)
        if expected["outcome"] == "unmodelled":
            return None
        observed = self.target.run(case)
        self.cases_run += 1
        if observed.get("outcome") == "skip":
            return None
        if source == "text-busy" and "ETXTBSY" not in (expected.get("errno"), observed.get("errno")):
            return None  # the writers changed nothing: the other generators' classes cover it
        return classify(source, expected, observed, self.target.observable)

    def explore(self, source: str, strat) -> None:
        @settings(max_examples=self.examples, derandomize=True, database=None, deadline=None,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(strat)
        def run(case: Case) -> None:
            if self.target.skip_reason(case):
                self.skipped += 1
                return
            k = self.key(source, case)
            if k is not None and k not in self.classes:
                self.classes[k] = {"source": source, "first": case}
        run()

    def shrink(self, key: str, strat) -> Case:
        try:
            return find(strat, lambda c: self.key(self.classes[key]["source"], c) == key,
                        settings=settings(max_examples=self.shrink_examples, database=None, deadline=None,
                                          suppress_health_check=list(HealthCheck)))
        except (NoSuchExample, Exception):
            return self.classes[key]["first"]


def write(out: Path, target, rep: Reporter, host, known: list, seconds: float) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("class-*.json"):
        old.unlink()
    rows = []
    for i, (key, c) in enumerate(sorted(rep.classes.items()), 1):
        case: Case = c["case"]
        path = out / f"class-{i:02d}.json"
        path.write_text(json.dumps(case_to_json(case), ensure_ascii=False, indent=1) + "\n")
        rows.append({"class": i, "key": key,
                     "case": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path),
                     "model": outcome_to_json(c["expected"]), "simulator": outcome_to_json(c["observed"]),
                     "host_kernel": outcome_to_json(c["host"]) if c["host"] is not None else None,
                     "host_agrees_with_model": c["host_ok"]})
    label(rows, known)
    data = {"target": target.describe(), "target_name": target.name, "profile": rep.profile.name,
            "cases_run": rep.cases_run, "skipped": rep.skipped, "seconds": round(seconds, 1), "classes": rows}
    return render(out, data)


def label(rows: list[dict], known: list) -> None:
    """Known or new, from simulators/known.json's patterns."""
    for r in rows:
        k = next((e for e in known if re.search(e["pattern"], r["key"])), None)
        r.update(status="known" if k else "new", description=(k or {}).get("description"),
                 link=(k or {}).get("link"))


def render(out: Path, data: dict) -> tuple[Path, Path]:
    rows = data["classes"]
    name = data.get("target_name", "?")
    j = out / "report.json"
    j.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
    md = [f"# Divergence report: {name}", "",
          f"- Target: {data['target']}",
          f"- Reference: the model, profile {data['profile']} (the host kernel); every class's case was "
          f"also run on the host kernel (sandbox).",
          f"- {data['cases_run']} cases run, {data['skipped']} skipped as inexpressible, {len(rows)} classes "
          f"({sum(r['status'] == 'new' for r in rows)} new, {sum(r['status'] == 'known' for r in rows)} known), "
          f"{data['seconds']:.0f} s.", ""]
    for r in rows:
        md += [f"## Class {r['class']} ({r['status']}): {r['key']}", ""]
        if r["description"]:
            md.append(r["description"] + (f" ({r['link']})" if r["link"] else ""))
            md.append("")
        md += [f"- model:     `{json.dumps(r['model'], ensure_ascii=False)}`",
               f"- simulator: `{json.dumps(r['simulator'], ensure_ascii=False)}`",
               f"- host kernel: `{json.dumps(r['host_kernel'], ensure_ascii=False)}`"
               + ("" if r["host_agrees_with_model"] else "  **(the host kernel disagrees with the model too: "
                                                          "a model bug, not the simulator's)**"),
               f"- case: `{r['case']}`",
               f"- replay: `python -m harness run {r['case']} --target {name}` "
               f"and `python -m harness run {r['case']} --target sandbox`", ""]
    m = out / "report.md"
    m.write_text("\n".join(md))
    return m, j


def _known(sim: str) -> list:
    return json.loads((ROOT / "simulators" / "known.json").read_text()).get(sim, [])


def cmd_report(args: argparse.Namespace) -> int:
    if args.relabel:  # known/new again after simulators/known.json changed, without rerunning
        out = Path(args.out) if args.out else ROOT / "reports" / args.target.replace("sim:", "").replace("/", "_")
        data = json.loads((out / "report.json").read_text())
        label(data["classes"], _known(args.target.replace("sim:", "")))
        data.setdefault("target_name", args.target)
        m, j = render(out, data)
        print(f"relabelled {m} and {j}")
        return 0
    try:
        target = get_target(args.target, None, None)
        host = get_target("sandbox", None, None)
    except (TargetUnavailable, TargetBroken) as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    t0 = time.monotonic()
    rep = Reporter(target, args.examples, args.shrink)
    strats = strategies()
    try:
        for source, strat in strats.items():
            before = len(rep.classes)
            rep.explore(source, strat)
            print(f"# {source}: {len(rep.classes) - before} new classes ({rep.cases_run} cases so far)",
                  file=sys.stderr, flush=True)
        for key, c in rep.classes.items():
            case = rep.shrink(key, strats[c["source"]])
            c["case"] = case
            c["expected"] = model.predict(case, rep.profile)
            c["observed"] = target.run(case)
            c["host"] = host.run(case)
            c["host_ok"] = not diff_outcomes(c["expected"], c["host"], host.observable)
            still = classify(c["source"], c["expected"], c["observed"], target.observable) == key
            print(f"# shrunk: {key}\n#   {dumps_outcome(c['observed'])}"
                  + ("" if still else "  (the shrunk case changed class: kept as found)"), file=sys.stderr)
            if not still:
                c["case"] = c["first"]
                c["expected"] = model.predict(c["first"], rep.profile)
                c["observed"] = target.run(c["first"])
                c["host"] = host.run(c["first"])
                c["host_ok"] = not diff_outcomes(c["expected"], c["host"], host.observable)
    finally:
        host.close()
        target.close()
    known = _known(target.desc["name"]) if hasattr(target, "desc") else []
    out = Path(args.out) if args.out else ROOT / "reports" / target.name.replace("sim:", "").replace("/", "_")
    m, j = write(out, target, rep, host, known, time.monotonic() - t0)
    print(f"{len(rep.classes)} classes from {rep.cases_run} cases in {time.monotonic() - t0:.0f} s: {m} and {j}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("report", help="divergence report of a simulator target (sim:proot, sim:qemu-user, ...)")
    r.add_argument("--target", required=True, help="sim:proot, sim:qemu-user or sim:/path/to/desc.json")
    r.add_argument("--examples", type=int, default=100, help="generated cases per generator")
    r.add_argument("--shrink", type=int, default=150, help="cases tried while shrinking each class")
    r.add_argument("--out", default=None, help="directory (default reports/<simulator>/)")
    r.add_argument("--relabel", action="store_true",
                   help="only re-mark known/new classes of an existing report from simulators/known.json")
    r.set_defaults(func=cmd_report)
