"""python -m harness features --target NAME [--kernel IMAGE]

Which exec behaviours (model features, named by kernel commit) the target's
kernel has, found by running the pinned corpus (corpus/*.json) on it: for
each feature, each of its cases is predicted with the feature and without
it, on top of the profile of the target's kernel; the kernel's outcome says
which.  Prints a table and the profile spec that describes the kernel
(e.g. "6.1.192+585a018627b4"), usable as --profile.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import model
from contract.case import CaseError, case_from_json, diff_outcomes
from model.profiles import FEATURES, Profile

from .targets import TARGETS, TargetBroken, TargetUnavailable, get_target

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def corpus_by_commit() -> dict[str, list[tuple[str, dict]]]:
    out: dict[str, list[tuple[str, dict]]] = {}
    for p in sorted(CORPUS.glob("*.json")):
        d = json.loads(p.read_text())
        for t in d.get("tags", []):
            if t.startswith("linux-git:"):
                out.setdefault(t.split(":", 1)[1], []).append((p.name, d))
    return out


def verdict(observed: list[dict], with_it: list[dict], without: list[dict], observable) -> str:
    """present / absent / undetermined, from every case of one feature."""
    votes = set()
    for o, w, wo in zip(observed, with_it, without):
        if o.get("outcome") == "skip":
            continue
        a = not diff_outcomes(w, o, observable)
        b = not diff_outcomes(wo, o, observable)
        if a != b:  # the case tells them apart and the kernel picked one
            votes.add("present" if a else "absent")
        elif not a:
            votes.add("neither")
    if votes == {"present"}:
        return "present"
    if votes == {"absent"}:
        return "absent"
    return "undetermined" + (" (outcomes match neither prediction)" if "neither" in votes else
                             " (conflicting cases)" if len(votes) > 1 else " (no case tells them apart here)")


def with_mods(name: str, mods: str) -> str:
    """A profile name with +commit/-commit overrides: they go before the
    config items (";BINFMT_MISC=m"), which would otherwise swallow them."""
    version, sep, config = name.partition(";")
    return version + mods + sep + config


def detect(target, base: Profile) -> list[tuple[str, str, int]]:
    rows = []
    corpus = corpus_by_commit()
    for commit, _feat in FEATURES.items():
        cases = [case_from_json(d, where=name) for name, d in corpus.get(commit, [])]
        if not cases:
            v = target.detect_feature(commit)
            rows.append((commit, v or "not detectable (no corpus case)", 0))
            continue
        with_it = model.profile(with_mods(base.name, f"+{commit}"))
        without = model.profile(with_mods(base.name, f"-{commit}"))
        observed = target.run_many(cases)
        rows.append((commit, verdict(observed, [model.predict(c, with_it) for c in cases],
                                     [model.predict(c, without) for c in cases], target.observable), len(cases)))
    return rows


def spec_for(base: Profile, rows: list[tuple[str, str, int]]) -> str:
    """The profile string: the version plus the overrides the corpus found."""
    mods = []
    for commit, v, _ in rows:
        word = v.split()[0]
        if word == "present" and not base.has(commit):
            mods.append(f"+{commit}")
        elif word == "absent" and base.has(commit):
            mods.append(f"-{commit}")
    return with_mods(base.name, "".join(mods))


def disagreements(base: Profile, rows: list[tuple[str, str, int]]) -> list[str]:
    """"+commit" for a feature the kernel has and its profile lacks, "-commit" the reverse."""
    out = []
    for commit, v, _ in rows:
        word = v.split()[0]
        if word in ("present", "absent") and (word == "present") != base.has(commit):
            out.append(("+" if word == "present" else "-") + commit)
    return out


def flag_line(kernel: str, base: Profile, rows: list[tuple[str, str, int]]) -> str:
    diff = disagreements(base, rows)
    if not diff:
        return f"agrees: kernel {kernel} has what profile {base.name} says"
    return (f"FLAG: kernel {kernel} disagrees with its version's profile {base.name} on "
            f"{' '.join(diff)} (stable bounds: model/backports.json, `python -m harness backports`)")


def print_config(target, base: Profile) -> None:
    """The kernel configuration options exec depends on, and where they came from."""
    cfg = base.config
    src = cfg.source if target.kernel_config is not None else \
        "not found (no /proc/config.gz, no config beside the image): " + cfg.source
    print(f"# kernel configuration: {src}")
    for line in cfg.describe():
        print(f"  {line}")


def cmd_features(args: argparse.Namespace) -> int:
    try:
        target = get_target(args.target, args.kernel, args.modules)
    except (TargetUnavailable, TargetBroken) as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    try:
        kernel = target.kernel
        base = model.profile(args.profile or kernel, config=target.kernel_config)
        print(f"# {target.describe()}; base profile {base.name}")
        print_config(target, base)
        try:
            rows = detect(target, base)
        except CaseError as e:
            print(f"error: corpus: {e}", file=sys.stderr)
            return 2
    finally:
        target.close()
    for commit, v, n in rows:
        f = FEATURES[commit]
        expected = "yes" if base.has(commit) else "no"
        word = v.split()[0]  # a verdict may carry its reason in parentheses
        mark = "" if word not in ("present", "absent") or (word == "present") == base.has(commit) \
            else "   <- differs from the version's default"
        print(f"{commit}  {v:<12} (version default: {expected}; {n} case(s))  {f.title}{mark}")
    print(f"profile: {spec_for(base, rows)}")
    print(flag_line(kernel, base, rows))
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    f = sub.add_parser("features", help="which exec features (kernel commits) the target's kernel has")
    f.add_argument("--target", default="sandbox", help=TARGETS)
    f.add_argument("--kernel", default=None, help="qemu/uml: the image (debian-6.1, a bzImage path, ...)")
    f.add_argument("--modules", default=None, help="qemu: binfmt_misc.ko or a modules tree")
    f.add_argument("--profile", default=None,
                   help="the base profile to toggle features on (default: the target kernel's version)")
    f.set_defaults(func=cmd_features)
