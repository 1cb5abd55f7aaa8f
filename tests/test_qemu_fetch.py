"""Kernel fetching for the qemu target: the mirror comes from the machine's
apt sources, shorthands name suites, both Debian image layouts are found."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

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
