"""Pinned binfmt_misc cases (suites/test_binfmt_misc.py), in the case
format's JSON form: the registration grammar (create_entry), the control
files and the handler (load_misc_binary), one rule each."""
from __future__ import annotations

from typing import Any

from contract.case import case_from_json

from . import Pinned

I = {"path": "/bin/interp", "type": "probe", "tag": "I"}
F_XYZ = {"path": "/f.xyz", "type": "file", "mode": "0755", "data": "MZdata"}


def _case(regs: list[Any], path: str = "/f.xyz", files: list[dict[str, Any]] | None = None,
          reads: list[str] | None = None, **ex: Any) -> dict[str, Any]:
    c = {"files": files if files is not None else [I, F_XYZ], "binfmt_misc": regs,
         "exec": {"path": path, "argv": ["f", "a"], "envp": [], **ex}}
    if reads:
        c["binfmt_misc_read"] = reads
    return c


_PINNED: dict[str, dict[str, Any]] = {
    # grammar (create_entry)
    "too_short_10_bytes": _case([":a:E::x::/"]),
    "shortest_11_bytes": _case([":a:E::x::/:"], path="/f.x",
                               files=[{"path": "/f.x", "type": "file", "mode": "0755", "data": ""}], reads=["a"]),
    # MAX_REGISTER_LENGTH: the whole write is counted; ":t:E::xyz::/bin" and
    # "interp:" are 22 bytes, the slashes make up the rest.
    "length_1919_ok": _case([":t:E::xyz::/bin" + "/" * (1919 - 22) + "interp:"], reads=["t"]),
    "length_1920_ok": _case([":t:E::xyz::/bin" + "/" * (1920 - 22) + "interp:"], reads=["t"]),
    "length_1921_einval": _case([":t:E::xyz::/bin" + "/" * (1921 - 22) + "interp:"]),
    "empty_name": _case(["::E::xyz::/bin/interp:"]),
    "dot_name": _case([":.:E::xyz::/bin/interp:"]),
    "slash_name": _case([":a/b:E::xyz::/bin/interp:"]),
    "name_256_enametoolong": _case([":" + "n" * 256 + ":E::xyz::/bin/interp:"]),
    "name_255_ok": _case([":" + "n" * 255 + ":E::xyz::/bin/interp:"], reads=["n" * 255]),
    "name_status_eexist": _case([":status:E::xyz::/bin/interp:"]),
    "duplicate_eexist": _case([":t:E::xyz::/bin/interp:", ":t:E::abc::/bin/interp:"]),
    "type_lowercase": _case([":t:e::xyz::/bin/interp:"]),
    "type_two_letters": _case([":t:EM::xyz::/bin/interp:"]),
    "ext_with_slash": _case([":t:E::x/z::/bin/interp:"]),
    "ext_with_dot_never_matches": _case([":t:E::f.xyz::/bin/interp:"], reads=["t"]),
    "ext_ignores_offset_and_mask": _case([":t:E:junk:xyz:junk:/bin/interp:"], reads=["t"]),
    "empty_interpreter": _case([":t:E::xyz:::"]),
    "unknown_flag": _case([":t:E::xyz::/bin/interp:X"]),
    "flag_then_newline": _case([":t:E::xyz::/bin/interp:P\n"], reads=["t"]),
    "two_newlines": _case([":t:E::xyz::/bin/interp:P\n\n"]),
    "trailing_space": _case([":t:E::xyz::/bin/interp: "]),
    "no_flags_field": _case([":t:E::xyz::/bin/interp"]),
    "nul_delimiter": _case(["\0t\0E\0\0xyz\0\0/bin/interp\0P"], reads=["t"]),
    "newline_delimiter_needs_trailing_newline": _case(["\nt\nE\n\nxyz\n\n/bin/interp\nP"]),
    "newline_delimiter_with_newline": _case(["\nt\nE\n\nxyz\n\n/bin/interp\nP\n"], reads=["t"]),
    "flag_letter_delimiter": _case(["PtPEPPxyzPP/bin/interpP\n"]),
    "letter_delimiter_ok": _case(["QtQEQQxyzQQ/bin/interpQO\n"], reads=["t"]),
    "hexdigit_delimiter_eats_escape": _case(["at\\xaaaEaaxyzaa/bin/interpa"]),
    "offset_plus": _case([":t:M:+2:data::/bin/interp:"], reads=["t"]),
    "offset_minus_zero": _case([":t:M:-0:MZ::/bin/interp:"], reads=["t"]),
    "offset_negative": _case([":t:M:-1:MZ::/bin/interp:"]),
    "offset_newline": _case([":t:M:2\n:data::/bin/interp:"], reads=["t"]),
    "offset_hex_einval": _case([":t:M:0x2:data::/bin/interp:"]),
    "offset_max": _case([":t:M:255:\\x00::/bin/interp:"], reads=["t"]),
    "offset_past_buffer": _case([":t:M:256:\\x00::/bin/interp:"]),
    "magic_256_bytes": _case([":t:M::" + "\\x00" * 256 + "::/bin/interp:"], reads=["t"]),
    "magic_257_bytes": _case([":t:M::" + "\\x00" * 257 + "::/bin/interp:"]),
    "empty_magic": _case([":t:M::::/bin/interp:"]),
    "bad_escape": _case([":t:M::\\xg0::/bin/interp:"]),
    "short_escape": _case([":t:M::\\x4::/bin/interp:"]),
    "backslash_pair_kept": _case([":t:M::\\\\x41::/bin/interp:"], reads=["t"]),
    "raw_nul_ends_magic": _case([":t:M::MZ\0junk::/bin/interp:"], reads=["t"]),
    "mask_shorter": _case([":t:M::MZ:\\xff:/bin/interp:"]),
    "mask_raw_nul_is_no_mask": _case([":t:M::MZ:\0\\xff:/bin/interp:"], reads=["t"]),
    "mask_rendered": _case([":t:M:0:MZ:\\xff\\xdf:/bin/interp:OC"], reads=["t"]),
    # begin_new_exec's AT_EXECFD (exec.rlimit_nofile): the lowest free
    # descriptor below the limit, past the point of no return
    "execfd_no_free_descriptor_sigsegv": _case([":t:E::xyz::/bin/interp:O"], rlimit_nofile=3),
    "execfd_fd3_free": _case([":t:E::xyz::/bin/interp:O"], rlimit_nofile=4),
    "execfd_dirfd_held_sigsegv": _case([":t:E::xyz::/bin/interp:O"], path="f.xyz", syscall="execveat",
                                       dirfd="/", rlimit_nofile=4),
    "execfd_dirfd_held_fd4_free": _case([":t:E::xyz::/bin/interp:O"], path="f.xyz", syscall="execveat",
                                        dirfd="/", rlimit_nofile=5),
    # matching and the handler
    "ext_matches_p": _case([":t:E::xyz::/bin/interp:P"]),
    "ext_matches_no_p": _case([":t:E::xyz::/bin/interp:"]),
    "ext_dot_in_directory_only": _case([":t:E::xyz::/bin/interp:"], path="/d.xyz/f",
                                       files=[I, {"path": "/d.xyz/f", "type": "file", "mode": "0755", "data": "x"}]),
    "magic_case_insensitive_by_mask": _case([":t:M::mz:\\xdf\\xdf:/bin/interp:"]),
    "magic_matches_nul_padding": _case([":t:M:6:\\x00\\x00::/bin/interp:"]),
    "magic_in_padding_matches_probe_too": _case([":t:M:200:\\x00\\x00::/bin/interp:"]),
    "newest_first": _case([":a:E::xyz::/bin/interp:", ":b:E::xyz::/bin/i2:"],
                          files=[I, F_XYZ, {"path": "/bin/i2", "type": "probe", "tag": "I2"}]),
    "disabled_entry_skipped": _case([":a:E::xyz::/bin/interp:", ":b:E::xyz::/bin/i2:", {"write": "b", "data": "0"}],
                                    files=[I, F_XYZ, {"path": "/bin/i2", "type": "probe", "tag": "I2"}], reads=["b"]),
    "status_disabled": _case([":a:E::xyz::/bin/interp:", {"write": "status", "data": "0\n"}], reads=["status", "a"]),
    "status_remove_all": _case([":a:E::xyz::/bin/interp:", {"write": "status", "data": "-1"}], reads=["a", "status"]),
    "entry_remove_then_reregister": _case([":a:E::xyz::/nope:", {"write": "a", "data": "-1"},
                                           ":a:E::xyz::/bin/interp:O"], reads=["a"]),
    "write_missing_entry": _case([{"write": "a", "data": "1"}]),
    "write_bad_command": _case([":a:E::xyz::/bin/interp:", {"write": "a", "data": "2"}]),
    "write_four_bytes": _case([":a:E::xyz::/bin/interp:", {"write": "a", "data": "-1\n\n"}]),
    "write_empty_noop": _case([":a:E::xyz::/bin/interp:", {"write": "a", "data": ""}], reads=["a"]),
    "open_binary_execfd": _case([":t:E::xyz::/bin/interp:O"]),
    "credentials_imply_o": _case([":t:E::xyz::/bin/interp:C"], reads=["t"]),
    "missing_interpreter_at_exec": _case([":t:E::xyz::/nope:"]),
    "missing_interpreter_f_at_register": _case([":t:E::xyz::/nope:F"]),
    "f_before_eexist": _case([":status:E::xyz::/nope:F"]),
    "noexec_interpreter_f": _case([":t:E::xyz::/bin/nx:F"],
                                  files=[I, F_XYZ, {"path": "/bin/nx", "type": "probe", "mode": "0644", "tag": "N"}]),
    "relative_interpreter_cwd": _case([":t:E::xyz::bin/interp:"], cwd="/bin"),
    "relative_interpreter_root_cwd": _case([":t:E::xyz::bin/interp:"]),
    "relative_interpreter_f_uses_root": _case([":t:E::xyz::bin/interp:F"], cwd="/bin"),
    "cloexec_fd_enoent": _case([":t:E::xyz::/bin/interp:"], path="f.xyz", syscall="execveat", dirfd="/",
                               dirfd_cloexec=True),
    "empty_path_fd_name": _case([":t:E::xyz::/bin/interp:"], path="", syscall="execveat", dirfd="/f.xyz",
                                flags=["AT_EMPTY_PATH"]),
    "probe_elf_magic_loops": _case([":t:M::\\x7fELF::/bin/interp:"], path="/bin/interp"),
    "ext_interpreter_loops": _case([":t:E::xyz::/i.xyz:"],
                                   files=[F_XYZ, {"path": "/i.xyz", "type": "file", "mode": "0755", "data": "x"}]),
    "o_then_script_enoexec": _case([":t:E::xyz::/w:O"],
                                   files=[I, F_XYZ, {"path": "/w", "type": "file", "mode": "0755",
                                                     "data": "#!/bin/interp\n"}]),
    "magic_beats_shebang": _case([":t:M::#!::/bin/interp:"], path="/s",
                                 files=[I, {"path": "/s", "type": "file", "mode": "0755", "data": "#!/nope\n"}]),
    "script_interpreter_must_be_executable": _case([":t:E::py::/bin/interp:"], path="/s",
                                         files=[I, {"path": "/s", "type": "file", "mode": "0755",
                                                    "data": "#!/r.py arg\n"},
                                                {"path": "/r.py", "type": "file", "mode": "0644", "data": ""}]),
    "script_interpreter_via_misc": _case([":t:E::py::/bin/interp:"], path="/s",
                                         files=[I, {"path": "/s", "type": "file", "mode": "0755",
                                                    "data": "#!/r.py arg\n"},
                                                {"path": "/r.py", "type": "file", "mode": "0755", "data": ""}]),
}


_TAGS = {
    "flag_letter_delimiter": ("8e85d50ba111",),  # a flag character as the delimiter: EINVAL from 7.2
    "f_before_eexist": ("e7850f4d844e",),  # since 5.12 F opens the interpreter before the name lookup
    "offset_max": ("6eb3c3d0a52d",),  # BINPRM_BUF_SIZE 128 -> 256 (5.1)
    "magic_in_padding_matches_probe_too": ("6eb3c3d0a52d",),
}

PINNED = {n: Pinned(n, case_from_json(d, where=f"pinned {n}"), tuple(f"linux-git:{c}" for c in _TAGS.get(n, ())))
          for n, d in _PINNED.items()}
