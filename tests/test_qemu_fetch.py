"""Kernel fetching for the qemu target: the mirror comes from the machine's
apt sources, shorthands name suites, both Debian image layouts are found."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from harness.targets.qemu import debian_suite, kernel_image

FETCH = Path(__file__).resolve().parents[1] / "harness" / "qemu" / "fetch-kernel.sh"


def mirrors(etc: Path) -> list[str]:
    r = subprocess.run([str(FETCH), "--mirrors"], capture_output=True, text=True, check=True,
                       env={**os.environ, "EXECSPEC_APT_ETC": str(etc)})
    return (r.stdout.rstrip("\n").split(" ") + [""])[:2]


def test_mirror_from_one_line_sources(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text(
        "# deb http://commented.example/debian bookworm main\n"
        "deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian/ bookworm main contrib\n"
        "deb http://mirror.example/debian-security bookworm-security main\n")
    assert mirrors(tmp_path) == ["http://mirror.example/debian", "http://mirror.example/debian-security"]


def test_mirror_from_deb822_sources(tmp_path):
    d = tmp_path / "sources.list.d"
    d.mkdir()
    (d / "a.sources").write_text(
        "Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\nComponents: main\n\n"
        "Types: deb deb-src\nURIs: http://proxy.example:3142/debian\nSuites: trixie trixie-updates\n"
        "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
        "Types: deb\nURIs: http://disabled.example/debian-security\nSuites: trixie-security\nEnabled: no\n")
    (d / "b.list.disabled").write_text("deb http://ignored.example/debian sid main\n")
    assert mirrors(tmp_path) == ["http://proxy.example:3142/debian", ""]


def test_no_sources_leaves_the_default_to_the_script(tmp_path):
    assert mirrors(tmp_path) == ["", ""]


def test_shorthands_name_suites():
    assert debian_suite("debian-7.2") == "sid"
    assert debian_suite("debian-7.3") == "trixie-backports"
    assert debian_suite("debian-5.10") == "bullseye"
    assert debian_suite("debian:bookworm") == "bookworm"
    assert debian_suite("debian:trixie-backports") == "trixie-backports"
    assert debian_suite("debian:../x") is None
    assert debian_suite("/boot/vmlinuz") is None


def test_both_image_layouts(tmp_path):
    old = tmp_path / "old"
    (old / "boot").mkdir(parents=True)
    (old / "boot" / "vmlinuz-6.1.0-56-cloud-amd64").write_bytes(b"")
    assert kernel_image(old) == old / "boot" / "vmlinuz-6.1.0-56-cloud-amd64"
    new = tmp_path / "new" / "usr" / "lib" / "modules" / "7.3.4+deb13-cloud-amd64"
    new.mkdir(parents=True)
    (new / "vmlinuz").write_bytes(b"")
    assert kernel_image(tmp_path / "new") == new / "vmlinuz"
    assert kernel_image(tmp_path / "none") is None


def test_a_frame_without_an_outcome_reruns_the_case_on_a_fresh_guest():
    """A guest answering with a frame that holds no outcome is treated like a
    lost frame: stopped, restarted and the case run once more."""
    import struct

    from contract.case import Case, Exec
    from harness.qemu.guest import Guest

    class Fake(Guest):
        def __init__(self):  # no emulator, no initramfs
            # an empty frame, then the outcome record ("o" = e) and its values (ENOENT)
            self.proc, self.starts = None, 0
            self.answers = [b"", b"o\x01\x00\x00\x00e" + b"v\x08\x00\x00\x00" + struct.pack("<ii", 2, 0)]
            self.case_timeout, self.tmp = 30.0, None
            from pathlib import Path
            self.console = Path("/nonexistent")

        def start(self):
            self.starts += 1
            self.proc = type("P", (), {"poll": lambda s: None, "stdin": object()})()

        def stop(self):
            self.proc = None

        def _send(self, line):
            pass

        def _read_frame(self, timeout, what):
            return self.answers.pop(0)

    g = Fake()
    out = g.run(Case(files=(), exec=Exec(path=b"/x", argv=(b"x",), envp=())))
    assert out == {"outcome": "error", "errno": "ENOENT"} and g.starts == 2


# ------------------------------------------------- 7.x: the config in linux-base-ABI

def _deb(tmp: Path, name: str, files: dict[str, str]) -> Path:
    """A real .deb (dpkg-deb --build) holding `files`."""
    root = tmp / f"{name}.d"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(f"Package: {name}\nVersion: 1\nArchitecture: amd64\n"
                                             "Maintainer: t <t@t>\nDescription: t\n")
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    out = tmp / f"{name}_1_amd64.deb"
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(root), str(out)], check=True,
                   capture_output=True)
    return out


def _offline_fetch(tmp_path: Path, suite: str) -> subprocess.CompletedProcess:
    """fetch-kernel.sh with apt-get/apt-cache stubbed (no network): `show`
    fails (the suite no longer lists the package), everything else succeeds."""
    bin_ = tmp_path / "bin"
    bin_.mkdir(exist_ok=True)
    (bin_ / "apt-get").write_text("#!/bin/sh\nexit 0\n")
    (bin_ / "apt-cache").write_text("#!/bin/sh\nexit 100\n")
    for f in bin_.iterdir():
        f.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_}:{os.environ['PATH']}", "EXECSPEC_CACHE": str(tmp_path / "cache"),
           "EXECSPEC_DEBIAN_MIRROR": "http://mirror.invalid/debian"}
    return subprocess.run([str(FETCH), suite], capture_output=True, text=True, env=env)


def test_a_7x_tree_gets_its_config_added_in_place(tmp_path):
    """A 7.x tree fetched before linux-base-ABI was: the config is added from
    the cached package without removing the image other runs may be booting;
    the model then reads the real config."""
    import shutil

    from harness.targets.qemu import guest_config
    if shutil.which("dpkg-deb") is None:
        pytest.skip("no dpkg-deb")
    abi = "7.3.4+deb13-cloud-amd64"
    tree = tmp_path / "cache" / "trixie-backports-cloud-amd64"
    mod = tree / "usr" / "lib" / "modules" / abi
    mod.mkdir(parents=True)
    (mod / "vmlinuz").write_bytes(b"image")
    (tree / ".ok").touch()
    archives = tmp_path / "cache" / "apt-trixie-backports" / "cache" / "archives"
    archives.mkdir(parents=True)
    _deb(archives, f"linux-base-{abi}", {f"usr/lib/modules/{abi}/config": "CONFIG_BINFMT_MISC=m\nCONFIG_BINFMT_ELF=y\n"
                                         "CONFIG_COMPAT=y\nCONFIG_BINFMT_SCRIPT=y\n"})
    image_inode = (mod / "vmlinuz").stat().st_ino
    r = _offline_fetch(tmp_path, "trixie-backports")
    assert r.returncode == 0, r.stderr
    assert Path(r.stdout.strip()) == tree and "added linux-base-" in r.stderr
    assert (mod / "config").is_file() and (mod / "vmlinuz").stat().st_ino == image_inode
    assert not (tree / ".no-config").exists()
    cfg = guest_config(mod / "vmlinuz", mod / "vmlinuz", mod / "binfmt_misc.ko")  # the harness loads it
    assert cfg is not None and cfg.known and cfg.source == str(mod / "config")
    assert cfg.formats() == ["misc", "script", "elf", "compat_elf"]
    # complete now: a second call changes nothing and says nothing
    r = _offline_fetch(tmp_path, "trixie-backports")
    assert r.returncode == 0 and r.stderr == ""


def test_a_7x_tree_whose_linux_base_is_gone_is_marked(tmp_path):
    """Neither cached nor listed any more: the tree stays usable, marked
    .no-config (not asked again), and the model assumes defaults."""
    abi = "7.2.13+deb14-cloud-amd64"
    tree = tmp_path / "cache" / "sid-cloud-amd64"
    mod = tree / "usr" / "lib" / "modules" / abi
    mod.mkdir(parents=True)
    (mod / "vmlinuz").write_bytes(b"image")
    (tree / ".ok").touch()
    r = _offline_fetch(tmp_path, "sid")
    assert r.returncode == 0, r.stderr
    assert "no longer has linux-base-" in r.stderr and (tree / ".no-config").exists()
    assert (mod / "vmlinuz").exists()
    r = _offline_fetch(tmp_path, "sid")
    assert r.returncode == 0 and r.stderr == ""


@pytest.mark.parametrize("tree", sorted(p for p in (Path(__file__).resolve().parents[1] / "build" / "kernels").glob("*")
                                        if p.is_dir() and list(p.glob("usr/lib/modules/*/vmlinuz"))),
                         ids=lambda p: p.name)
def test_cached_7x_trees_carry_their_config(tree):
    """Every cached 7.x kernel (Debian's split packaging) has its config
    beside the image, which is what the qemu target reads."""
    from model import kconfig
    image = kernel_image(tree)
    assert image is not None
    if (tree / ".no-config").exists():
        pytest.skip(f"{tree.name}: its linux-base package is gone from the suite (.no-config)")
    path = kconfig.for_image(image)
    assert path == image.parent / "config", f"{tree}: run harness/qemu/fetch-kernel.sh again to add linux-base"
    assert kconfig.load(path).known
