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
import os
import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis.errors import NoSuchExample

import model
from contract.case import (
    Case,
    CaseError,
    Exec,
    File,
    case_to_json,
    diff_fields,
    diff_outcomes,
    dumps_outcome,
    outcome_kind,
    outcome_to_json,
)

from .causes.search import (
    TOGETHER,
    _cause,
    background,
    background_key,
    classify,
    group_classes,
    split_by_cause,
)
from .targets import TargetBroken, TargetUnavailable, get_target

ROOT = Path(__file__).resolve().parent.parent


def strategies() -> dict:
    from hypothesis import strategies as st

    from contract.case import case_from_json
    from generators import elf, execveat, paths, shebang, vectors
    from generators.selftest_shapes import selftest_shapes
    from generators.writers import with_writers
    return {"shebang": shebang.shebang_cases(), "shebang-chain": shebang.chain_cases(),
            "selftest-shapes": st.sampled_from([case_from_json(d) for _, d in selftest_shapes()]),
            "argv-envp": vectors.vector_cases(),
            "paths": paths.path_cases(), "symlinks": paths.symlink_chain_cases(),
            "execveat": execveat.execveat_cases(), "elf-valid": elf.valid_programs(),
            "elf-interp": elf.interp_cases(), "elf-mutated": elf.mutated_programs(),
            "text-busy": with_writers(st.one_of(shebang.chain_cases(), paths.path_cases(), elf.interp_cases()))}


def corner_cases() -> list[tuple[str, Case]]:
    """The fixed corner probes, run before the random search."""
    from generators.common import exact_path, probe, script
    P = probe(b"/bin/probe", "P")

    def c(files, path, argv=(b"x",), envp=(b"K=V",), **kw):
        return Case(files=tuple(files), exec=Exec(path=path, argv=argv, envp=envp, **kw))
    long_path = exact_path(4095, b"p")
    return [
        ("FIFO as the program", c([File(path=b"/f", type="fifo", mode=0o755)], b"/f")),
        ("NULL argv", c([P], b"/bin/probe", argv=None)),
        ("argc 0", c([P], b"/bin/probe", argv=())),
        ("ETXTBSY: the program held open for writing", c([replace(P, open_for_write=True)], b"/bin/probe")),
        ("ETXTBSY: the #! interpreter held open for writing",
         c([replace(P, open_for_write=True), script(b"/s", b"#!/bin/probe\n")], b"/s")),
        ("self-referencing #!", c([script(b"/s", b"#!/s\n")], b"/s")),
        ("\\r ending the #! interpreter path", c([P, script(b"/s", b"#!/bin/probe\r\n")], b"/s")),
        ("nested #! (a script as the interpreter)",
         c([P, script(b"/a", b"#!/bin/probe A\n"), script(b"/b", b"#!/a B\n")], b"/b")),
        ("a 4095-byte path", c([probe(long_path, "L")], long_path)),
        ("a 4096-byte path", c([P], b"/" + b"a/" * 2047 + b"b")),
    ]


SHEBANG_PROBES = (600, 8000)  # #! argument lengths tried; the last is the "no limit up to" bound


def shebang_buffer(target, profile) -> str:
    """The simulator's #! buffer, measured: how much of a long #! argument
    reaches the interpreter, against the model's (BINPRM_BUF_SIZE 256).
    An argument that arrives whole at every length tried is "no limit up
    to" the longest line, never a size computed from it."""
    from generators.common import probe, script
    whole = 0  # the longest #! line that arrived whole
    for n in SHEBANG_PROBES:
        line = b"#!/bin/probe " + b"a" * n
        case = Case(files=(probe(b"/bin/probe", "P"), script(b"/s", line + b"\n")),
                    exec=Exec(path=b"/s", argv=(b"s",), envp=()))
        exp, obs = model.predict(case, profile), target.run(case)
        if exp.get("outcome") != "exec" or obs.get("outcome") != "exec" or len(obs.get("argv") or ()) < 2:
            what = f"{outcome_kind(obs)} with a {len(line) + 1}-byte #! line"
            return f"no limit up to {whole} bytes, then {what}" if whole else f"not measurable ({what})"
        n_model, n_sim = len(exp["argv"][1]), len(obs["argv"][1])
        if n_sim < n:  # cut: the buffer is where the cut falls, as the model's 256 is
            kept = 255 + n_sim - n_model  # Linux keeps 255 bytes of the line (its buffer ends in a NUL)
            return f"#! line cut after {kept} bytes (Linux: after 255, BINPRM_BUF_SIZE 256)"
        whole = len(line) + 1
    return (f"no limit up to {whole} bytes (a {n}-byte #! argument reaches the interpreter whole; "
            f"Linux: cut after 255, BINPRM_BUF_SIZE 256)")


def declared_load_failure(target, expected: dict, observed: dict) -> bool:
    """A description's declared "always": {"load_failure_exit": [STATUS...]}:
    the simulator loads the program itself and can only report a load
    failure as its own exit status (qemu-user), never execve()'s errno --
    a difference of every failing case, declared, not a class.  Only those
    statuses: a program that runs and exits where Linux refuses it is
    still a class."""
    desc = getattr(target, "desc", {}) or {}
    return (expected.get("outcome") == "error" and observed.get("outcome") == "exit"
            and observed.get("status") in desc.get("always", {}).get("load_failure_exit", ()))


class BrokenDescription(RuntimeError):
    pass


class Reporter:
    def __init__(self, target, examples: int, shrink_examples: int, host=None):
        self.target = target
        self.host = host  # the host kernel: completes an exit status the model leaves open
        self.profile = model.profile(target.kernel)
        self.examples = examples
        self.shrink_examples = shrink_examples
        self.classes: dict[str, dict] = {}
        self.cases_run = 0
        self.skipped = 0
        self.seen: list[tuple[str, str]] = []  # (model kind, simulator kind) of the first cases
        # fields the simulator gets wrong on plain execs -> which plain exec shows it (background())
        self.background: dict[str, str] | None = None
        self.last: tuple[str, str] = ("?", "?")  # (model kind, simulator kind) of the last case keyed

    def check_broken(self) -> None:
        """Every case failing the same way while the model expects varied
        outcomes is a broken description, not a result."""
        if len(self.seen) < 20 or len(self.seen) > 200:
            return
        sims = {o for _, o in self.seen}
        if len(sims) == 1 and len({e for e, _ in self.seen}) >= 2 and not sims <= {"exec"}:
            raise BrokenDescription(f"the first {len(self.seen)} cases all gave '{next(iter(sims))}' on "
                                    f"{self.target.name} while the model expected "
                                    f"{sorted({e for e, _ in self.seen})}: the description is broken "
                                    f"(command, launcher, chroot, root_mounts?), these are not results")

    def complete(self, case: Case, expected: dict, observed: dict) -> dict:
        """The model's prediction, with the exit status the host kernel gives
        where the model says only that a crafted program exits (it does not
        run the program's code): an "exit" of any status would otherwise
        agree with a simulator's own exit 255 for an ELF it cannot load."""
        if expected.get("outcome") != "exit" or "status" in expected or observed.get("outcome") != "exit" \
                or self.host is None:
            return expected
        h = self.host.run(case)
        return {**expected, "status": h["status"]} if h.get("outcome") == "exit" and "status" in h else expected

    def class_keys(self, expected: dict, observed: dict) -> list[str]:
        """The classes a divergence belongs to: one per background field when
        those are all that differ (each field the simulator gets wrong on
        every plain exec is its own cause), else classify()'s key."""
        diff = diff_outcomes(expected, observed, self.target.observable)
        fields = set(diff_fields(diff))
        if diff and self.background and fields <= self.background.keys() \
                and expected.get("outcome") == observed.get("outcome") == "exec":
            return [background_key(f, self.background[f]) for f in sorted(fields)]
        k = classify("", expected, observed, self.target.observable)
        return [k] if k else []

    def keys(self, source: str, case: Case) -> list[str]:
        if self.target.skip_reason(case):
            return []
        expected = model.predict(case, self.profile)
        if expected["outcome"] == "unmodelled":
            return []
        observed = self.target.run(case)
        self.cases_run += 1
        if observed.get("outcome") == "skip":
            return []
        expected = self.complete(case, expected, observed)
        self.last = (outcome_kind(expected), outcome_kind(observed))
        if len(self.seen) <= 200:
            self.seen.append((expected["outcome"], outcome_kind(observed)))
            self.check_broken()
        if source == "text-busy" and "ETXTBSY" not in (expected.get("errno"), observed.get("errno")):
            return []  # the writers changed nothing: the other generators' classes cover it
        if declared_load_failure(self.target, expected, observed):
            return []
        return self.class_keys(expected, observed)

    def is_background(self, key: str) -> bool:
        return key in {background_key(f, scope) for f, scope in (self.background or {}).items()}

    def key(self, source: str, case: Case) -> str | None:
        """The case's first class, or None when the simulator agrees."""
        return next(iter(self.keys(source, case)), None)

    def explore(self, source: str, strat) -> None:
        @settings(max_examples=self.examples, derandomize=True, database=None, deadline=None,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(strat)
        def run(case: Case) -> None:
            if self.target.skip_reason(case):
                self.skipped += 1
                return
            for k in self.keys(source, case):
                self.note(k, source, case, source)
        run()

    def note(self, key: str, source: str, case: Case, found_by: str) -> None:
        """A case of class `key`: the first one is kept, with every generator
        and every (model -> simulator) outcome pair the class was seen with."""
        c = self.classes.setdefault(key, {"source": source, "first": case, "sources": [], "pairs": []})
        if found_by not in c["sources"]:
            c["sources"].append(found_by)
        pair = f"{self.last[0]} -> {self.last[1]}"
        if pair not in c["pairs"]:
            c["pairs"].append(pair)
        # the first case of each (pair, generator): one cause per class is checked on each
        c.setdefault("subs", {}).setdefault(f"{pair} | {found_by}", {"pair": pair, "source": found_by, "first": case})

    def shrink(self, key: str, strat) -> Case:
        try:
            return find(strat, lambda c: key in self.keys(self.classes[key]["source"], c),
                        settings=settings(max_examples=self.shrink_examples, database=None, deadline=None,
                                          suppress_health_check=list(HealthCheck)))
        except (NoSuchExample, Exception):
            return self.classes[key]["first"]


def representative(members: list[tuple[str, dict]], gkey: str, target, rep: Reporter, host
                   ) -> tuple[str, dict, str | None, str | None]:
    """The class's case and its reproducer under the simulator: the first
    member (smallest first) the reproducer can express; else the first with
    its credentials dropped (set-id bits, owners, an identity: what the
    reproducer does not write yet), when that is still a case of the class;
    else the first, with why it has no reproducer -- one class never stops
    the report."""
    from .causes import without_creds
    from .simrepro import reproducer
    if not hasattr(target, "desc"):
        key, c = members[0]
        return key, c, None, None
    why = None
    for key, c in members:
        try:
            return key, c, reproducer(c["case"], target, rep.profile, c["expected"], c["observed"], c["host"],
                                      gkey), None
        except CaseError as e:
            why = why or str(e)
    key, c = members[0]
    plain = without_creds(c["case"])
    if plain != c["case"]:
        obs = target.run(plain)
        exp = rep.complete(plain, model.predict(plain, rep.profile), obs)
        if (c.get("gkey") or key) in rep.class_keys(exp, obs):  # (a shape split by cause: "key [cause]")
            h = host.run(plain)
            c2 = {**c, "case": plain, "expected": exp, "observed": obs, "host": h,
                  "host_ok": not diff_outcomes(exp, h, host.observable)}
            try:
                return key, c2, reproducer(plain, target, rep.profile, exp, obs, h, gkey), None
            except CaseError as e:
                why = str(e)
    return key, c, None, why


def write(out: Path, target, rep: Reporter, host, known: list, seconds: float, header: dict | None = None
          ) -> tuple[Path, Path]:
    header = {**(header or {}), "background": rep.background or {}}
    out.mkdir(parents=True, exist_ok=True)
    for old in [*out.glob("class-*.json"), *out.glob("class-*.sh")]:
        old.unlink()
    groups = group_classes(rep.classes)
    rows = []
    for i, (gkey, members) in enumerate(sorted(groups.items()), 1):
        members.sort(key=lambda kc: (bool(kc[1].get("together")), len(json.dumps(case_to_json(kc[1]["case"])))))
        key, c, script, why = representative(members, gkey, target, rep, host)
        case: Case = c["case"]
        path = out / f"class-{i:02d}.json"
        path.write_text(json.dumps(case_to_json(case), ensure_ascii=False, indent=1) + "\n")
        sh = out / f"class-{i:02d}.sh"
        if script is not None:
            sh.write_text(script)
            sh.chmod(0o755)

        def rel(p: Path) -> str:
            return str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p)
        rows.append({"class": i, "key": gkey, "cause": c.get("cause"), "shapes": [k for k, _ in members],
                     "generators": sorted({s for _, m in members for s in m.get("sources", [m["source"]])}),
                     "pairs": sorted({p for _, m in members for p in m.get("pairs", ())}),
                     "together": sorted({m["together"] for _, m in members if m.get("together")}),
                     "case": rel(path), "reproducer": rel(sh) if sh.exists() else None, "no_reproducer": why,
                     "model": outcome_to_json(c["expected"]), "simulator": outcome_to_json(c["observed"]),
                     "host_kernel": outcome_to_json(c["host"]) if c["host"] is not None else None,
                     "host_agrees_with_model": c["host_ok"]})
    label(rows, known)
    data = {"target": target.describe(), "target_name": target.name, "profile": rep.profile.name,
            "header": header or {}, "cases_run": rep.cases_run, "skipped": rep.skipped,
            "shapes": len(rep.classes), "seconds": round(seconds, 1), "classes": rows}
    return render(out, data)


def label(rows: list[dict], known: list) -> None:
    """Known or new, from simulators/known.json's patterns; a known class
    carries its upstream report (link) or the trackers searched for one."""
    for r in rows:
        # the class's own key first: a shape merged into it may match another entry
        k = next((e for e in known if re.search(e["pattern"], r["key"])), None) or next(
            (e for e in known if any(re.search(e["pattern"], x) for x in r.get("shapes", ()))), None)
        r.update(status="known" if k else "new", description=(k or {}).get("description"),
                 link=(k or {}).get("link"), searched=(k or {}).get("searched"))


def render(out: Path, data: dict) -> tuple[Path, Path]:
    rows = data["classes"]
    name = data.get("target_name", "?")
    j = out / "report.json"
    j.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
    h = data.get("header", {})
    md = [f"# Divergence report: {name}", "",
          f"- Target: {data['target']}",
          f"- Simulator version: {h.get('version', '?')}; measured #! line limit: {h.get('shebang_buffer', '?')}",
          f"- Host kernel: {h.get('host_kernel', '?')}; execspec commit: {h.get('execspec_commit', '?')}",
          f"- Declared always-present differences (the description's \"always\", compared as declared, never "
          f"classes): `{json.dumps(h.get('declared') or {}, ensure_ascii=False)}`"
          + (f" -- {h['declared_why']}" if h.get("declared_why") else ""),
          f"- Reference: the model, profile {data['profile']} (the host kernel); every class's case was "
          f"also run on the host kernel (sandbox).",
          "- Classes are causes: keyed on what the simulator did (not on the generator; a load failure on the "
          "simulator's outcome alone, whatever errno Linux gives), shapes and outcome pairs merged when the "
          "same one-change edit of their case makes the divergence vanish (or two edits in sequence: a pair "
          "whose parts are classes is listed under the first); a field the simulator gets wrong on a plain "
          "exec is one class of its own.  Fixed corner probes "
          "(FIFO, NULL argv, argc 0, ETXTBSY, self-#!, \\r, nested #!, 4095/4096-byte paths) ran first.",
          f"- Wrong on plain execs (measured first): "
          f"{', '.join(f'{k} ({v})' for k, v in (h.get('background') or {}).items()) or 'nothing'}.",
          f"- {data['cases_run']} cases run, {data['skipped']} skipped as inexpressible, "
          f"{data.get('shapes', len(rows))} shapes, {len(rows)} classes "
          f"({sum(r['status'] == 'new' for r in rows)} new, {sum(r['status'] == 'known' for r in rows)} known, "
          f"{sum(bool(r.get('link')) for r in rows)} with an upstream report), "
          f"{data['seconds']:.0f} s.", ""]
    for r in rows:
        md += [f"## Class {r['class']} ({r['status']}): {r['key']}", ""]
        if r["description"]:
            md.append(r["description"])
            md.append("")
            if r["link"]:
                md += [f"Upstream: {r['link']}", ""]
            elif r.get("searched"):
                md += [f"No upstream report found (searched: {r['searched']}).", ""]
        if r.get("shapes") and r["shapes"] != [r["key"]]:
            md.append(f"- shapes: {'; '.join(r['shapes'])}")
        if r.get("generators"):
            md.append(f"- found by: {', '.join(r['generators'])}")
        if len(r.get("pairs") or ()) > 1:
            md.append(f"- seen as (model -> simulator): {'; '.join(r['pairs'])}")
        for t in r.get("together") or ():
            md.append(f"- also met together with another class's cause in one case (each edit alone leaves a "
                      f"divergence, both together none): {t.replace(TOGETHER, ' + ')}")
        md += [f"- model:     `{json.dumps(r['model'], ensure_ascii=False)}`",
               f"- simulator: `{json.dumps(r['simulator'], ensure_ascii=False)}`",
               f"- host kernel: `{json.dumps(r['host_kernel'], ensure_ascii=False)}`"
               + ("" if r["host_agrees_with_model"] else "  **(the host kernel disagrees with the model too: "
                                                          "a model bug, not the simulator's)**"),
               f"- case: `{r['case']}`"
               + (f"; reproducer under the simulator: `{r['reproducer']}`" if r.get("reproducer") else
                  f"; no reproducer: {r['no_reproducer']}" if r.get("no_reproducer") else ""),
               f"- replay: `python -m harness run {r['case']} --target {name}` "
               f"and `python -m harness run {r['case']} --target sandbox`", ""]
    m = out / "report.md"
    m.write_text("\n".join(md))
    return m, j


def _known(sim: str) -> list:
    return json.loads((ROOT / "simulators" / "known.json").read_text()).get(sim, [])


def _header(target, profile) -> dict:
    """The report's header: simulator version and measured build, host
    kernel, execspec commit."""
    version = "unknown (no \"version\" command in its description)"
    if hasattr(target, "desc") and target.desc.get("version"):
        out, err = target.run_command(target.desc["version"])
        text = (out + err).decode("utf-8", "replace")
        lines = [x.strip() for x in text.splitlines() if re.search(r"\d+\.\d+", x)]
        m = re.search(r"\d+\.\d+\S*", lines[0]) if lines else None
        version = (f"{os.path.basename(target.desc['version'][0]).replace('{helper:', '').rstrip('}')} "
                   f"{m.group(0)}" + (f" ({lines[0][:120]})" if m and m.group(0) != lines[0] else "")) if m else "?"
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--abbrev=12"],
                                capture_output=True, text=True, timeout=10).stdout.strip() or "?"
        # dirty means code: reports/ being written by an earlier report does not count
        if subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no", "--", ".",
                           ":!reports"], capture_output=True, text=True, timeout=10).stdout.strip():
            commit += "-dirty"
    except (OSError, subprocess.SubprocessError):
        commit = "?"
    u = os.uname()
    declared = {k: v for k, v in (getattr(target, "desc", {}) or {}).get("always", {}).items() if k != "_why"}
    return {"version": version, "shebang_buffer": shebang_buffer(target, profile), "declared": declared,
            "declared_why": (getattr(target, "desc", {}) or {}).get("always", {}).get("_why"),
            "host_kernel": f"{u.release} {u.version}", "execspec_commit": commit}



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
    rep = Reporter(target, args.examples, args.shrink, host)
    strats = strategies()
    out = Path(args.out) if args.out else ROOT / "reports" / target.name.replace("sim:", "").replace("/", "_")
    try:
        header = _header(target, rep.profile)
        print(f"# {target.name}: {header['version']}; #! line limit {header['shebang_buffer']}", file=sys.stderr)
        rep.background = background(rep, target)
        print(f"# wrong on plain execs: {rep.background or 'nothing'}", file=sys.stderr)
        try:
            for name, case in corner_cases():  # the fixed corner probes first
                for k in rep.keys("corner", case):
                    rep.note(k, "corner", case, f"corner: {name}")
            print(f"# corner probes: {len(rep.classes)} classes", file=sys.stderr, flush=True)
            for source, strat in strats.items():
                before = len(rep.classes)
                rep.explore(source, strat)
                print(f"# {source}: {len(rep.classes) - before} new classes ({rep.cases_run} cases so far)",
                      file=sys.stderr, flush=True)
        except BrokenDescription as e:
            out.mkdir(parents=True, exist_ok=True)
            (out / "report.md").write_text(f"# BROKEN DESCRIPTION: {target.name}\n\n{e}\n")
            print(f"error: BROKEN DESCRIPTION: {e}", file=sys.stderr)
            return 4
        for key, c in rep.classes.items():
            if c["source"] == "corner":
                case = c["first"]
            else:
                case = rep.shrink(key, strats[c["source"]])
            c["case"] = case
            c["observed"] = target.run(case)
            c["expected"] = rep.complete(case, model.predict(case, rep.profile), c["observed"])
            if key not in rep.class_keys(c["expected"], c["observed"]):
                case = c["case"] = c["first"]  # the shrunk case changed class: kept as found
                c["observed"] = target.run(case)
                c["expected"] = rep.complete(case, model.predict(case, rep.profile), c["observed"])
            c["host"] = host.run(case)
            c["host_ok"] = not diff_outcomes(c["expected"], c["host"], host.observable)
            c["background"] = rep.is_background(key)
            c["cause"] = key.removeprefix("cause: ") if c["background"] else \
                _cause(rep, target, case, c["expected"], c["observed"])
            print(f"# shrunk: {key}\n#   {dumps_outcome(c['observed'])}  cause: {c['cause']}", file=sys.stderr)
        split_by_cause(rep, target, host)
    finally:
        host.close()
        target.close()
    known = _known(target.desc["name"]) if hasattr(target, "desc") else []
    m, j = write(out, target, rep, host, known, time.monotonic() - t0, header)
    print(f"{len(rep.classes)} shapes, {len(json.loads(j.read_text())['classes'])} classes from {rep.cases_run} "
          f"cases in {time.monotonic() - t0:.0f} s: {m} and {j}")
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
