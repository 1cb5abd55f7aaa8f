"""Credentials on exec (bprm_fill_uid, cap_bprm_creds_from_file, AT_SECURE),
exec as a user that is not root (DAC: search and execute permission), and
noexec / nosuid / ro mounts (path_noexec, mnt_may_suid)."""
from __future__ import annotations

from hypothesis import given

from generators.creds import cred_cases, securebits_cases


@given(cred_cases())
def test_creds_and_mounts(conform, case):
    conform(case)


@given(securebits_cases())
def test_securebits_and_check(conform, case):
    conform(case)
