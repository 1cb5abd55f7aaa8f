"""No silent green: a target that cannot start is one line.  A CI-facing
run (EXECSPEC_REQUIRE_TARGET=1 or CI=true) fails with it before any test
runs, and its KTAP/JUnit/summary files say so; a dev run skips every test
that needs the target with that one reason.  Also: --kernel takes a kernel
build tree."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.targets import TargetUnavailable
from harness.targets.qemu import build_tree, resolve_kernel

ROOT = Path(__file__).resolve().parent.parent


def _env(**kw) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "EXECSPEC_REQUIRE_TARGET", "EXECSPEC_PROFILE")}
    env.update(kw)
    return env


def _pytest(tmp_path, env, *args):
    return subprocess.run([sys.executable, "-m", "pytest", "suites/test_execveat.py", "suites/test_shebang.py",
                           "--target", "qemu", "--kernel", "debian-5.10",
                           "-n", "2", "-q", *args], cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)


def _no_qemu_path(tmp_path) -> str:
    """PATH without qemu-system-x86_64 (whether or not this machine has it)."""
    d = tmp_path / "bin"
    d.mkdir()
    for tool in ("cc", "gcc", "sh", "bash"):
        w = shutil.which(tool)
        if w:
            (d / tool).symlink_to(w)
    return str(d)


@pytest.mark.parametrize("require", [{"EXECSPEC_REQUIRE_TARGET": "1"}, {"CI": "true"}], ids=["require", "ci"])
def test_missing_qemu_fails_ci_with_one_line(tmp_path, require):
    out = tmp_path / "r"
    r = _pytest(tmp_path, _env(PATH=_no_qemu_path(tmp_path), **require),
                "--ktap", f"{out}.ktap", "--junitxml", f"{out}.xml", "--summary", f"{out}.json")
    assert r.returncode != 0
    lines = [l for l in (r.stdout + r.stderr).splitlines() if l.strip()]
    assert len(lines) == 1, lines[:20]
    assert "qemu-system-x86_64 not found" in lines[0] and "cannot start" in lines[0]
    # the result files say it too: a CI reader sees a failure, not an empty green run
    ktap = out.with_suffix(".ktap").read_text()
    assert "Bail out! target qemu cannot start" in ktap
    xml = out.with_suffix(".xml").read_text()
    assert 'name="execspec"' in xml and 'errors="1"' in xml and "qemu-system-x86_64 not found" in xml
    assert "qemu-system-x86_64 not found" in json.loads(out.with_suffix(".json").read_text())["error"]


def test_missing_qemu_in_dev_is_one_skip_reason(tmp_path):
    r = _pytest(tmp_path, _env(PATH=_no_qemu_path(tmp_path)), "-rs")
    assert r.returncode == 0, r.stdout[-2000:]
    reasons = {l.split(": ", 1)[1] for l in r.stdout.splitlines() if l.startswith("SKIPPED [")}
    assert len(reasons) == 1 and "qemu-system-x86_64 not found" in reasons.pop()
    assert "Traceback" not in r.stdout + r.stderr
    assert "execspec: every test that needs the target SKIPPED" in r.stdout


@pytest.mark.root
@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root's unshare -n")
def test_no_network_fails_ci_with_one_line(tmp_path):
    """The kernel download with the network cut (a new network namespace),
    a stand-in qemu on PATH: progress, then the one error line."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "qemu-system-x86_64").write_text("#!/bin/sh\nexit 1\n")
    (fake / "qemu-system-x86_64").chmod(0o755)
    env = _env(EXECSPEC_REQUIRE_TARGET="1", EXECSPEC_CACHE=str(tmp_path / "kernels"),
               PATH=f"{fake}:{os.environ['PATH']}")
    r = subprocess.run(["unshare", "-n", sys.executable, "-m", "pytest", "suites/test_execveat.py", "--target", "qemu",
                        "--kernel", "debian-5.10", "-n", "2", "-q"], cwd=ROOT, capture_output=True, text=True,
                       env=env, timeout=300)
    assert r.returncode != 0
    lines = [l for l in (r.stdout + r.stderr).splitlines() if l.strip()]
    assert lines[0].startswith("execspec: fetching debian-5.10"), lines
    errors = [l for l in lines if "cannot start" in l]
    assert len(lines) == 2 and len(errors) == 1, lines
    assert "cannot fetch kernel debian-5.10" in errors[0]


def test_kernel_build_tree(tmp_path):
    """--kernel KERNEL_TREE: the bzImage of a built checkout, and its
    fs/binfmt_misc.ko only where .config makes binfmt_misc a module."""
    tree = tmp_path / "linux"
    (tree / "arch" / "x86" / "boot").mkdir(parents=True)
    (tree / "fs").mkdir()
    (tree / "Makefile").write_text("VERSION = 6\n")
    with pytest.raises(TargetUnavailable, match="no arch/x86/boot/bzImage"):
        resolve_kernel(str(tree))
    (tree / "arch" / "x86" / "boot" / "bzImage").write_bytes(b"MZ")
    (tree / ".config").write_text("CONFIG_X=y\nCONFIG_BINFMT_MISC=y\n")
    assert resolve_kernel(str(tree)) == (tree / "arch" / "x86" / "boot" / "bzImage", None)
    (tree / ".config").write_text("CONFIG_X=y\nCONFIG_BINFMT_MISC=m\n")
    with pytest.raises(TargetUnavailable, match="make modules"):
        resolve_kernel(str(tree))
    (tree / "fs" / "binfmt_misc.ko").write_bytes(b"\x7fELF")
    assert resolve_kernel(str(tree)) == (tree / "arch" / "x86" / "boot" / "bzImage", tree / "fs" / "binfmt_misc.ko")
    # --modules still wins
    other = tmp_path / "other.ko"
    other.write_bytes(b"\x7fELF")
    assert resolve_kernel(str(tree), str(other))[1] == other
    assert build_tree(tmp_path / "nothing") is None
    with pytest.raises(TargetUnavailable, match="not a kernel build tree"):
        resolve_kernel(str(tmp_path))
