"""Credentials on exec (bprm_fill_uid, cap_bprm_creds_from_file, AT_SECURE),
exec as a user that is not root (DAC: search and execute permission), and
noexec / nosuid / ro mounts (path_noexec, mnt_may_suid), file capabilities
(get_file_caps, handle_privileged_root)."""
from __future__ import annotations

import pytest
from hypothesis import given

from generators.creds import cred_cases, filecaps_cases, securebits_cases


@given(cred_cases())
def test_creds_and_mounts(conform, case):
    conform(case)


@pytest.fixture(scope="module")
def has_securebits(profile):
    if not profile.has("a5874fde3c08"):
        pytest.skip(f"profile {profile.name}: no EXEC_* securebits before 6.14 (PR_SET_SECUREBITS refuses them)")


@given(securebits_cases())
def test_securebits_and_check(has_securebits, conform, case):
    conform(case)


@given(filecaps_cases())
def test_file_capabilities(conform, case):
    conform(case)
