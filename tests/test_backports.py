"""The backport table (model/backports.json) and the tool that derives it."""
from __future__ import annotations

import json

import model
from harness.backports import derive, norm_title, parse_changelog
from model.profiles import BACKPORTS_TABLE, FEATURES, load_backports

SNIPPET = """\
linux (6.12.15-1) unstable; urgency=medium

  * New upstream stable update:
    https://www.kernel.org/pub/linux/kernel/v6.x/ChangeLog-6.12.13
    - [amd64] x86/something: unrelated
    https://www.kernel.org/pub/linux/kernel/v6.x/ChangeLog-6.12.14
    - exec: fix up /proc/pid/comm in the execveat(AT_EMPTY_PATH) case
    - binfmt_misc: reject a flag character as the field
      delimiter (CVE-2026-1234)

  [ Someone ]
  * [x86] exec: Force single empty string when argv is empty (Closes: #1)

 -- Someone <someone@example.org>  Mon, 01 Jan 2026 00:00:00 +0000

linux (5.10.120-1) bullseye; urgency=medium

  * [x86] exec: Force single empty string when argv is empty (Closes: #1)

 -- Someone <someone@example.org>  Mon, 01 Jan 2022 00:00:00 +0000
"""


def test_table_loads_and_cites_its_sources():
    doc = json.loads(BACKPORTS_TABLE.read_text())
    assert doc["changelogs"]
    for key, row in doc["features"].items():
        assert key.lstrip("-") in FEATURES, key
        for series, r in row["series"].items():
            assert r["first"].startswith(series + ".")
            assert r["evidence"] and all(e["source"] and e["kind"] for e in r["evidence"])
            assert r["first"] in {e["version"] for e in r["evidence"]}
    assert load_backports()[(6, 12)]


def test_debian_6_12_95_carries_543841d18060():
    # Debian's linux 6.12.15-1 took it with upstream 6.12.14 (bookworm-backports' 6.12.95 has it)
    assert model.profile("6.12.95").has("543841d18060")
    assert model.profile("6.12.14").has("543841d18060")
    assert not model.profile("6.12.13").has("543841d18060")


def test_cve_fixed_versions_bound_8e85d50ba111():
    for v in ("5.10.265", "5.15.216", "6.1.183", "6.6.151", "6.12.103", "6.18.44", "7.1.8"):
        assert model.profile(v).has("8e85d50ba111"), v
    assert not model.profile("5.10.262").has("8e85d50ba111")
    assert not model.profile("6.12.102").has("8e85d50ba111")


def test_reverts_stay():
    assert not model.profile("6.12.2").has("2a010c412853")
    assert model.profile("6.12.1").has("2a010c412853")


def test_parse_changelog():
    items = parse_changelog(SNIPPET)
    assert ("6.12.15-1", "unstable", "6.12.13", "x86/something: unrelated", []) in items
    assert ("6.12.15-1", "unstable", "6.12.14",
            "exec: fix up /proc/pid/comm in the execveat(at_empty_path) case", []) in items
    assert ("6.12.15-1", "unstable", "6.12.14", "binfmt_misc: reject a flag character as the field delimiter",
            ["CVE-2026-1234"]) in items
    assert ("6.12.15-1", "unstable", None, "exec: force single empty string when argv is empty", []) in items
    assert ("5.10.120-1", "bullseye", None, "exec: force single empty string when argv is empty", []) in items


def test_derive_from_a_changelog():
    table = derive([(SNIPPET, "test")])
    assert table["543841d18060"]["series"]["6.12"]["first"] == "6.12.14"
    # the CVE record is merged in, the smaller version wins
    assert table["8e85d50ba111"]["series"]["6.12"]["first"] == "6.12.14"
    assert {e["kind"] for e in table["8e85d50ba111"]["series"]["6.12"]["evidence"]} == {"debian-changelog", "cve"}
    # a Debian patch outside a stable update: that Debian version's kernels
    assert table["dcd46d897adb"]["series"]["5.10"]["first"] == "5.10.120"
    # a feature the series has from mainline on (6.12 and 5.18's dcd46d897adb) is no backport
    assert set(table["dcd46d897adb"]["series"]) == {"5.10"}


def test_norm_title():
    assert norm_title("[amd64,arm64] foo:  Bar (CVE-2024-1, CVE-2024-2)") == "foo: bar"
