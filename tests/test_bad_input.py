"""Bad input of every kind gets an error naming its field: never a
traceback, never a hang, and the good cases of the same file still run."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from contract.case import LIMITS

ROOT = Path(__file__).resolve().parent.parent
OK = {"files": [{"path": "/p", "type": "probe", "tag": "P"}], "exec": {"path": "/p", "argv": ["p"], "envp": []}}


def case(**kw) -> dict:
    d = json.loads(json.dumps(OK))
    for k, v in kw.items():
        o = d
        *head, last = k.split("__")
        for h in head:
            o = o[int(h)] if isinstance(o, list) else o[h]
        o[last] = v
    return d


def probe_at(path: str) -> dict:
    return {"path": path, "type": "probe", "tag": "Q"}


# (case JSON, the field its error must name)
BAD = [
    (case(exec__syscall="execveat", exec__dirfd=2**40), "exec.dirfd"),
    (case(exec__syscall="execveat", exec__dirfd=100), "exec.dirfd"),  # the status pipe's number
    (case(exec__rlimit_stack=2**70), "exec.rlimit_stack"),
    (case(exec__cwd="/" + "c" * 5000), "exec.cwd"),
    (case(files=[{"path": "/", "type": "file"}]), "files[0].path"),
    (case(files=[{"path": "/f/", "type": "file"}]), "files[0].path"),
    (case(files=[{"path": "/f", "type": "file"}, probe_at("/f/p")]), "files[1].path"),
    (case(files=[{"path": "/l", "type": "symlink", "target": "/tmp"}, probe_at("/l/p")]), "files[1].path"),
    (case(files=[probe_at("/" + "n" * 256)]), "files[0].path"),
    (case(files=[probe_at("/d" * 2100)]), "files[0].path"),
    (case(files=[{"path": "/p", "type": "probe", "tag": "\udc00\ud800"}]), "files[0].tag"),
    (case(exec__path={"b64": "!!"}), "exec.path"),
    (case(files=[probe_at(f"/f{i}") for i in range(LIMITS["MAX_FILES"] + 1)]), "files"),
    (case(binfmt_misc=[":a:E::x::/p:"] * (LIMITS["MAX_OPS"] + 1)), "binfmt_misc"),
    (case(binfmt_misc_read=["x"] * (LIMITS["MAX_READS"] + 1)), "binfmt_misc_read"),
    (case(files=[{"path": f"/w{i}", "type": "file", "open_for_write": True}
                 for i in range(LIMITS["MAX_WOPEN"] + 1)]), "files"),
    (case(exec__concurrent=LIMITS["MAX_CONCURRENT"] + 1), "exec.concurrent"),
    (case(exec__concurrent=0), "exec.concurrent"),
    (case(exec__concurrent="4"), "exec.concurrent"),
    (case(exec__concurrent=True), "exec.concurrent"),
]


def _run(text: bytes, target: str = "sandbox") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", "run", "/dev/stdin", "--target", target],
                          cwd=ROOT, input=text, capture_output=True, timeout=120)


@pytest.mark.parametrize("target", ["model", pytest.param("sandbox", marks=pytest.mark.userns)])
def test_every_bad_case_is_named_and_the_rest_run(target):
    items = [OK]
    for bad, _ in BAD:
        items += [bad, OK]
    r = _run(json.dumps(items).encode(), target)
    err = r.stderr.decode()
    assert "Traceback" not in err and r.returncode == 2, err
    out = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert len(out) == len(items)
    for k, (bad, field) in enumerate(BAD):
        o = out[1 + 2 * k]
        assert o["outcome"] == "case-error" and o["field"].endswith(field), (bad, o)
    assert all(o["outcome"] == "exec" for o in out[::2])


@pytest.mark.parametrize("text,what", [
    (b"[" * 100000 + b"]" * 100000, "nested too deeply"),
    (b'{"files": [], "exec": {"path": "\xff\xfe", "argv": [], "envp": []}}', "not UTF-8"),
    (b'{"files": [', "not JSON"),
])
def test_unreadable_files_get_one_clear_line(text, what):
    r = _run(text, "model")
    err = r.stderr.decode()
    assert r.returncode == 2 and what in err and "Traceback" not in err, err


@pytest.mark.userns
def test_setup_failures_name_the_field_on_the_real_target():
    r = _run(json.dumps([case(exec__cwd="/missing"), OK]).encode())
    out = [json.loads(x) for x in r.stdout.decode().splitlines()]
    assert out[0] == {"outcome": "case-error", "field": "exec.cwd", "error": "chdir cwd: ENOENT"}
    assert out[1]["outcome"] == "exec"
