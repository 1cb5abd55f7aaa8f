"""Which edit names a class's cause: the fields a simulator gets wrong on
plain execs (background), the one-change edit (or two in sequence) after
which the simulator agrees with the model, the split of a merged class by
cause, and the report's classes grouped by cause."""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import model
from contract.case import Case, Exec, diff_fields, diff_outcomes, outcome_kind

from . import edits
from .elf import WHOLE_PROGRAM

if TYPE_CHECKING:
    from harness.report import Reporter


def classify(source: str, expected: dict, observed: dict, observable) -> str | None:
    """A class key, or None when the simulator agrees with the model.  The
    key is what the simulator did (differing fields, outcome kinds), not
    which generator found it: one cause found by five generators is one
    class.  (`source` is kept for callers; it no longer splits classes.)"""
    diff = diff_outcomes(expected, observed, observable)
    if not diff:
        return None
    m, s = expected.get("outcome"), observed.get("outcome")
    # Outcome-level differences are keyed on what the simulator did, so one
    # cause seen under several errnos (or generators) is one class.
    if m == "error" and s in ("error", "exit", "signal", "timeout"):
        return f"load failure: simulator {outcome_kind(observed)} where Linux fails with another errno"
    if m in ("exec", "signal") and s == "error":
        return f"load failure: simulator {outcome_kind(observed)} where Linux runs the program"
    if m == "error" and s == "exec":  # keyed on the check Linux makes and the simulator lacks
        return f"missing check: simulator runs the program where Linux fails with {expected.get('errno')}"
    if m == "exec" and s in ("exit", "signal", "timeout"):
        return f"simulator {outcome_kind(observed)} where Linux runs the program"
    return f"{', '.join(diff_fields(diff))} | model {outcome_kind(expected)} -> simulator {outcome_kind(observed)}"


FIELD_WORDS = {"execfn": "AT_EXECFN (execfn)", "comm": "comm (the task name)", "exe": "/proc/self/exe (exe)",
               "argv": "argv", "envp": "envp"}


BACKGROUND_KEY = "cause: {field} wrong on every exec of {scope}"


def background_key(field: str, scope: str) -> str:
    return BACKGROUND_KEY.format(field=FIELD_WORDS.get(field, field), scope=scope)


def background(rep: Reporter, target) -> dict[str, str]:
    """Fields the simulator gets wrong on plain execs (PRoot's execfn,
    qemu-user's comm), each with the plainest exec that shows it: an edit
    that leaves only these has removed the cause, and a divergence in these
    alone is that field's own class."""
    from generators.common import probe, script
    P = probe(b"/bin/probe", "P")
    plain = [("a program", Case(files=(P,), exec=Exec(path=b"/bin/probe", argv=(b"p",), envp=()))),
             ("a #! script", Case(files=(P, script(b"/s", b"#!/bin/probe\n")),
                                  exec=Exec(path=b"/s", argv=(b"s",), envp=())))]
    out: dict[str, str] = {}
    for scope, c in plain:
        o = target.run(c)
        if o.get("outcome") == "exec":
            for field in diff_fields(diff_outcomes(model.predict(c, rep.profile), o, target.observable)):
                out.setdefault(field, scope)
    return out


TOGETHER = " -- together with -- "  # a cause of two edits: "A -- together with -- B"


def _background_fields(rep: Reporter, target) -> set[str]:
    if rep.background is None:  # measured once, on first use
        rep.background = background(rep, target)
    return set(rep.background)


def _fields(diff: list[str]) -> set[str]:
    return set(diff_fields(diff))


def _cause(rep: Reporter, target, case: Case, expected: dict, observed: dict) -> str | None:
    """The first one-change edit after which the simulator agrees with the
    model (but for its background fields), or -- for an outcome-level class
    (a load failure, a missing check) -- after which the case is no longer
    of this class and the simulator acts differently: what remains is another
    class's (a NULL argv EFAULT on a #! line with a \\r is the NULL argv cause).
    When no one edit does, two edits in sequence (a case with two features,
    each enough alone: a \\r and a 127-byte #! line).  Where the first of
    the two changed only what Linux does (the simulator's outcome stayed
    the same), the second is the cause: the first only repaired what made
    Linux fail or crash (qemu-x86_64 refuses an ia32 program whose entry
    point lacks PF_X: Linux's SIGSEGV is the PF_X, qemu's exit 255 the
    ia32).  Otherwise the cause is both.  A class that differs only in
    background fields has no cause to find: any edit would "remove" it."""
    if _fields(diff_outcomes(expected, observed, target.observable)) <= _background_fields(rep, target):
        return None
    key = classify("", expected, observed, target.observable)
    outcome_level = not expected.get("outcome") == observed.get("outcome") == "exec"
    ran: list[tuple[str, Case, dict, dict]] = []
    for name, e in edits(case):
        verdict, exp, obs = _explains(rep, target, e, expected, observed, key, outcome_level,
                                      whole=name in WHOLE_PROGRAM)
        if verdict:
            return name
        if verdict is not None:
            ran.append((name, e, exp, obs))
    for name, e, exp, obs in ran:
        only_linux = not diff_outcomes(observed, obs, target.observable)
        for second, e2 in edits(e):
            # a whole-program edit may follow one that already repaired Linux's crash
            whole = name in WHOLE_PROGRAM or (second in WHOLE_PROGRAM and exp.get("outcome") == "signal")
            if second != name and _explains(rep, target, e2, expected, observed, key, outcome_level, True,
                                            whole)[0]:
                return second if only_linux else TOGETHER.join(sorted((name, second)))
    return None


def _explains(rep: Reporter, target, e: Case, expected: dict, observed: dict, key: str | None,
              outcome_level: bool, agree_only: bool = False, whole: bool = False
              ) -> tuple[bool | None, dict, dict]:
    """Whether the edited case `e` names the cause: True, False, or None
    when it says nothing (skipped, not modelled, or an edit Linux's fate
    forbids); with the model's and the simulator's outcomes of `e` ({} when
    not run).  `whole`: the edit replaced a whole program (causes.WHOLE_PROGRAM)."""
    if target.skip_reason(e):
        return None, {}, {}
    try:
        exp = model.predict(e, rep.profile)
    except (model.InvalidCase, ValueError):
        return None, {}, {}  # the edit broke the case (its cwd went with a file)
    if exp["outcome"] == "unmodelled":
        return None, exp, {}
    fate = _same_fate(expected, exp)
    # Linux ran the case: an edit must leave its fate alone (a crash stays a
    # crash); a crash the edit repairs counts only where the simulator then
    # agrees entirely (a bss past the address space: Linux SIGSEGV, qemu-user
    # hangs; without it both run)
    if not fate and not (expected.get("outcome") == "signal" and exp["outcome"] in ("exec", "exit")
                         and not whole):
        return None, exp, {}
    obs = target.run(e)
    if obs.get("outcome") in ("skip", "target-error"):
        return None, exp, obs
    exp = rep.complete(e, exp, obs)
    if _fields(diff_outcomes(exp, obs, target.observable)) <= _background_fields(rep, target):
        return True, exp, obs
    # the simulator must act differently too: an edit that only lets Linux run
    # what the simulator still refuses alike (qemu-user and any #! script) names nothing
    return (fate and not agree_only and outcome_level and outcome_kind(obs) != outcome_kind(observed)
            and classify("", exp, obs, target.observable) != key), exp, obs


def _same_fate(before: dict, after: dict) -> bool:
    """Where Linux runs a case, an edit may change what runs but not how it
    ends: a crash stays the same crash, a program that runs (or exits)
    still runs or exits."""
    b, a = before.get("outcome"), after.get("outcome")
    if b == "error":
        return True
    if b == "signal":
        return a == "signal" and after.get("signal") == before.get("signal")
    return a in ("exec", "exit")


def split_by_cause(rep: Reporter, target, host) -> None:
    """A class merges (model -> simulator) outcome pairs found by several
    generators.  The first case of each (pair, generator) gets its own
    one-change-edit cause; those whose cause differs from the
    representative's become classes of their own (one another cause
    explains joins that cause; those no edit explains stay under the merged
    key), so no class hides a second cause behind its representative's."""
    for key, c in list(rep.classes.items()):
        if c.get("background"):
            continue  # one field on every exec: its cause is the field's
        rep_pair = f"{outcome_kind(c['expected'])} -> {outcome_kind(c['observed'])}"
        parts: dict[str | None, list[dict]] = {c["cause"]: []}
        for sub in c.get("subs", {}).values():
            if sub["first"] == c["case"]:
                parts[c["cause"]].append(sub)
                continue
            obs = target.run(sub["first"])
            exp = rep.complete(sub["first"], model.predict(sub["first"], rep.profile), obs)
            sub.update(expected=exp, observed=obs)
            same = key in rep.class_keys(exp, obs)
            parts.setdefault(_cause(rep, target, sub["first"], exp, obs) if same else c["cause"], []).append(sub)
        if len(parts) == 1:
            continue
        for cause, subs in parts.items():
            pairs, sources = sorted({x["pair"] for x in subs}), sorted({x["source"] for x in subs})
            if cause == c["cause"]:
                c["pairs"], c["sources"] = sorted({*pairs, rep_pair}), sources or c["sources"]
                continue
            first = subs[0]
            h = host.run(first["first"])
            rep.classes[f"{key} [{cause or 'no edit'}]"] = {
                "source": c["source"], "first": first["first"], "case": first["first"],
                "expected": first["expected"], "observed": first["observed"], "host": h,
                "host_ok": not diff_outcomes(first["expected"], h, host.observable),
                "sources": sources, "pairs": pairs, "cause": cause, "gkey": key}
            print(f"# split: {key}: {'; '.join(pairs)} ({', '.join(sources)}) -> cause: {cause}", file=sys.stderr)


def group_classes(classes: dict[str, dict]) -> dict[str, list[tuple[str, dict]]]:
    """The report's classes from the shapes found: one per cause (shapes
    whose one-change edit is the same are one); a cause of two edits whose
    every part is a class of its own is those causes met in one case, not a
    third: its shapes join the first part's class, marked "together"."""
    groups: dict[str, list[tuple[str, dict]]] = {}
    for key, c in sorted(classes.items()):
        groups.setdefault(c.get("cause") and f"cause: {c['cause']}" or c.get("gkey") or key, []).append((key, c))
    for g in [g for g in groups if TOGETHER in g]:
        parts = [f"cause: {p}" for p in g.removeprefix("cause: ").split(TOGETHER)]
        if all(p in groups for p in parts):
            for kc in groups.pop(g):
                groups[parts[0]].append((kc[0], {**kc[1], "together": g.removeprefix("cause: ")}))
    return groups
