"""pytest wiring: --target chooses where cases run; the target's kernel
chooses the model profile (override with --kernel).  Hypothesis profiles:
ci (derandomized, bounded), dev, thorough; CI=true selects ci."""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

_common = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                     HealthCheck.filter_too_much], print_blob=True)
settings.register_profile("ci", max_examples=500, derandomize=True, database=None, **_common)
settings.register_profile("dev", max_examples=150, **_common)
settings.register_profile("thorough", max_examples=5000, **_common)
# CI on a TCG guest (~20 cases/s): derandomized, fewer examples per property.
settings.register_profile("ci-guest", max_examples=60, derandomize=True, database=None, **_common)
settings.load_profile(os.environ.get("EXECSPEC_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


def require_target() -> bool:
    """CI-facing runs: a target that cannot start fails the run (one line),
    elsewhere it is one skip reason.  EXECSPEC_REQUIRE_TARGET=1 or CI=true;
    EXECSPEC_REQUIRE_TARGET=0 turns it off."""
    v = os.environ.get("EXECSPEC_REQUIRE_TARGET")
    if v is not None and v != "":
        return v not in ("0", "no", "false")
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


def pytest_addoption(parser: pytest.Parser) -> None:
    from harness.targets import TARGETS
    g = parser.getgroup("execspec")
    g.addoption("--target", default=os.environ.get("EXECSPEC_TARGET", "sandbox"),
                help="where cases run (default sandbox, the host kernel): " + TARGETS)
    g.addoption("--kernel", default=None,
                help="sandbox/model: the model profile (e.g. 6.18, 5.10.223+dcd46d897adb); "
                     "qemu: the kernel (debian-5.10 ... debian-7.3, debian:SUITE, a bzImage or a built kernel tree)")
    g.addoption("--profile", default=None,
                help="model profile to compare against (default: the target's kernel, adjusted by detected features)")
    g.addoption("--modules", default=None, help="qemu: binfmt_misc.ko or a modules tree for a custom image")
    g.addoption("--ktap", default=None, metavar="FILE",
                help="also write the results as KTAP (kselftest's format) to FILE, or - for stdout")
    g.addoption("--summary", default=None, metavar="FILE",
                help="also write a JSON summary of the run (kernel, counts per suite and feature, failures)")


def _image_target(name: str) -> bool:
    """qemu/uml: --kernel names a kernel image, not a model profile."""
    from harness.targets import is_image_target
    return is_image_target(name.partition(":")[0])


# What this process learned about the run (the target's kernel, the profile):
# a worker sends it to the controller at its end.
_info: dict = {}


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest):
    from harness import runinfo
    from harness.targets import TargetBroken, TargetUnavailable, get_target
    name = request.config.getoption("--target")
    unavailable = _unavailable(request.config)
    if unavailable:
        pytest.skip(unavailable)
    try:
        kernel = request.config.getoption("--kernel")
        if not _image_target(name):  # sandbox/model: --kernel/--profile is the model profile
            kernel = request.config.getoption("--profile") or kernel
        t = get_target(name, kernel, request.config.getoption("--modules"))
    except (TargetUnavailable, TargetBroken) as e:
        msg = f"target {name} cannot start: {' '.join(str(e).split())}"
        if isinstance(e, TargetBroken) or require_target():
            # stop this worker after this test: one error, not one per test
            request.session.shouldstop = msg
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)
    _info["described"] = t.describe()
    _info["kernel"] = runinfo.kernel_info(t)
    yield t
    t.close()


def _profile_option(config: pytest.Config) -> str | None:
    if config.getoption("--profile"):
        return config.getoption("--profile")
    if not _image_target(config.getoption("--target")):
        return config.getoption("--kernel")
    return None


@pytest.fixture(scope="session")
def profile(request: pytest.FixtureRequest, target):
    import model
    p = model.profile(_profile_option(request.config) or target.kernel, config=getattr(target, "kernel_config", None))
    _info["profile"] = p.name
    return p


@pytest.fixture(autouse=True)
def _target_capabilities(request: pytest.FixtureRequest):
    """A test marked @pytest.mark.needs("binfmt_misc") is skipped as a whole,
    with the target's reason, when the target declares it lacks that (a
    per-case skip would leave Hypothesis with no case: Unsatisfiable)."""
    needs = [n for m in request.node.iter_markers("needs") for n in m.args]
    if needs:
        t = request.getfixturevalue("target")
        for n in needs:
            reason = t.lacks(n)
            if reason:
                pytest.skip(reason)


_checkers: list = []


@pytest.fixture(scope="session")
def conform(request: pytest.FixtureRequest, target, profile):
    """conform(case): the target's outcome must equal the model's prediction."""
    from suites.conformance import Checker
    c = Checker(target, profile, request.config.getoption("--target"),
                request.config.getoption("--kernel") if _image_target(request.config.getoption("--target")) else None)
    _checkers.append(c)
    return c


def _cases_run() -> int:
    return sum(c.count for c in _checkers)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed conformance check names the case file it saved."""
    if call.when == "call" and call.excinfo is not None:
        for c in _checkers:
            saved = getattr(c, "saved", None)
            if saved is not None:
                item.user_properties.append(("case-file", str(saved)))
                c.saved = None
    yield


@pytest.hookimpl(tryfirst=True)  # before junitxml writes its file
def pytest_sessionfinish(session: pytest.Session, exitstatus) -> None:
    if hasattr(session.config, "workeroutput"):  # an xdist worker reports to the controller
        session.config.workeroutput["execspec_cases"] = _cases_run()
        session.config.workeroutput["execspec_info"] = dict(_info)
        return
    from harness import runinfo
    session.config._execspec_exitstatus = int(exitstatus)
    xml = _logxml(session.config)
    if xml is not None:
        xml.suite_name = "execspec"
        for name, value in runinfo.properties(run_info(session.config)):
            xml.add_global_property(name, value)


_worker_cases: list[int] = []
_worker_info: list[dict] = []


class _XdistHooks:
    """Registered only with xdist, whose hooks these are."""

    def pytest_testnodedown(self, node, error) -> None:
        out = getattr(node, "workeroutput", {})
        _worker_cases.append(out.get("execspec_cases", 0))
        if out.get("execspec_info"):
            _worker_info.append(out["execspec_info"])

    def pytest_configure_node(self, node) -> None:
        node.workerinput["execspec_unavailable"] = getattr(node.config, "_execspec_unavailable", None)


def _unavailable(config: pytest.Config) -> str | None:
    """Why the controller's preflight found the target cannot start (dev
    runs then skip every test that needs it, with this one reason)."""
    wi = getattr(config, "workerinput", None)
    if wi is not None:
        return wi.get("execspec_unavailable")
    return getattr(config, "_execspec_unavailable", None)


def run_info(config: pytest.Config) -> dict:
    """The run's facts for the result files (harness/runinfo.py)."""
    from harness import runinfo
    info = {"target": config.getoption("--target"), "kernel_option": config.getoption("--kernel"),
            "hypothesis": runinfo.hypothesis_info(config)}
    for src in [_info, *_worker_info]:  # the first that started a target
        for k, v in src.items():
            info.setdefault(k, v)
    if "kernel" not in info and config.getoption("--target") in ("sandbox", "docker"):
        info["kernel"] = runinfo._host_kernel()
    info.setdefault("profile", _profile_option(config))
    if _unavailable(config):
        info["unavailable"] = _unavailable(config)
    return info


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs(capability): skip the whole test when the target lacks it "
                                       "(Target.lacks: binfmt_misc, crafted_elf)")
    # What a test needs of the machine, for selection (-m "not qemu and not docker"); a test
    # still skips (or, in CI, fails) by itself where that is missing.
    for name, what in MACHINE_MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {what}")
    from harness import runinfo
    # which target the suites run on, for modules that size themselves by it
    # at import (test_fallback: fewer examples on an emulated guest)
    os.environ["EXECSPEC_SUITE_TARGET"] = config.getoption("--target") or ""
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistHooks())
    capman = config.pluginmanager.getplugin("capturemanager")

    def sink(line: str) -> None:  # progress lines past pytest's capture
        import sys
        if capman is not None:
            with capman.global_and_fixture_disabled():
                print(line, file=sys.stderr, flush=True)
        else:
            print(line, file=sys.stderr, flush=True)
    runinfo.set_sink(sink)
    if hasattr(config, "workerinput"):
        return
    # Random runs get a seed the result files can name (and a rerun can use:
    # --hypothesis-seed); xdist hands the controller's options to its workers.
    from hypothesis import settings as s
    if not s.default.derandomize and config.getoption("hypothesis_seed", None) is None:
        import random
        config.option.hypothesis_seed = str(random.randrange(1 << 32))
    from harness import ktap
    config._execspec_ktap = ktap.configure(config, lambda: runinfo.header_lines(run_info(config)))
    if config.getoption("--summary"):
        config._execspec_summary = runinfo.Summary()
        config.pluginmanager.register(_SummaryHooks(config), "execspec-summary")
    xml = _logxml(config)
    if xml is not None:
        xml.suite_name = "execspec"


def _logxml(config: pytest.Config):
    try:
        from _pytest.junitxml import xml_key
        return config.stash.get(xml_key, None)
    except ImportError:
        return None


class _SummaryHooks:
    def __init__(self, config):
        self.config = config

    def pytest_runtest_logreport(self, report) -> None:
        self.config._execspec_summary.add(report)


def pytest_sessionstart(session: pytest.Session) -> None:
    """Once per run (the controller under xdist): can the target start?
    A CI-facing run that cannot stops here with one line saying why."""
    config = session.config
    if hasattr(config, "workerinput"):
        return
    from harness.targets import TargetBroken, TargetUnavailable, preflight
    name = config.getoption("--target")
    try:
        preflight(name, config.getoption("--kernel"), config.getoption("--modules"))
    except (TargetUnavailable, TargetBroken) as e:
        msg = f"target {name} cannot start: {' '.join(str(e).split())}"
        config._execspec_unavailable = msg
        if require_target():
            config._execspec_bail = msg
            if getattr(config, "_execspec_ktap", None) is not None:
                config._execspec_ktap.bail = msg
            raise pytest.UsageError(
                msg + " (a CI run needs its target; EXECSPEC_REQUIRE_TARGET=0 skips instead)") from e


MACHINE_MARKERS = {
    "root": "needs to run as root",
    "userns": "needs user namespaces (the sandbox executor, the simulator jail, a reproducer)",
    "docker": "needs a container engine (docker/engine.sh start)",
    "qemu": "boots QEMU guests (qemu-system-x86_64, a Debian kernel)",
}


def _target_marker(target: str) -> str | None:
    """The machine marker of the tests that run cases on --target."""
    kind = target.partition(":")[0]
    return {"sandbox": "userns", "sim": "userns", "docker": "docker", "qemu": "qemu"}.get(kind)


def pytest_collection_modifyitems(config: pytest.Config, items) -> None:
    needs = _target_marker(config.getoption("--target"))
    reason = _unavailable(config)
    for item in items:
        if "target" not in getattr(item, "fixturenames", ()):
            continue
        if needs:  # the suites: what they need is where their cases run
            item.add_marker(getattr(pytest.mark, needs))
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


def pytest_unconfigure(config: pytest.Config) -> None:
    """The summary (and, for a run stopped before testing, a JUnit file
    with its one error) once everything is known."""
    if hasattr(config, "workerinput"):
        return
    from harness import runinfo
    bail = getattr(config, "_execspec_bail", None)
    summary = getattr(config, "_execspec_summary", None)
    if summary is not None:
        data = summary.render(run_info(config), getattr(config, "_execspec_exitstatus", 3 if bail else None))
        if bail:
            data["error"] = bail
        runinfo.write_json(config.getoption("--summary"), data)
    xmlpath = config.getoption("xmlpath", None)
    if bail and xmlpath:
        runinfo.write_bail_junit(xmlpath, run_info(config), bail)


def pytest_report_header(config: pytest.Config) -> list[str]:
    from hypothesis import settings as s
    seed = config.getoption("hypothesis_seed", None)
    return [f"execspec: target={config.getoption('--target')} kernel={config.getoption('--kernel') or 'from target'} "
            f"hypothesis-profile={s.get_current_profile_name()}"
            + (f" seed={seed} (rerun: --hypothesis-seed={seed})" if seed is not None else "")]


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    if _unavailable(config):
        terminalreporter.write_line(f"execspec: every test that needs the target SKIPPED: {_unavailable(config)} "
                                    "(EXECSPEC_REQUIRE_TARGET=1, as in CI, makes this an error)")
    n = _cases_run() + sum(_worker_cases)
    if n:
        terminalreporter.write_line(f"execspec: {n} cases ran on target {config.getoption('--target')} "
                                    "and matched the model unless reported above")
