"""`harness features` on the host kernel: every feature the corpus can
detect comes out as its profile says (the host is the model's reference),
and the verdict logic on hand-made outcomes."""
from __future__ import annotations

import pytest

import model
from harness.executor import userns_available
from harness.features import detect, spec_for, verdict
from harness.targets import get_target

E = {"outcome": "error", "errno": "ENOEXEC"}
X = {"outcome": "exit"}


def test_verdict():
    obs = frozenset({"outcome", "errno"})
    assert verdict([X], [X], [E], obs) == "present"
    assert verdict([E], [X], [E], obs) == "absent"
    assert verdict([X], [X], [X], obs).startswith("undetermined")
    assert verdict([{"outcome": "signal"}], [X], [E], obs).startswith("undetermined")
    assert verdict([X, E], [X, X], [E, E], obs).startswith("undetermined")


@pytest.mark.userns
@pytest.mark.skipif(not userns_available()[0], reason="needs user namespaces")
def test_host_features_match_its_profile():
    t = get_target("sandbox")
    try:
        base = model.profile(t.kernel)
        rows = detect(t, base)
    finally:
        t.close()
    decided = [(c, v.split()[0]) for c, v, _ in rows if v.split()[0] in ("present", "absent")]
    assert len(decided) >= 8, rows
    assert "21ca59b365c0" in dict(decided), rows  # asked of the kernel, not of the corpus
    for commit, v in decided:
        assert (v == "present") == base.has(commit), (commit, v)
    assert spec_for(base, rows) == base.name


def test_backported_revert_removes_a_feature():
    """2a010c412853 (6.11) was reverted in 6.13 and the revert reached 6.11.11 and 6.12.2."""
    from model.profiles import profile
    assert profile("6.12.1").has("2a010c412853")
    assert not profile("6.12.2").has("2a010c412853")
    assert profile("6.11.10").has("2a010c412853") and not profile("6.11.11").has("2a010c412853")
    assert not profile("6.13").has("2a010c412853") and not profile("6.10").has("2a010c412853")


def test_flag_line():
    from harness.features import flag_line
    base = model.profile("6.12.95")
    rows = [("543841d18060", "present", 2), ("8e85d50ba111", "absent", 1), ("a5874fde3c08", "undetermined (x)", 1)]
    assert flag_line("6.12.95", base, rows).startswith("agrees")
    rows = [("543841d18060", "absent", 2), ("8e85d50ba111", "present", 1)]
    line = flag_line("6.12.95", base, rows)
    assert line.startswith("FLAG: kernel 6.12.95 disagrees") and "-543841d18060 +8e85d50ba111" in line


def test_overrides_go_before_the_config_items():
    """A target's config makes its base profile "6.1.192;BINFMT_MISC=m": a
    +/-commit appended after it became part of the option's value (the
    feature never changed, binfmt_misc read as absent), so every Debian
    guest's features came out "outcomes match neither prediction"."""
    from harness.features import with_mods
    from model import kconfig
    base = model.profile("6.1.192", config=kconfig.parse("CONFIG_BINFMT_MISC=m\nCONFIG_BINFMT_ELF=y\nCONFIG_COMPAT=y\n"
                                                         "CONFIG_BINFMT_SCRIPT=y\n"))
    assert base.name.startswith("6.1.192;") and base.has("6eb3c3d0a52d")
    without = model.profile(with_mods(base.name, "-6eb3c3d0a52d"))
    assert not without.has("6eb3c3d0a52d") and without.config.binfmt_misc
    assert without.config.get("BINFMT_MISC") == "m"
    rows = [("6eb3c3d0a52d", "absent", 2)]
    assert spec_for(base, rows) == "6.1.192-6eb3c3d0a52d;" + base.name.split(";", 1)[1]
