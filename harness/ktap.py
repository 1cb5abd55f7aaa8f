"""KTAP output for the pytest run (Documentation/dev-tools/ktap.rst), the
format kselftest emits, so kernel CI systems can ingest the suite directly.

    pytest suites --ktap FILE        (FILE "-" is stdout, after pytest's own output)

One KTAP subtest per suite module, holding one test per property or pinned
case; SKIP carries its reason; a failure carries its diagnostic (the diff,
the saved case and the replay command) as "# " lines, and a corpus case its
`linux-git:` tags.  Reports are gathered where they arrive, which with
pytest-xdist is the controller, so the file is whole with -n.

What its readers need, checked against them (tests/test_ktap_consumers.py):
- The top level is kselftest's "TAP version 13" with the plan on the next
  line: the kernel's kunit_parser accepts it (TAP 13/14 or KTAP 1), and a
  plain TAP reader (tappy) wants its plan on line 1, on line 2 after a TAP
  version line, or last.  Each suite is a nested "KTAP version 1" block.
- A suite is named "execspec.<module>" (module without "test_"): a pytest
  test is named test*/Test*, so no test can carry its suite's name.
  kunit_parser ends a suite at the first result line with the suite's name,
  which had shifted every later number when module test_execveat held a
  test test_execveat.
- Run metadata (kernel, target, profile, seed) are "# " lines after the plan.
- Diagnostic lines cannot open a subtest ("# Subtest:") nor contain the
  console phrases at which kunit_parser stops reading ("reboot: System
  halted", ...): those are defused.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field

import pytest

MAX_DIAG_LINES = 60


@dataclass
class Result:
    name: str
    outcome: str  # "ok", "not ok", "skip"
    reason: str = ""
    diag: list[str] = field(default_factory=list)


SUITE_PREFIX = "execspec."

# Phrases at which kunit_parser stops reading a kernel log (KTAP_END), and the
# subtest header: defused wherever our text (a guest's console tail) has them.
_DEFUSE = [(re.compile(r"List of all partitions:"), "List of all partitions -"),
           (re.compile(r"Kernel panic - not syncing: VFS:"), "Kernel panic - not syncing (VFS)"),
           (re.compile(r"reboot: System halted"), "reboot (System halted)"),
           (re.compile(r"^(\s*)Subtest:"), r"\1Subtest -")]


def defuse(text: str) -> str:
    for pat, repl in _DEFUSE:
        text = pat.sub(repl, text)
    return text


def suite_name(module: str) -> str:
    return SUITE_PREFIX + module.removeprefix("test_")


def _name(nodeid: str) -> tuple[str, str]:
    """(suite, test) from a pytest node id; KTAP names hold no '#'."""
    path, _, test = nodeid.partition("::")
    suite = suite_name(path.rsplit("/", 1)[-1].removesuffix(".py"))
    return suite, test.replace("#", "%23").replace(" ", "_").replace("\n", "_")


def _reason(report: pytest.TestReport) -> str:
    if isinstance(report.longrepr, tuple):  # (file, line, "Skipped: reason")
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return str(report.longrepr or "")


def _diag(report: pytest.TestReport) -> list[str]:
    text = getattr(report, "longreprtext", "") or str(report.longrepr or "")
    # the assertion message is the useful part: it follows "E   " prefixes
    lines = [re.sub(r"^E\s{1,11}", "", l) for l in text.splitlines() if l.startswith("E ")]
    lines = lines or text.splitlines()[-MAX_DIAG_LINES:]
    tags = [p for p in getattr(report, "user_properties", []) if p[0] == "linux-git"]
    out = [f"linux-git: {v}" for _, v in tags]
    out += lines[:MAX_DIAG_LINES]
    if len(lines) > MAX_DIAG_LINES:
        out.append(f"... {len(lines) - MAX_DIAG_LINES} more lines in the pytest output")
    return out


class KtapPlugin:
    def __init__(self, path: str, header):
        self.path = path
        self.header = header  # a list of lines, or a callable giving them at the end
        self.results: dict[str, list[Result]] = {}
        self.bail: str | None = None  # the run stopped before testing: why

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        suite, test = _name(report.nodeid)
        if report.when == "call" or (report.when == "setup" and not report.passed) \
                or (report.when == "teardown" and report.failed):
            if report.passed:
                r = Result(test, "ok")
            elif report.skipped:
                r = Result(test, "skip", _reason(report))
            else:
                r = Result(test, "not ok", diag=_diag(report))
                if report.when != "call":
                    r.diag.insert(0, f"error in {report.when}")
            bucket = self.results.setdefault(suite, [])
            if report.when == "teardown" and bucket and bucket[-1].name == test:
                bucket[-1] = r  # a teardown error overrides the call's result
            else:
                bucket.append(r)

    def render(self) -> str:
        header = self.header() if callable(self.header) else self.header
        out = ["TAP version 13", f"1..{len(self.results)}", *(defuse(f"# {h}") for h in header)]
        totals = {"pass": 0, "fail": 0, "skip": 0}
        # by name: the same run gives the same numbering with or without xdist
        for i, (suite, tests) in enumerate(sorted(self.results.items()), 1):
            tests = sorted(tests, key=lambda t: t.name)
            out += ["    KTAP version 1", f"    # Subtest: {suite}", f"    1..{len(tests)}"]
            for j, t in enumerate(tests, 1):
                name = t.name if t.name != suite else t.name + "_"  # never the suite's own result line
                if t.outcome == "skip":
                    reason = defuse(t.reason.splitlines()[0]) if t.reason else ""
                    out.append(f"    ok {j} {name} # SKIP {reason}".rstrip())
                    totals["skip"] += 1
                else:
                    out += [defuse(f"    # {d}").rstrip() for d in t.diag]
                    out.append(f"    {t.outcome} {j} {name}")
                    totals["pass" if t.outcome == "ok" else "fail"] += 1
            failed = any(t.outcome == "not ok" for t in tests)
            all_skipped = tests and all(t.outcome == "skip" for t in tests)
            out.append(f"{'not ok' if failed else 'ok'} {i} {suite}" + (" # SKIP" if all_skipped else ""))
        if self.bail:
            out.append(defuse(f"Bail out! {self.bail}"))
        out.append(f"# Totals: pass:{totals['pass']} fail:{totals['fail']} xfail:0 xpass:0 "
                   f"skip:{totals['skip']} error:{1 if self.bail else 0}")
        return "\n".join(out) + "\n"

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        # after pytest's own summary, so "-" gives a KTAP block at the end
        text = self.render()
        if self.path == "-":
            sys.stdout.write(text)
        else:
            with open(self.path, "w", encoding="utf-8") as f:
                f.write(text)


def configure(config: pytest.Config, header) -> KtapPlugin | None:
    path = config.getoption("--ktap")
    if path and not hasattr(config, "workerinput"):
        plugin = KtapPlugin(path, header)
        config.pluginmanager.register(plugin, "execspec-ktap")
        return plugin
    return None


_RESULT = re.compile(r"^(ok|not ok) (\d+)(?: ([^#]*?))?(?: # (SKIP|TODO)(?: .*)?)?$")


def validate(text: str) -> list[str]:
    """Problems with `text` as KTAP version 1 (empty list: valid): version
    lines, plans against the number of results, consecutive test numbers,
    4-space nesting and the result line grammar."""
    problems: list[str] = []
    lines = [l for l in text.splitlines() if l.strip()]
    stack: list[dict] = []  # per nesting level: plan and results seen

    def close(level: dict, where: int) -> None:
        if level["plan"] is not None and level["plan"] != level["seen"]:
            problems.append(f"line {where}: plan 1..{level['plan']} but {level['seen']} results")

    for n, line in enumerate(lines, 1):
        indent = len(line) - len(line.lstrip(" "))
        if indent % 4:
            problems.append(f"line {n}: indentation {indent} is not a multiple of 4")
            continue
        depth, body = indent // 4, line.strip()
        if body.startswith(("KTAP version ", "TAP version ")):
            if body != "KTAP version 1" and not (depth == 0 and body in ("TAP version 13", "TAP version 14")):
                problems.append(f"line {n}: {body!r}")
            if depth != len(stack):
                problems.append(f"line {n}: version line at depth {depth}, expected {len(stack)}")
            stack.append({"plan": None, "seen": 0})
            continue
        if not stack:
            problems.append(f"line {n}: before the version line")
            continue
        while len(stack) > depth + 1:  # a nested block ended: its result line follows
            close(stack.pop(), n)
        level = stack[depth] if depth < len(stack) else None
        if level is None:
            problems.append(f"line {n}: deeper than any open block")
            continue
        if body.startswith("#") or body.startswith("Bail out!"):
            continue
        m = re.fullmatch(r"1\.\.(\d+)", body)
        if m:
            level["plan"] = int(m.group(1))
            continue
        r = _RESULT.match(body)
        if not r:
            problems.append(f"line {n}: not a KTAP line: {body[:60]!r}")
            continue
        level["seen"] += 1
        if int(r.group(2)) != level["seen"]:
            problems.append(f"line {n}: test number {r.group(2)}, expected {level['seen']}")
    while stack:
        close(stack.pop(), len(lines))
    return problems
