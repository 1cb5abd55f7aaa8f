"""The result files as their real readers read them.

- KTAP through the kernel's own parser, tools/testing/kunit/kunit_parser.py,
  taken from Debian's linux-source package into build/kunit/ at test time
  (harness/kunit.py; never installed, never committed): its counts must be
  pytest's, on passing and failing runs, with and without xdist.  The runs
  include module test_execveat, whose single test test_execveat once read
  as the suite's own result line and shifted every later number.
- KTAP through tappy (tap.py from PyPI, into build/pylibs), a plain TAP
  reader: no errors, one test per suite.
- JUnit through junitparser (PyPI, into build/pylibs): a suite named
  execspec whose properties name the kernel, with pytest's counts.

Without network these SKIP saying why; under CI (CI=true) they fail.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness import kunit

ROOT = Path(__file__).resolve().parent.parent
PYLIBS = ROOT / "build" / "pylibs"


def _unavailable(why: str):
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(f"CI needs this consumer: {why}", pytrace=False)
    pytest.skip(why)


@pytest.fixture(scope="session")
def kunit_parse():
    try:
        kunit.parser()
    except kunit.Unavailable as e:
        _unavailable(f"the kernel's kunit_parser could not be fetched: {e}")
    return kunit.parse


def _pylib(module: str, dist: str):
    """A PyPI package installed into build/pylibs for these tests only."""
    import warnings
    warnings.filterwarnings("ignore", module="tap")
    if str(PYLIBS) not in sys.path:
        sys.path.insert(0, str(PYLIBS))
    try:
        return __import__(module)
    except ImportError:
        pass
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        "--target", str(PYLIBS), dist], capture_output=True, text=True)
    if r.returncode:
        _unavailable(f"pip install {dist} failed: {(r.stderr.strip().splitlines() or ['?'])[-1]}")
    import importlib
    importlib.invalidate_caches()
    return __import__(module)


def _env(**kw) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "EXECSPEC_PROFILE", "EXECSPEC_REQUIRE_TARGET")}
    env.update(kw)
    return env


def pytest_counts(output: str) -> dict:
    """pytest's own closing line: "1 failed, 3 passed, 1 skipped in 0.1s"."""
    last = [l for l in output.splitlines() if re.search(r"\d+ (passed|failed|skipped|errors?)\b", l)][-1]
    c = {k: 0 for k in ("passed", "failed", "skipped", "error")}
    for n, k in re.findall(r"(\d+) (passed|failed|skipped|errors?)\b", last):
        c[k.rstrip("s") if k.startswith("error") else k] += int(n)
    return c


def run(tmp_path: Path, args: list[str], **env) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path / "run"
    r = subprocess.run([sys.executable, "-m", "pytest", *args, "-q", "--ktap", f"{out}.ktap",
                        "--junitxml", f"{out}.xml", "--summary", f"{out}.json"],
                       cwd=ROOT, capture_output=True, text=True,
                       env=_env(EXECSPEC_FAILURES=str(tmp_path / "failures"), **env))
    return r, out


# A passing run over real suites (the model as target: fast, and it agrees
# with itself) and a failing one (a 4.19 model held to the 6.18 profile:
# real conformance failures, with diffs, case JSON and replay lines as
# diagnostics), each with and without xdist.
RUNS = {
    "suites-pass": (["suites/test_execveat.py", "suites/test_shebang.py", "suites/test_corpus.py",
                     "--target", "model", "--hypothesis-seed=1"], 0),
    "suites-fail": (["suites/test_execveat.py", "suites/test_shebang.py", "--target", "model:4.19",
                     "--profile", "6.18", "--hypothesis-seed=1"], 1),
    "sample-fail": (["tests/data/ktap_sample.py"], 1),
}


@pytest.mark.parametrize("xdist", [["-p", "no:xdist"], ["-n", "2"]], ids=["serial", "xdist"])
@pytest.mark.parametrize("which", list(RUNS))
def test_readers_count_what_pytest_counts(tmp_path, kunit_parse, which, xdist):
    """One run, its three files through their readers: kunit_parser,
    tappy and junitparser."""
    args, rc = RUNS[which]
    r, out = run(tmp_path, [*args, *xdist])
    assert r.returncode == rc, r.stdout[-3000:] + r.stderr[-2000:]
    ours = pytest_counts(r.stdout)
    assert ours["failed"] or rc == 0
    summary = json.loads(out.with_suffix(".json").read_text())
    assert summary["counts"] == ours

    # kunit_parser: pytest's counts, nothing crashed, no parse errors
    k = kunit_parse(out.with_suffix(".ktap").read_text())
    want = (ours["passed"], ours["failed"] + ours["error"], ours["skipped"])
    assert (k["passed"], k["failed"], k["skipped"]) == want, (k["printed"][-3000:], ours)
    assert k["crashed"] == 0 and k["errors"] == 0, k["printed"][-3000:]
    assert k["status"] == ("SUCCESS" if rc == 0 else "FAILURE")
    if which.startswith("suites"):
        # every suite module is there, under its own name, with all its tests
        assert "execspec.execveat" in k["suites"] and "execspec.shebang" in k["suites"]
        assert sorted(k["suites"]) == sorted(summary["suites"])
        for name, sc in k["suites"].items():
            assert sc["tests"] == sum(summary["suites"][name].values()), name
    if which == "suites-fail":
        fails = summary["failures"]
        assert fails and all(f["case_file"] and Path(f["case_file"]).is_file() for f in fails), fails

    # tappy: the top level, one TAP test per suite module, failed where a test
    # in it failed, no rule broken (its rule errors are unnumbered tests:
    # plan placement, version, counts)
    _pylib("tap", "tap.py")
    import unittest

    from tap.loader import Loader
    suite = Loader().load_suite_from_file(str(out.with_suffix(".ktap")))
    tests = list(suite)
    assert [t._line.description for t in tests if t._line.number is None] == []
    assert sorted(t._line.description.strip() for t in tests) == sorted(summary["suites"])
    result = unittest.TestResult()
    suite.run(result)
    failing = sorted(n for n, c in summary["suites"].items() if c["failed"] or c["error"])
    assert sorted(t._line.description.strip() for t, _ in result.failures) == failing
    assert bool(failing) == (rc != 0)

    # junitparser: one suite named execspec, pytest's counts, the run's facts
    junitparser = _pylib("junitparser", "junitparser")
    xml = junitparser.JUnitXml.fromfile(str(out.with_suffix(".xml")))
    suites = list(xml) if isinstance(xml, junitparser.JUnitXml) else [xml]
    assert [s.name for s in suites] == ["execspec"]
    s = suites[0]
    want = (sum(ours.values()), ours["failed"], ours["error"], ours["skipped"])
    assert (s.tests, s.failures, s.errors, s.skipped) == want
    failed = [c for c in s if c.result and isinstance(c.result[0], junitparser.Failure)]
    assert len(failed) == ours["failed"]
    props = {p.name: p.value for p in s.properties()}
    assert props["hypothesis.profile"]
    if which == "suites-fail":
        assert props["target"] == "model:4.19" and props["model.profile"] == "6.18"
        assert props["hypothesis.seed"] == "1"
        assert "kernel.uname_r" not in props  # the model is no kernel: nothing invented


@pytest.mark.userns
def test_header_names_the_kernel(tmp_path):
    """The sandbox's kernel in all three files: uname -r, -v, the cmdline."""
    r, out = run(tmp_path, ["suites/test_execveat.py", "--target", "sandbox", "-p", "no:xdist",
                            "--hypothesis-seed=7"], EXECSPEC_PROFILE="dev")
    assert r.returncode == 0, r.stdout[-2000:]
    u = os.uname()
    head = out.with_suffix(".ktap").read_text().split("    KTAP version 1")[0]
    assert head.startswith("TAP version 13\n1..1\n")
    assert f"# kernel: uname -r: {u.release}" in head and f"# kernel: uname -v: {u.version}" in head
    assert "# kernel: cmdline: " in head and "seed 7" in head and "# model profile: " in head
    s = json.loads(out.with_suffix(".json").read_text())
    assert s["run"]["kernel"]["uname_r"] == u.release and s["run"]["hypothesis"]["seed"] == "7"
    xml = out.with_suffix(".xml").read_text()
    assert '<testsuite name="execspec"' in xml and f'name="kernel.uname_r" value="{u.release}"' in xml
