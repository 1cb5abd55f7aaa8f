"""The executor's frame parser under ASan/UBSan, fed generated and mutated
frames for a fixed budget: every record length is checked against its
frame, and no input may crash it, hang it or put it out of step.

The fuzzed executor is built here with -fsanitize (dynamic: ASan has no
static runtime), into the build cache; it runs real cases for the frames
that parse, each in its own namespaces like any executor.
"""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract.case import LIMITS
from generators.execveat import execveat_cases
from generators.shebang import shebang_cases
from harness import build
from harness.executor import userns_available
from harness.protocol import decode_response, encode_case, records

pytestmark = pytest.mark.userns  # the executor, sanitized, in user namespaces
BUDGET = int(os.environ.get("EXECSPEC_FUZZ_EXAMPLES", "300"))


@pytest.fixture(scope="module")
def asan_executor(tmp_path_factory):
    ok, why = userns_available()
    if not ok:
        pytest.skip(why)
    if shutil.which(build.CC) is None:
        pytest.skip("no C compiler")
    # EXECSPEC_FUZZ_SOURCE: fuzz another executor.c (an older one, to see what it finds)
    src = Path(os.environ.get("EXECSPEC_FUZZ_SOURCE", build.NATIVE / "executor.c"))
    out = build.build_dir() / ("executor-asan" if "EXECSPEC_FUZZ_SOURCE" not in os.environ else "executor-asan-other")
    if not out.exists() or "EXECSPEC_FUZZ_SOURCE" in os.environ:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        r = subprocess.run([build.CC, "-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                            "-I", str(build.CONTRACT), "-Wall", "-o", str(tmp), str(src)],
                           capture_output=True, text=True)
        if r.returncode:
            pytest.skip(f"no sanitizer runtime here: {r.stderr.strip().splitlines()[-1:]}")
        tmp.rename(out)
    probes = [a for p in build.probe_paths() for a in ("--probe", str(p))]
    env = {**os.environ, "ASAN_OPTIONS": "detect_leaks=0:abort_on_error=0:exitcode=99",
           "UBSAN_OPTIONS": "print_stacktrace=1:exitcode=99"}
    p = subprocess.Popen([str(out), *probes, "--mode", "userns"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env, bufsize=0)
    _read(p)  # hello
    yield p
    p.stdin.close()
    rc = p.wait(timeout=30)
    err = p.stderr.read().decode(errors="replace")
    assert rc == 0, f"the sanitized executor exited {rc}:\n{err[-3000:]}"


def _read(p) -> bytes:
    hdr = p.stdout.read(4)
    if len(hdr) < 4:
        p.wait(timeout=10)
        raise AssertionError(f"executor died ({p.returncode}): {p.stderr.read().decode(errors='replace')[-3000:]}")
    (n,) = struct.unpack("<I", hdr)
    body = b""
    while len(body) < n:
        c = p.stdout.read(n - len(body))
        assert c, "executor closed mid-frame"
        body += c
    return body


def _ask(p, frame: bytes) -> list[tuple[bytes, bytes]]:
    p.stdin.write(struct.pack("<I", len(frame)) + frame)
    return records(_read(p))


def mutate(draw, frame: bytes) -> bytes:
    b = bytearray(frame)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "length", "insert", "type"]))
        if not b:
            break
        i = draw(st.integers(0, len(b) - 1))
        if op == "flip":
            b[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del b[i:]
        elif op == "length" and len(b) >= i + 5:
            struct.pack_into("<I", b, i + 1, draw(st.sampled_from([0, 1, 3, 4, 7, 8, 0xFFFFFFFF, 0x7FFFFFFF,
                                                                    len(b), len(b) - i])))
        elif op == "insert":
            b[i:i] = draw(st.binary(min_size=1, max_size=12))
        elif op == "type":
            b[i] = draw(st.sampled_from(list(b"fbwWRcxXaAeEsdDONFrtZ?")))
    return bytes(b)


@st.composite
def frames(draw) -> tuple[bytes, bool]:
    case = draw(st.one_of(shebang_cases(), execveat_cases()))
    frame = encode_case(case, 2000)
    if draw(st.integers(0, 4)) == 0:
        return frame, True
    return mutate(draw, frame), False


@settings(max_examples=BUDGET, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(frames())
def test_no_frame_crashes_the_executor(asan_executor, item):
    frame, valid = item
    recs = _ask(asan_executor, frame)
    kinds = [p for t, p in recs if t == b"o"]
    assert kinds, recs
    if valid:
        response = b"".join(struct.pack("<cI", t, len(p)) + p for t, p in recs)
        assert decode_response(response)["outcome"] != "target-error"
    # still in step: a well-formed empty-ish case answers right after
    assert any(t == b"o" for t, _ in _ask(asan_executor, b"X\0\0\0\0"))


def test_oversized_frame_is_refused_and_stream_stays_in_step(asan_executor):
    n = LIMITS["MAX_FRAME"] + 1
    asan_executor.stdin.write(struct.pack("<I", n) + b"\0" * n)
    recs = records(_read(asan_executor))
    assert (b"o", b"f") in recs
    assert any(t == b"o" for t, _ in _ask(asan_executor, b"X\0\0\0\0"))
