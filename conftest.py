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


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("execspec")
    g.addoption("--target", default=os.environ.get("EXECSPEC_TARGET", "sandbox"),
                help="where cases run: sandbox (host kernel, default) or model")
    g.addoption("--kernel", default=None,
                help="sandbox/model: the model profile (e.g. 6.18, 5.10.223+dcd46d897adb); "
                     "qemu: the kernel image (debian-5.10 ... debian-7.3, debian:SUITE or a bzImage path)")
    g.addoption("--profile", default=None,
                help="model profile to compare against (default: the target's kernel, adjusted by detected features)")
    g.addoption("--modules", default=None, help="qemu: binfmt_misc.ko or a modules tree for a custom image")
    g.addoption("--ktap", default=None, metavar="FILE",
                help="also write the results as KTAP (kselftest's format) to FILE, or - for stdout")


def _image_target(name: str) -> bool:
    """qemu/uml: --kernel names a kernel image, not a model profile."""
    from harness.targets import is_image_target
    return is_image_target(name.partition(":")[0])


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest):
    from harness.targets import TargetUnavailable, get_target
    name = request.config.getoption("--target")
    try:
        kernel = request.config.getoption("--kernel")
        if not _image_target(name):  # sandbox/model: --kernel/--profile is the model profile
            kernel = request.config.getoption("--profile") or kernel
        t = get_target(name, kernel, request.config.getoption("--modules"))
    except TargetUnavailable as e:
        if os.environ.get("EXECSPEC_REQUIRE_TARGET"):  # CI: a target that cannot run is a failure
            pytest.fail(f"target required (EXECSPEC_REQUIRE_TARGET) but unavailable: {e}", pytrace=False)
        pytest.skip(str(e))
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
    return model.profile(_profile_option(request.config) or target.kernel)


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


def pytest_sessionfinish(session: pytest.Session) -> None:
    if hasattr(session.config, "workeroutput"):  # an xdist worker reports to the controller
        session.config.workeroutput["execspec_cases"] = _cases_run()


_worker_cases: list[int] = []


class _XdistHooks:
    """Registered only with xdist, whose hook this is."""

    def pytest_testnodedown(self, node, error) -> None:
        _worker_cases.append(getattr(node, "workeroutput", {}).get("execspec_cases", 0))


def pytest_configure(config: pytest.Config) -> None:
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistHooks())
    if config.getoption("--ktap", None):
        from hypothesis import settings as s

        from harness import ktap
        ktap.configure(config, [
            f"execspec: target={config.getoption('--target')} kernel={config.getoption('--kernel') or 'from target'}",
            f"hypothesis profile {s._current_profile}"
            + (" (derandomized: fixed seed)" if s.default.derandomize else "")])


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    n = _cases_run() + sum(_worker_cases)
    if n:
        terminalreporter.write_line(f"execspec: {n} cases ran on target {config.getoption('--target')} "
                                    "and matched the model unless reported above")


def pytest_report_header(config: pytest.Config) -> list[str]:
    from hypothesis import settings as s
    return [f"execspec: target={config.getoption('--target')} kernel-profile={config.getoption('--kernel') or 'from target'} "
            f"hypothesis-profile={s._current_profile}"]
