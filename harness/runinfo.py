"""What a result file must say about its run, and the run's JSON summary.

Every result file (KTAP header, JUnit <properties>, --summary JSON) names
the kernel that ran the cases (uname -r, uname -v, its command line where
it can be seen), the target, the model profile and the Hypothesis profile
and seed.  The target lives in the test worker that started it, so each
worker sends what it saw to the controller (pytest-xdist's workeroutput).

--summary FILE: counts (pytest's: passed, failed, skipped, error) per run,
per suite module and per feature (the `linux-git:` commit a corpus case is
tagged with), and each failure with its saved case file under failures/.
"""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

# ------------------------------------------------------------ progress


_sink = None


def say(msg: str) -> None:
    """A progress line on stderr ("execspec: ..."), past pytest's capture
    when run under pytest (set_sink)."""
    line = f"execspec: {msg}"
    if _sink is not None:
        _sink(line)
    else:
        print(line, file=sys.stderr, flush=True)


def set_sink(fn) -> None:
    global _sink
    _sink = fn


# ------------------------------------------------------------ kernel facts


def _host_kernel() -> dict:
    u = os.uname()
    try:
        cmdline = Path("/proc/cmdline").read_text().strip()
    except OSError:
        cmdline = None
    return {"uname_r": u.release, "uname_v": u.version, "cmdline": cmdline, "machine": u.machine}


def kernel_info(target) -> dict:
    """The kernel a started target runs cases on."""
    guest = getattr(target, "guest", None)
    if guest is not None:  # qemu / uml: what the guest's init reported
        return {"uname_r": guest.hello.get("K"), "uname_v": guest.hello.get("V"),
                "cmdline": getattr(guest, "cmdline", None), "machine": "x86_64",
                "accel": getattr(guest, "accel", None)}
    if getattr(target, "name", "") == "model":
        return {"uname_r": None, "uname_v": None, "cmdline": None, "note": "the model itself: no kernel"}
    info = _host_kernel()
    release = getattr(target, "release", None)
    if release and release != info["uname_r"]:  # a remote docker engine
        info = {"uname_r": release, "uname_v": None, "cmdline": None}
    return info


def hypothesis_info(config) -> dict:
    from hypothesis import settings
    seed = config.getoption("hypothesis_seed", None)
    d = settings.default
    assert d is not None  # a profile is always loaded once hypothesis is imported
    return {"profile": settings.get_current_profile_name(), "max_examples": d.max_examples,
            "derandomize": d.derandomize,
            "seed": "derandomized (fixed per test)" if d.derandomize and seed is None else seed}


def header_lines(info: dict) -> list[str]:
    """The run's facts as "key: value" lines (KTAP "# " header)."""
    k = info.get("kernel") or {}
    h = info.get("hypothesis") or {}
    out = [f"execspec: target {info.get('target')}"
           + (f" ({info['described']})" if info.get("described") else ""),
           f"kernel: uname -r: {k.get('uname_r') or 'n/a'}",
           f"kernel: uname -v: {k.get('uname_v') or 'n/a'}",
           f"kernel: cmdline: {k.get('cmdline') or 'n/a'}",
           f"model profile: {info.get('profile') or 'n/a'}",
           f"hypothesis: profile {h.get('profile')}, max_examples {h.get('max_examples')}, seed {h.get('seed')}"]
    if info.get("unavailable"):
        out.append(f"target unavailable: {info['unavailable']}")
    return out


def properties(info: dict) -> list[tuple[str, str]]:
    """The run's facts as JUnit <property> pairs."""
    k = info.get("kernel") or {}
    h = info.get("hypothesis") or {}
    props = [("target", info.get("target")), ("target.described", info.get("described")),
             ("kernel.uname_r", k.get("uname_r")), ("kernel.uname_v", k.get("uname_v")),
             ("kernel.cmdline", k.get("cmdline")), ("model.profile", info.get("profile")),
             ("hypothesis.profile", h.get("profile")), ("hypothesis.seed", h.get("seed")),
             ("hypothesis.max_examples", h.get("max_examples")), ("target.unavailable", info.get("unavailable"))]
    return [(n, str(v)) for n, v in props if v not in (None, "")]


def write_bail_junit(path: str, info: dict, message: str) -> None:
    """A JUnit file for a run that stopped before testing: one error."""
    import xml.etree.ElementTree as ET
    suites = ET.Element("testsuites")
    s = ET.SubElement(suites, "testsuite", name="execspec", tests="1", errors="1", failures="0",
                      skipped="0", time="0", timestamp=time.strftime("%Y-%m-%dT%H:%M:%S"))
    props = ET.SubElement(s, "properties")
    for n, v in properties(info):
        ET.SubElement(props, "property", name=n, value=v)
    tc = ET.SubElement(s, "testcase", classname="execspec", name="target", time="0")
    ET.SubElement(tc, "error", message=message).text = message
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)


# ------------------------------------------------------------ summary


class Summary:
    """Gathers the reports where they arrive (the controller under xdist)."""

    def __init__(self):
        self.t0 = time.time()
        self.tests: dict[str, dict] = {}

    def add(self, report) -> None:
        from harness.ktap import _name
        when = report.when
        if when == "call" or (when == "setup" and not report.passed) or (when == "teardown" and report.failed):
            suite, _ = _name(report.nodeid)
            t = self.tests.setdefault(report.nodeid, {"suite": suite, "outcome": None, "features": [],
                                                      "case_file": None, "message": None})
            props = dict()
            for k, v in getattr(report, "user_properties", []):
                if k == "linux-git" and v not in t["features"]:
                    t["features"].append(v)
                props[k] = v
            if "case-file" in props:
                t["case_file"] = props["case-file"]
            if report.passed:
                outcome = "passed"
            elif report.skipped:
                outcome = "skipped"
            else:
                outcome = "failed" if when == "call" else "error"
                text = getattr(report, "longreprtext", "") or str(report.longrepr or "")
                lines = [l[4:].strip() if l.startswith("E ") else l for l in text.splitlines() if l.startswith("E ")]
                t["message"] = (lines or text.splitlines()[-1:] or [""])[0][:500]
            if when == "teardown" and t["outcome"] == "passed":
                outcome = "error"
            if t["outcome"] is None or outcome in ("failed", "error"):
                t["outcome"] = outcome
            if outcome == "skipped":
                t["message"] = str(report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr)[:300]

    def render(self, info: dict, exitstatus) -> dict:
        from model.profiles import FEATURES
        zero = lambda: {"passed": 0, "failed": 0, "skipped": 0, "error": 0}  # noqa: E731
        counts = zero()
        suites: dict[str, dict] = {}
        features: dict[str, dict] = {}
        failures = []
        for nodeid, t in sorted(self.tests.items()):
            o = t["outcome"]
            counts[o] += 1
            suites.setdefault(t["suite"], zero())[o] += 1
            for c in t["features"]:
                f = features.setdefault(c, {"title": FEATURES[c].title if c in FEATURES else None, **zero()})
                f[o] += 1
            if o in ("failed", "error"):
                failures.append({"test": nodeid, "suite": t["suite"], "outcome": o, "message": t["message"],
                                 "case_file": t["case_file"], "features": t["features"]})
        return {"format": "execspec-summary/1", "run": info, "exitstatus": exitstatus,
                "seconds": round(time.time() - self.t0, 1), "counts": counts, "suites": suites,
                "features": features, "failures": failures}


def write_json(path: str, data: dict) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=1, default=str) + "\n")
