"""The marked shell images the fallback targets load (harness/userspace):
a marked image is the package's file plus the probe marker, and a damaged
one (two xdist workers once raced on one temporary file and left a 116-byte
busybox, so every busybox case gave ENOEXEC) is rebuilt, not trusted."""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

import pytest

from harness import userspace


def _mark(variant: str) -> int:
    return userspace.image.__wrapped__(variant).stat().st_size  # type: ignore[attr-defined]


@pytest.fixture
def busybox_src(tmp_path, monkeypatch):
    # a private directory: the suites' workers load the shared images while
    # this test deletes and damages its own (the worker processes fork, so
    # they inherit it)
    monkeypatch.setattr(userspace, "MARKED_DIR", tmp_path)
    try:
        return (userspace.packages() / userspace.IMAGES["busybox"][1]).resolve()
    except userspace.ShellsUnavailable as e:
        pytest.skip(str(e))


def test_damaged_image_is_rebuilt(busybox_src):
    out = userspace.image.__wrapped__("busybox")
    want = busybox_src.stat().st_size + len(userspace.MARK) + 96
    out.write_bytes(userspace.MARK + b"\0" * 96)  # what the race left
    os.utime(out)  # newer than the package: only the size gives it away
    assert userspace.image.__wrapped__("busybox").stat().st_size == want


def test_concurrent_marking(busybox_src, tmp_path):
    out = userspace.image.__wrapped__("busybox")
    assert out.parent == tmp_path
    want = out.stat().st_size
    for _ in range(5):
        out.unlink()
        with ProcessPoolExecutor(4) as pool:
            sizes = list(pool.map(_mark, ["busybox"] * 8))
        assert sizes == [want] * 8
        assert out.stat().st_size == want
