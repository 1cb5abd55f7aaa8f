"""Reproducers run with nothing of this project around them: written to a
temporary directory, run from there with a bare environment, they report
the real kernel's outcome and whether it is the model's."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from contract.case import Case, Exec, File, case_to_json
from harness.executor import userns_available

ROOT = Path(__file__).resolve().parent.parent
HOST = os.uname().release
pytestmark = [pytest.mark.userns,
              pytest.mark.skipif(not userns_available()[0] or shutil.which("cc") is None,
                                 reason="needs user namespaces and cc")]


def _write(tmp: Path, case: dict, *extra: str) -> Path:
    src = tmp / "case.json"
    src.write_text(json.dumps(case))
    out = tmp / ("repro.c" if "--c" in extra else "repro.sh")
    subprocess.run([sys.executable, "-m", "harness", "repro", str(src), "-o", str(out), "--no-minimise", *extra],
                   cwd=ROOT, check=True)
    return out


def _run_sh(script: Path) -> subprocess.CompletedProcess:
    elsewhere = script.parent / "elsewhere"
    elsewhere.mkdir()
    moved = elsewhere / script.name
    script.rename(moved)
    return subprocess.run(["sh", str(moved)], cwd=elsewhere, env={"PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=120)


def _fits_a_mail(script: Path) -> None:
    lines = script.read_text(encoding="ascii").splitlines()
    assert len(lines) < 200 and max(map(len, lines)) <= 998, (len(lines), max(map(len, lines)))


def test_shell_reproducer_agrees_on_the_host(tmp_path):
    case = json.loads((ROOT / "corpus" / "543841d18060-1.json").read_text())
    script = _write(tmp_path, case)  # --kernel auto: the host's profile
    _fits_a_mail(script)
    r = _run_sh(script)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith(f"kernel: {HOST} ")
    assert "verdict: the kernel agrees with the model" in r.stdout
    assert '"comm":"execveat"' in r.stdout.splitlines()[1]


def test_shell_reproducer_names_the_odd_one_out(tmp_path):
    # Linux 5.10.0 gave comm "3" here; this kernel names the dentry: compared
    # with a 5.10.0 profile the model is the odd one out, and the commit is named
    case = json.loads((ROOT / "corpus" / "543841d18060-1.json").read_text())
    script = _write(tmp_path, case, "--kernel", "5.10.0")
    _fits_a_mail(script)
    r = _run_sh(script)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "verdict: the MODEL is the odd one out" in r.stdout and "with 543841d18060" in r.stdout
    assert '"comm":"3"' in r.stdout and '"comm":"execveat"' in r.stdout


def test_c_reproducer_exact_argv(tmp_path):
    case = Case(files=(File(path=b"/bin/p", type="probe", mode=0o755, tag="P"),),
                exec=Exec(path=b"/bin/p", argv=(b"\xff\xfe", b"a b", b""), envp=(b"K=\x01",)))
    src = _write(tmp_path, case_to_json(case), "--c", "--kernel", HOST)
    exe = tmp_path / "repro"
    subprocess.run(["cc", "-O1", "-o", str(exe), str(src)], check=True)
    r = subprocess.run([str(exe)], cwd=tmp_path, env={}, capture_output=True, timeout=60)
    out = r.stdout.decode("utf-8", "replace")
    assert r.returncode == 0 and "verdict: the kernel agrees with the model" in out, out


def test_c_reproducer_null_argv(tmp_path):
    case = Case(files=(File(path=b"/bin/p", type="probe", mode=0o755, tag="P"),),
                exec=Exec(path=b"/bin/p", argv=None, envp=None))
    src = _write(tmp_path, case_to_json(case), "--c", "--kernel", HOST)
    exe = tmp_path / "repro"
    subprocess.run(["cc", "-O1", "-o", str(exe), str(src)], check=True)
    r = subprocess.run([str(exe)], cwd=tmp_path, env={}, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "agrees" in r.stdout, r.stdout + r.stderr
    assert '"argv":[""]' in r.stdout


def test_shell_reproducer_symlink_chain_alternatives(tmp_path):
    """25 links: the model predicts exec, or ELOOP when the RCU walk retries
    (its `alternatives`); either is agreement."""
    files = [File(path=b"/p", type="probe", mode=0o755, tag="P")]
    files += [File(path=b"/l%d" % i, type="symlink", mode=0o777, data=b"/l%d" % (i + 1) if i < 24 else b"/p")
              for i in range(25)]
    case = Case(files=tuple(files), exec=Exec(path=b"/l0", argv=(b"x",), envp=()))
    import model
    assert model.predict(case, HOST).get("alternatives")
    r = _run_sh(_write(tmp_path, case_to_json(case), "--kernel", HOST))
    assert r.returncode == 0 and "verdict: the kernel agrees with the model" in r.stdout, r.stdout + r.stderr


# ------------------------------------------------ the C's canonical text is Python's

@pytest.fixture(scope="module")
def c_renderer(tmp_path_factory):
    """repro.c's own render(), fed a probe report on stdin."""
    import model
    from harness.repro import c_source
    case = Case(files=(File(path=b"/p", type="probe", mode=0o755, tag="P"),),
                exec=Exec(path=b"/p", argv=(b"p",), envp=()))
    d = tmp_path_factory.mktemp("render")
    src = d / "render.c"
    src.write_text("#define main repro_main\n" + c_source(case, model.profile(HOST)) + "\n#undef main\n"
                   "int main(void) { rn = fread(rep, 1, sizeof rep, stdin); kind = 'p'; render(1); "
                   "fputs(js, stdout); return 0; }\n")
    exe = d / "render"
    subprocess.run(["cc", "-O1", "-w", "-o", str(exe), str(src)], check=True)
    return exe


def _report(tag: bytes, argv: list[bytes], envp: list[bytes], execfn: bytes, comm: bytes) -> bytes:
    import struct
    recs = [(b"T", tag), *((b"a", a) for a in argv), *((b"e", e) for e in envp), (b"X", execfn), (b"C", comm),
            (b"Z", b"")]
    return b"".join(t + struct.pack("<I", len(p)) + p for t, p in recs)


_TRICKY = [b"\xed\xa0\x80", b"\xc0\x80", b"\xf4\x90\x80\x80", b"\xe0\x80\xaf", b"\x7f", b"\x00", b"\"\\/\b\f\n\r\t",
           "\u2028\U0001f600\u00e9".encode(), b"\xff\xfe", b"\xf0\x9f\x98"]


def test_c_canonical_text_is_pythons(c_renderer):
    """The reproducer's verdict compares digests of this text: it must be
    contract.case.canonical_outcome's, byte for byte (no second encoding)."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from contract.case import canonical_outcome
    from harness.protocol import parse_report
    piece = st.one_of(st.binary(max_size=12), st.text(max_size=8).map(lambda t: t.encode("utf-8", "surrogatepass")),
                      st.sampled_from(_TRICKY))
    word = st.lists(piece, max_size=3).map(b"".join)

    @settings(max_examples=150, deadline=None, database=None, derandomize=True)
    @given(st.lists(word, max_size=4), st.lists(word, max_size=3), word, word)
    def check(argv, envp, execfn, comm):
        rep = _report(b"P", argv, envp, execfn, comm)
        out = subprocess.run([str(c_renderer)], input=rep, capture_output=True, check=True).stdout.decode("ascii")
        assert out == canonical_outcome(parse_report(rep))
    check()


def test_hostile_case_through_the_reproducer_stays_in_it(tmp_path):
    """A stranger's crafted program run by a reproducer (as root, here in CI)
    must not reach the host: the reproducer runs it as nobody in its user
    namespace, so the chroot escape it tries finds no power behind it."""
    import base64

    from tests.hostile import build
    canary = tmp_path / "canary"
    canary.mkdir()
    os.chmod(tmp_path, 0o755)
    prog = build(tmp_path / "hostile").read_bytes()
    case = {"files": [{"path": "/h", "type": "file", "mode": "0755", "data": {"b64": base64.b64encode(prog).decode()}}],
            "exec": {"path": "/h", "argv": ["h", "escape", str(canary)], "envp": []}}
    r = _run_sh(_write(tmp_path, case))
    assert "observed:" in r.stdout, r.stdout + r.stderr
    assert os.listdir(canary) == []
