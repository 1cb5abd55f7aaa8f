"""The hex line protocol that QEMU guests use (run-length tokens included),
exercised against the real executor on the host kernel: the same case must
give the same outcome over hex lines as over the binary pipe."""
from __future__ import annotations

import struct
import subprocess

import pytest

from contract.case import Case, Exec, File
from harness import build
from harness.executor import Executor, userns_available
from harness.protocol import ProtocolError, decode_response, encode_case, hex_pack, hex_unpack, records


@pytest.mark.parametrize("data", [b"", b"abc", b"\0" * 15, b"\0" * 16, b"x" + b"F" * 100000 + b"yz" * 40,
                                  bytes(range(256)) * 3 + b"*" * 20])
def test_hex_roundtrip(data):
    assert hex_unpack(hex_pack(data)) == data


def test_runs_are_short_on_the_wire():
    assert len(hex_pack(b"F" * (6 << 20))) == 11


def test_bad_run_token():
    with pytest.raises(ProtocolError):
        hex_unpack(b"00*0001")


def _read_line(proc) -> bytes:
    line = proc.stdout.readline()
    assert line.startswith(b"<"), line[:80]
    raw = hex_unpack(line[1:].strip())
    (n,) = struct.unpack_from("<I", raw)
    assert n == len(raw) - 4
    return raw[4:]


@pytest.mark.userns
@pytest.mark.skipif(not userns_available()[0], reason="needs user namespaces")
def test_executor_hex_mode_matches_pipe():
    big = b"F" * 100000  # a long string: one run token on the wire
    case = Case(files=(File(path=b"/bin/probe", type="probe", mode=0o755, tag="P"),),
                exec=Exec(path=b"/bin/probe", argv=(b"p", big, b"tail"), envp=(b"K=V",)))
    probes = [a for p in build.probe_paths() for a in ("--probe", str(p))]
    proc = subprocess.Popen([str(build.native("executor")), *probes, "--mode", "userns", "--hex"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        hello = dict(records(_read_line(proc)))
        assert hello[b"M"] == b"userns"
        frame = encode_case(case, 10000)
        proc.stdin.write(b"noise>" + hex_pack(struct.pack("<I", len(frame)) + frame) + b"\n")
        proc.stdin.flush()
        over_hex = decode_response(_read_line(proc))
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
    pipe = Executor(mode="userns")
    try:
        assert over_hex == pipe.run(case)
    finally:
        pipe.close()
    assert over_hex["argv"] == [b"p", big, b"tail"]
