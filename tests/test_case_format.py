"""Case I/O: byte-exact round trips and errors that name the field."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contract.case import (
    Case,
    CaseError,
    Exec,
    File,
    case_from_json,
    case_to_json,
    dumps_outcome,
    load_cases,
    outcome_from_json,
)

ROOT = Path(__file__).resolve().parent.parent
no_nul = st.binary(max_size=40).map(lambda b: b.replace(b"\0", b"\x01"))
component = st.binary(min_size=1, max_size=20).map(lambda b: b.replace(b"\0", b"\x01").replace(b"/", b"_")).filter(
    lambda b: b not in (b".", b".."))


@settings(max_examples=300)
@given(path=st.lists(component, min_size=1, max_size=4).map(lambda cs: b"/" + b"/".join(cs)),
       data=st.binary(max_size=300), argv=st.one_of(st.none(), st.lists(no_nul, max_size=4)),
       envp=st.one_of(st.none(), st.lists(no_nul, max_size=4)), reg=st.binary(max_size=30),
       target=no_nul.filter(bool))
def test_round_trip_is_byte_exact(path, data, argv, envp, reg, target):
    c = Case(files=(File(path=path, type="file", mode=0o755, data=data),
                    File(path=path + b"l", type="symlink", mode=0o777, data=target)),
             exec=Exec(path=path, argv=None if argv is None else tuple(argv),
                       envp=None if envp is None else tuple(envp)),
             binfmt_misc=(reg,))
    text = json.dumps(case_to_json(c))
    assert load_cases(text)[0] == c


def test_writer_prefers_plain_strings():
    c = Case(files=(), exec=Exec(path=b"/x", argv=(b"\xff", b"ok"), envp=()))
    ex = case_to_json(c)["exec"]
    assert ex["argv"] == [{"b64": "/w=="}, "ok"]


BASE = {"files": [{"path": "/p", "type": "probe", "tag": "P"}], "exec": {"path": "/p", "argv": ["p"], "envp": []}}


def _with(path: str, value):
    d = json.loads(json.dumps(BASE))
    *head, last = path.split(".")
    o = d
    for k in head:
        o = o[int(k)] if isinstance(o, list) else o[k]
    if value is KeyError:
        del o[last]
    else:
        o[last] = value
    return d


@pytest.mark.parametrize("path,value,field", [
    ("files.0.mode", 755, "case.files[0].mode"),
    ("files.0.mode", "0999", "case.files[0].mode"),
    ("files.0.type", "whiteout", "case.files[0].type"),
    ("files.0.path", "relative", "case.files[0].path"),
    ("files.0.path", {"b64": "!!"}, "case.files[0].path"),
    ("files.0.tag", "x" * 64, "case.files[0].tag"),
    ("files.0.open_for_write", 1, "case.files[0].open_for_write"),
    ("exec.argv", "p", "case.exec.argv"),
    ("exec.argv", ["a\u0000b"], "case.exec.argv[0]"),
    ("exec.envp", KeyError, "case.exec.envp"),
    ("exec.syscall", "execv", "case.exec.syscall"),
    ("exec.flags", ["AT_EMPTY_PATH"], "case.exec.flags"),
    ("exec.rlimit_stack", -5, "case.exec.rlimit_stack"),
    ("exec.bogus", 1, "case.exec.bogus"),
    ("binfmt_misc", ":a:E::x::/p:", "case.binfmt_misc"),
])
def test_malformed_case_names_the_field(path, value, field):
    with pytest.raises(CaseError) as e:
        case_from_json(_with(path, value))
    assert e.value.field == field, str(e.value)


def test_duplicate_paths_are_refused():
    d = _with("files", [{"path": "/a", "type": "dir"}, {"path": "/a/", "type": "file"}])
    with pytest.raises(CaseError, match=r"files\[1\].path"):
        case_from_json(d)


def test_outcome_round_trip():
    o = {"outcome": "exec", "tag": "P", "argv": [b"\xff", b""], "envp": [], "execfn": b"/x", "comm": b"x",
         "execfd": False}
    assert outcome_from_json(json.loads(dumps_outcome(o))) == o


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT, capture_output=True, text=True,
                          input=stdin, timeout=60)


def test_cli_prints_one_line_per_case(tmp_path):
    f = tmp_path / "cases.json"
    f.write_text(json.dumps([BASE, _with("exec.path", "/missing")]))
    r = _cli("run", str(f), "--target", "model", "--kernel", "6.18")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["outcome"] for x in lines] == ["exec", "error"]


def test_cli_names_the_bad_field_and_runs_the_others(tmp_path):
    f = tmp_path / "bad.json"
    f.write_text(json.dumps([BASE, _with("files.0.mode", "rwx"), BASE]))
    r = _cli("run", str(f), "--target", "model")
    assert r.returncode == 2
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["outcome"] for x in lines] == ["exec", "case-error", "exec"]
    assert lines[1]["field"].endswith("[1].files[0].mode")
    assert "[1].files[0].mode" in r.stderr and "Traceback" not in r.stderr


def test_open_for_write_only_on_regular_files_and_round_trips():
    d = {"files": [{"path": "/d", "type": "dir", "open_for_write": True}], "exec": BASE["exec"]}
    with pytest.raises(CaseError) as e:
        case_from_json(d)
    assert e.value.field == "case.files[0].open_for_write"
    d = _with("files.0.open_for_write", True)
    assert case_to_json(case_from_json(d))["files"][0]["open_for_write"] is True
    assert "open_for_write" not in case_to_json(case_from_json(BASE))["files"][0]


def test_cred_and_mount_fields_round_trip_and_name_the_field():
    d = {"files": [{"path": "/m/p", "type": "probe", "tag": "P", "mode": "4755", "uid": 1000, "gid": 5}],
         "mounts": [{"path": "/", "flags": ["nosuid"]}, {"path": "/m", "flags": ["noexec", "ro"]}],
         "exec": {"path": "/m/p", "argv": ["p"], "envp": [], "uid": 1000, "gid": 2000, "groups": [5],
                  "no_new_privs": True, "securebits": ["EXEC_RESTRICT_FILE", "EXEC_DENY_INTERACTIVE_LOCKED"]}}
    c = case_from_json(d)
    assert c.exec.securebits_mask == 0x900
    assert case_from_json(case_to_json(c)) == c and case_to_json(c)["mounts"] == d["mounts"]
    bad = [({"uid": 65536}, "case.exec.uid"), ({"groups": [1, "x"]}, "case.exec.groups[1]"),
           ({"no_new_privs": 1}, "case.exec.no_new_privs"),
           ({"securebits": ["KEEP_CAPS"]}, "case.exec.securebits"),
           ({"securebits": ["EXEC_RESTRICT_FILE"] * 2}, "case.exec.securebits")]
    for extra, field in bad:
        with pytest.raises(CaseError) as e:
            case_from_json({**d, "exec": {**d["exec"], **extra}})
        assert e.value.field == field
    for mounts, field in ([{"path": "/m/"}], "case.mounts[0].path"), ([{"path": "/m", "flags": ["nodev"]}],
                                                                     "case.mounts[0].flags"), \
            ([{"path": "/m"}, {"path": "/"}], "case.mounts[1].path"), ([{"path": "/m/p"}], "case.mounts[0].path"):
        with pytest.raises(CaseError) as e:
            case_from_json({**d, "mounts": mounts})
        assert e.value.field == field
    with pytest.raises(CaseError) as e:
        case_from_json({**d, "files": [{**d["files"][0], "gid": -1}]})
    assert e.value.field == "case.files[0].gid"
    with pytest.raises(CaseError) as e:
        case_from_json({**d, "files": [{**d["files"][0], "open_for_write": True}]})
    assert e.value.field == "case.files[0].open_for_write"


def test_memfd_field_round_trips_and_names_the_field():
    d = {"files": [{"path": "/p", "type": "probe", "tag": "P", "mode": "0755"}],
         "exec": {"path": "", "argv": ["p"], "envp": [], "syscall": "execveat", "dirfd": "/p",
                  "flags": ["AT_EMPTY_PATH"], "memfd": ["MFD_NOEXEC_SEAL", "MFD_ALLOW_SEALING"]}}
    c = case_from_json(d)
    assert c.exec.memfd == ("MFD_ALLOW_SEALING", "MFD_NOEXEC_SEAL") and c.exec.memfd_bits == 0xA
    assert case_from_json(case_to_json(c)) == c
    for extra in ({"memfd": ["MFD_EXEC", "MFD_NOEXEC_SEAL"]}, {"memfd": ["MFD_HUGETLB"]}, {"memfd": "MFD_EXEC"},
                  {"memfd": [], "dirfd": "AT_FDCWD"}, {"memfd": [], "dirfd_opath": True}):
        with pytest.raises(CaseError) as e:
            case_from_json({**d, "exec": {**d["exec"], **extra}})
        assert e.value.field == "case.exec.memfd", extra
    with pytest.raises(CaseError) as e:
        case_from_json({**d, "exec": {"path": "/p", "argv": ["p"], "envp": [], "memfd": []}})
    assert e.value.field == "case.exec.memfd"


def test_new_fields_round_trip():
    """chardev/socket files, file capabilities, exec.personality and
    exec.memfd_noexec survive the JSON codec, and their misuse names the field."""
    from contract.case import case_to_json
    caps = {"permitted": 3, "effective": True, "rootid": 0}
    d = {"files": [{"path": "/n", "type": "chardev"}, {"path": "/s", "type": "socket", "mode": "0755", "uid": 5},
                   {"path": "/p", "type": "probe", "tag": "P", "caps": caps}],
         "exec": {"path": "", "argv": ["x"], "envp": [], "syscall": "execveat", "dirfd": "/p",
                  "flags": ["AT_EMPTY_PATH"], "memfd": ["MFD_ALLOW_SEALING"], "memfd_noexec": 2,
                  "personality": ["ADDR_NO_RANDOMIZE"]}}
    c = case_from_json(d)
    assert case_from_json(case_to_json(c)) == c
    for path, value, field in [("files.0.mode", "0755", "case.files[0].mode"),
                               ("files.2.caps", {"permitted": 1 << 41}, "case.files[2].caps.permitted"),
                               ("files.1.caps", {"permitted": 1}, "case.files[1].caps"),
                               ("exec.memfd_noexec", 3, "case.exec.memfd_noexec"),
                               ("exec.personality", ["READ_IMPLIES_EXEC"], "case.exec.personality")]:
        bad = json.loads(json.dumps(d))
        obj = bad
        *parts, last = path.split(".")
        for p in parts:
            obj = obj[int(p)] if p.isdigit() else obj[p]
        obj[last] = value
        with pytest.raises(CaseError) as e:
            case_from_json(bad)
        assert e.value.field == field, str(e.value)


def test_concurrent_round_trips_and_misuse_names_the_field():
    """exec.concurrent: 2..MAX_CONCURRENT survives the codec (1 is the
    default and stays absent); anything else names the field."""
    from contract.case import LIMITS, case_to_json
    base = {"files": [{"path": "/p", "type": "probe", "tag": "P"}], "exec": {"path": "/p", "argv": ["p"], "envp": []}}
    for n in (2, LIMITS["MAX_CONCURRENT"]):
        c = case_from_json({**base, "exec": {**base["exec"], "concurrent": n}})
        assert c.exec.concurrent == n and case_to_json(c)["exec"]["concurrent"] == n
        assert case_from_json(case_to_json(c)) == c
    assert "concurrent" not in case_to_json(case_from_json({**base, "exec": {**base["exec"], "concurrent": 1}}))["exec"]
    for bad in (0, -1, LIMITS["MAX_CONCURRENT"] + 1, 2.0, "2", None, True, [2]):
        with pytest.raises(CaseError) as e:
            case_from_json({**base, "exec": {**base["exec"], "concurrent": bad}})
        assert e.value.field == "case.exec.concurrent", (bad, str(e.value))
    search = {**base["exec"], "syscall": "search", "via": "execvp", "concurrent": 2}
    with pytest.raises(CaseError) as e:
        case_from_json({**base, "exec": search})
    assert e.value.field == "case.exec.concurrent"


def test_concurrent_outcomes_compare_as_a_multiset():
    """The siblings' outcomes: order means nothing, each may take its own
    alternative, and a missing, extra or different sibling is a difference."""
    from contract.case import diff_outcomes, outcome_from_json, outcome_to_json
    ok = {"outcome": "exec", "tag": "P"}
    racy = {**ok, "alternatives": [{"outcome": "error", "errno": "ELOOP"}]}
    eloop = {"outcome": "error", "errno": "ELOOP"}
    expected = {**racy, "concurrent": [dict(racy), dict(racy)]}
    assert diff_outcomes(expected, {**ok, "concurrent": [ok, ok]}) == []
    assert diff_outcomes(expected, {**ok, "concurrent": [eloop, ok]}) == []
    assert diff_outcomes(expected, {**eloop, "concurrent": [eloop, eloop]}) == []
    assert diff_outcomes(expected, {**ok, "concurrent": [ok, {"outcome": "error", "errno": "ETXTBSY"}]})
    assert diff_outcomes(expected, {**ok, "concurrent": [ok]})
    assert diff_outcomes(expected, ok)
    assert diff_outcomes({"outcome": "error", "errno": "ENOENT"}, {"outcome": "error", "errno": "ENOENT",
                                                                  "concurrent": []})
    # mixed predictions are matched, not zipped
    a, b = {"outcome": "exec", "tag": "A"}, {"outcome": "exec", "tag": "B"}
    assert diff_outcomes({**a, "concurrent": [a, b]}, {**a, "concurrent": [b, a]}) == []
    assert diff_outcomes({**a, "concurrent": [a, b]}, {**a, "concurrent": [b, b]})
    o = {**ok, "argv": [b"\xff"], "concurrent": [{**ok, "argv": [b"\xff"]}]}
    assert outcome_from_json(outcome_to_json(o)) == o
    with pytest.raises(CaseError) as e:
        outcome_from_json({"outcome": "exec", "concurrent": [{"outcome": "nope"}]})
    assert e.value.field == "outcome.concurrent[0].outcome"


def test_model_predicts_a_copy_per_sibling():
    import model
    base = {"files": [{"path": "/p", "type": "probe", "tag": "P"}], "exec": {"path": "/p", "argv": ["p"], "envp": []}}
    single = model.predict(case_from_json(base), "newest")
    out = model.predict(case_from_json({**base, "exec": {**base["exec"], "concurrent": 5}}), "newest")
    assert out.pop("concurrent") == [single] * 4 and out == single
    failing = {**base, "exec": {**base["exec"], "path": "/nope", "concurrent": 2}}
    assert model.predict(case_from_json(failing), "newest")["concurrent"] == [{"outcome": "error", "errno": "ENOENT"}]
    # before the call: no siblings exist
    reg = {**base, "binfmt_misc": [":bad"], "exec": {**base["exec"], "concurrent": 3}}
    assert "concurrent" not in model.predict(case_from_json(reg), "newest")


def test_from_thread_round_trips_and_misuse_names_the_field():
    import model
    from contract.case import case_to_json
    base = {"files": [{"path": "/p", "type": "probe", "tag": "P"}], "exec": {"path": "/p", "argv": ["p"], "envp": []}}
    c = case_from_json({**base, "exec": {**base["exec"], "from_thread": True, "concurrent": 3}})
    assert c.exec.from_thread and case_from_json(case_to_json(c)) == c
    assert "from_thread" not in case_to_json(case_from_json(base))["exec"]
    for bad in (1, "true", None):
        with pytest.raises(CaseError) as e:
            case_from_json({**base, "exec": {**base["exec"], "from_thread": bad}})
        assert e.value.field == "case.exec.from_thread", str(e.value)
    # the program has the caller's pid: the case init's 1, or the N children's 2..N+1
    out = model.predict(c, "newest")
    assert out["pid"] == 2 and sorted(s["pid"] for s in out["concurrent"]) == [3, 4]
    assert model.predict(case_from_json({**base, "exec": {**base["exec"], "from_thread": True}}), "newest")["pid"] == 1
    assert "pid" not in model.predict(case_from_json(base), "newest")


def test_every_probe_variant_fits_the_executor_and_the_guest_init():
    # executor.c loads at most MAX_PROBES images and the guest init passes
    # at most as many /probeN: a variant past it reached guests as "probe
    # variant: EINVAL" (the init's own limit was 12 when there were 14)
    from contract.case import LIMITS, PROBE_VARIANTS
    assert len(PROBE_VARIANTS) <= LIMITS["MAX_PROBES"]
    init = (Path(__file__).resolve().parent.parent / "harness" / "native" / "init.c").read_text()
    assert "MAX_PROBES" in init and "MAX_GUEST_PROBES" not in init
