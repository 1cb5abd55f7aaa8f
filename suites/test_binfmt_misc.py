"""binfmt_misc: registration grammar, control files, matching, flags and the
interplay with "#!" scripts and the probe ELF, generated and pinned.

Each case runs in a private binfmt_misc instance (sandbox target, Linux >= 6.7)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings

from contract.case import case_from_json
from generators.binfmt_misc import (
    control_cases,
    execfd_cases,
    extension_cases,
    flag_cases,
    interplay_cases,
    magic_match_cases,
    probe_magic_cases,
    registration_cases,
)

# Every case here registers or reads rules: a target without a private
# binfmt_misc instance (a host kernel < 6.7) skips the module's tests whole.
pytestmark = pytest.mark.needs("binfmt_misc")


@settings(max_examples=max(400, settings().max_examples))  # scales with the profile
@given(registration_cases())
def test_registration_grammar(conform, case):
    conform(case)


@given(execfd_cases())
def test_execfd_descriptor_limit(conform, case):
    # (sandbox, docker and qemu targets; others skip the exec.rlimit_nofile extension)
    conform(case)


@given(magic_match_cases())
def test_magic_matching(conform, case):
    conform(case)


@given(probe_magic_cases())
def test_probe_magic(conform, case):
    conform(case)


@given(extension_cases())
def test_extension_matching(conform, case):
    conform(case)


@given(flag_cases())
def test_flags(conform, case):
    conform(case)


@given(interplay_cases())
def test_interplay_with_scripts(conform, case):
    conform(case)


@given(control_cases())
def test_control_writes(conform, case):
    conform(case)


# ---------------------------------------------------------------- pinned rules
# (the cases are data: generators/pinned/binfmt_misc.py, whose helpers the 7.3 pins below use too)

from generators.pinned.binfmt_misc import F_XYZ, PINNED, I, _case  # noqa: E402


@pytest.mark.parametrize("name", list(PINNED))
def test_pinned(conform, name):
    conform(PINNED[name].case, pinned=True)


# ---------------------------------------------------------------- 7.3: T, L, D, unlink, identity

from generators.binfmt_misc import (  # noqa: E402
    disabled_lifecycle_cases,
    loader_cases,
    new_flag_registration_cases,
    transparent_cases,
)


@settings(max_examples=200)
@given(new_flag_registration_cases())
def test_new_flag_registrations(conform, case):
    conform(case)


@given(transparent_cases())
def test_transparent(conform, case):
    conform(case)


@given(loader_cases())
def test_loader_substitution(conform, target, case):
    if target.crafted_elf_unsupported:
        pytest.skip(target.crafted_elf_unsupported)
    conform(case)


@given(disabled_lifecycle_cases())
def test_disabled_lifecycle(conform, case):
    conform(case)


APP = {"path": "/app.elf", "type": "file", "mode": "0755"}  # data: a crafted ELF (_pinned_elf)
SUB = {"path": "/lib/sub", "type": "probe", "tag": "SUB", "variant": "pie"}
ORIG = {"path": "/lib/ld", "type": "probe", "tag": "ORIG", "variant": "pie"}
LINK = {"path": "/ln.xyz", "type": "symlink", "target": "/f.xyz"}

PINNED_73 = {
    # registration (EINVAL before 7.3: unknown flag letters)
    "t_flags_read_back_ot": _case([":t:E::xyz::/bin/interp:T"], reads=["t"]),
    "t_with_p_einval": _case([":t:E::xyz::/bin/interp:TP"]),
    "l_with_o_einval": _case([":t:E::xyz::/lib/sub:LO"]),
    "l_relative_einval": _case([":t:E::xyz::lib/sub:L"]),
    "l_relative_f_ok": _case([":t:E::xyz::lib/sub:LF"], files=[I, F_XYZ, SUB], reads=["t"]),
    "c_relative_einval": _case([":t:E::xyz::bin/interp:C"], cwd="/"),
    "d_registered_disabled": _case([":t:E::xyz::/bin/interp:D"], reads=["t"]),
    "d_enable": _case([":t:E::xyz::/bin/interp:D", {"write": "t", "data": "1"}], reads=["t"]),
    "d_enable_goes_first": _case([":a:E::xyz::/bin/interp:D", ":b:E::xyz::/bin/i2:", {"write": "a", "data": "1"}],
                                 files=[I, F_XYZ, {"path": "/bin/i2", "type": "probe", "tag": "I2"}]),
    "t_delimiter_einval": _case(["TtTEXXxyzXX/bin/interpTO"]),
    "type_b_einval": _case([":t:B::::handler:"]),
    "unlink_entry": _case([":t:E::xyz::/bin/interp:", {"unlink": "t"}], reads=["t"]),
    "unlink_status_eperm": _case([":t:E::xyz::/bin/interp:", {"unlink": "status"}]),
    "unlink_missing_enoent": _case([{"unlink": "nope"}]),
    "entry_write_e2big": _case([":t:E::xyz::/bin/interp:", {"write": "t", "data": "1" * 4132}]),
    "entry_write_plus_einval": _case([":t:E::xyz::/bin/interp:", {"write": "t", "data": "+a /bin/interp"}]),
    # transparent dispatch and identity
    "t_exec": _case([":t:E::xyz::/bin/interp:T"]),
    "t_symlink": _case([":t:E::xyz::/bin/interp:T"], path="/ln.xyz", files=[I, F_XYZ, LINK]),
    "t_empty_path": _case([":t:M::MZ::/bin/interp:T"], path="", syscall="execveat", dirfd="/f.xyz",
                          flags=["AT_EMPTY_PATH"]),
    "t_cloexec_fd_runs": _case([":t:E::xyz::/bin/interp:T"], path="f.xyz", syscall="execveat", dirfd="/",
                               dirfd_cloexec=True),
    "classic_empty_path_identity": _case([":t:M::MZ::/bin/interp:"], path="", syscall="execveat",
                                         dirfd="/f.xyz", flags=["AT_EMPTY_PATH"]),
    "p_at_flags": _case([":t:E::xyz::/bin/interp:P"]),
    # loader substitution
    "l_script_as_if_unmatched": _case([":t:E::xyz::/lib/sub:L"], files=[I, SUB, {**F_XYZ, "data": "#!/bin/interp\n"}]),
    "l_missing_substitute_enoent": _case([":t:E::xyz::/lib/nope:L"],
                                         files=[I, {**F_XYZ, "data": "#!/bin/interp\n"}]),
    "l_probe_runs_native": _case([":t:E::xyz::/lib/sub:L"], path="/p.xyz",
                                 files=[SUB, {"path": "/p.xyz", "type": "probe", "tag": "APP"}]),
    "l_data_enoexec": _case([":t:E::xyz::/lib/sub:L"], files=[I, SUB, F_XYZ]),
}


def _pinned_elf(c: dict, interp: bytes = b"/lib/ld\0") -> dict:
    import base64

    from generators.elf import with_interp
    from generators.elfbuild import program
    data = with_interp(program(), [interp])
    files = [ORIG, {**APP, "data": {"b64": base64.b64encode(data).decode()}}] + c["files"]
    return {**c, "files": files, "exec": {**c["exec"], "path": "/app.elf"}}


PINNED_ELF_73 = {
    "l_substitutes_pt_interp": _pinned_elf(_case([":l:E::elf::/lib/sub:L"], files=[SUB])),
    "l_f_substitutes_pt_interp": _pinned_elf(_case([":l:E::elf::/lib/sub:FL"], files=[SUB], reads=["l"])),
    "l_short_script_substitute_eio": _pinned_elf(_case([":l:E::elf::/lib/sub:L"], files=[
        {"path": "/lib/sub", "type": "file", "mode": "0755", "data": "#!/bin/x\n"}])),
    "l_text_substitute_elibbad": _pinned_elf(_case([":l:E::elf::/lib/sub:L"], files=[
        {"path": "/lib/sub", "type": "file", "mode": "0755", "data": "x" * 100}])),
    "l_missing_pt_interp_target_substituted": _pinned_elf(_case([":l:E::elf::/lib/sub:L"], files=[SUB]),
                                                          interp=b"/nope\0"),
}


@pytest.mark.parametrize("name", list(PINNED_73))
def test_pinned_73(conform, name):
    conform(case_from_json(PINNED_73[name]), pinned=True)


@pytest.mark.parametrize("name", list(PINNED_ELF_73))
def test_pinned_elf_73(conform, target, name):
    if target.crafted_elf_unsupported:
        pytest.skip(target.crafted_elf_unsupported)
    conform(case_from_json(PINNED_ELF_73[name]), pinned=True)
