"""python -m harness backports [--suites S1,S2,...] [-o model/backports.json] [--check]

Which stable kernels carry each model feature, from data rather than from
the first version a guest happened to show.  Sources:

- the changelog of Debian's `linux` source package (changelog.Debian.gz in
  linux-libc-dev, which every suite ships), fetched per suite with
  harness/qemu/fetch-kernel.sh (private apt state, `apt-get download`,
  never installed).  Under each "New upstream stable update" entry Debian
  lists the upstream stable ChangeLog URLs and the titles of the commits
  they took; a feature's title under ChangeLog-6.12.95 means 6.12.95 has it.
- CVE records naming the fixed stable versions (CVE_RECORDS below, each
  with where it was read).
- what a real kernel showed where neither source says anything (OBSERVED
  below: first seen, so only an upper bound on the first version).

Writes model/backports.json: feature -> series -> the first version known
to carry it, with every piece of evidence and its source.  model/profiles.py
builds KNOWN_BACKPORTS from that file.  Only the derived table is kept:
no changelog text beyond the matched titles.
"""
from __future__ import annotations

import argparse
import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "model" / "backports.json"
FETCH = ROOT / "harness" / "qemu" / "fetch-kernel.sh"

# Every suite whose linux changelog is read: the released branches (and
# their security suites, which carry the newest point release's changelog),
# the backports and the development suites.
SUITES = ["bullseye", "bookworm", "bookworm-backports", "trixie", "trixie-security",
          "trixie-backports", "sid", "experimental"]

# Reverts a feature's `until` stands for: commit -> the revert's upstream title.
REVERTS = {"2a010c412853": 'Revert "fs: don\'t block i_writecount during exec"'}

# CVE records: fixed stable versions as the record names them.
CVE_RECORDS: dict[str, dict] = {
    "8e85d50ba111": {
        "source": "CVE record for 8e85d50ba111 as quoted in project issue 13 (fixed stable versions)",
        "fixed": ["5.10.265", "5.15.216", "6.1.183", "6.6.151", "6.12.103", "6.18.44", "7.1.8"],
    },
}

# Real-kernel observations that neither source covers ("-" = the revert).
OBSERVED: list[dict] = [
    {"feature": "f9c0a39d9530", "version": "6.1.192",
     "source": "QEMU guest, Debian 6.1.192: the main-program half of the 6.7 ELF loader series "
               "(a read-only bss on the program exits); not listed in bookworm's changelog (first seen)"},
    {"feature": "-2a010c412853", "version": "6.11.11",
     "source": "upstream stable 6.11.11 took 3b832035387f (the revert); older than Debian's changelogs"},
    {"feature": "-2a010c412853", "version": "6.12.2",
     "source": "upstream stable 6.12.2 took 3b832035387f (the revert); Debian's 6.12.1-6.12.3 "
               "update does not list it"},
    {"feature": "543841d18060", "version": "6.1.176",
     "source": "UML guest, Debian's user-mode-linux 6.1.176 (first seen)"},
]

_ENTRY = re.compile(r"^(\S+) \(([^)]+)\) ([^;]+);")
_STABLE_URL = re.compile(r"ChangeLog-(\d+\.\d+(?:\.\d+)?)\s*$")
_TAIL = re.compile(r"\s*\((?:CVE-\d+-\d+(?:,\s*)?)+\)\s*$|\s*\(Closes:[^)]*\)\s*$")


def norm_title(t: str) -> str:
    t = re.sub(r"^\[[^\]]*\]\s*", "", t.strip())  # Debian's [amd64,arm64] prefix
    while True:
        s = _TAIL.sub("", t)
        if s == t:
            break
        t = s
    return re.sub(r"\s+", " ", t).strip().lower()


def vtuple(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", v)[:3])


def parse_changelog(text: str):
    """(debian version, dist, upstream stable version or None, title, CVE ids)
    for every item of every entry; None: a Debian change outside a stable update."""
    version = dist = None
    stable: str | None = None
    in_update = False
    item: list[str] = []
    out: list[tuple[str, str, str | None, str, list[str]]] = []

    def flush():
        if item and version:
            raw = " ".join(item)
            cves = re.findall(r"CVE-\d+-\d+", raw)
            out.append((version, dist, stable if in_update else None, norm_title(raw), cves))
        item.clear()

    for line in text.splitlines():
        m = _ENTRY.match(line)
        if m:
            flush()
            version, dist, stable, in_update = m.group(2), m.group(3).strip(), None, False
            continue
        if line.startswith("  * "):
            flush()
            in_update = line[4:].lower().startswith("new upstream stable update")
            stable = None
            if not in_update:
                item.append(line[4:])
            continue
        if line.startswith("  [") or line.startswith(" -- ") or not line.strip():
            flush()
            if line.startswith(" -- "):
                in_update = False
            continue
        s = line.strip()
        if in_update:
            u = _STABLE_URL.search(s)
            if u and s.startswith("http"):
                flush()
                stable = u.group(1)
                continue
            if s.startswith("- "):
                flush()
                item.append(s[2:])
                continue
            if item:
                item.append(s)
            continue
        if s.startswith("- "):
            flush()
            item.append(s[2:])
        elif item:
            item.append(s)
    flush()
    return out


def fetch_changelog(suite: str) -> tuple[str, str]:
    """(changelog text, a label naming the package version it came from)."""
    r = subprocess.run([str(FETCH), suite, "linux-libc-dev"], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"cannot fetch linux-libc-dev from {suite}: {r.stderr.strip()[-400:]}")
    tree = Path(r.stdout.strip().splitlines()[-1])
    path = tree / "usr" / "share" / "doc" / "linux-libc-dev" / "changelog.Debian.gz"
    text = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
    first = _ENTRY.match(text.splitlines()[0])
    label = f"changelog.Debian.gz of linux-libc-dev {first.group(2) if first else '?'} ({suite})"
    return text, label


def derive(changelogs: list[tuple[str, str]]) -> dict:
    from model.profiles import FEATURES
    wanted: dict[str, str] = {}  # normalized title -> feature key
    for commit, f in FEATURES.items():
        wanted[norm_title(f.title)] = commit
        if commit in REVERTS:
            wanted[norm_title(REVERTS[commit])] = "-" + commit
    evidence: dict[str, dict[str, list[dict]]] = {}

    def add(key: str, version: str, ev: dict) -> None:
        commit = key.lstrip("-")
        series = ".".join(version.split(".")[:2])
        f = FEATURES[commit]
        sv = vtuple(series)
        in_mainline = f.since <= sv and (f.until is None or sv < f.until)
        if key.startswith("-") != in_mainline:
            return  # the series has (or lacks) it from its .0 release: nothing to backport
        evs = evidence.setdefault(key, {}).setdefault(series, [])
        if not any(e["version"] == version and e["kind"] == ev["kind"] for e in evs):
            evs.append({"version": version, **ev})

    for text, label in changelogs:
        for deb_version, _dist, stable, title, cves in parse_changelog(text):
            key = wanted.get(title)
            if key is None:
                continue
            if stable:
                ev = {"kind": "debian-changelog", "source": f"{label}: entry linux ({deb_version}), "
                      f"New upstream stable update ChangeLog-{stable}"}
                if cves:
                    ev["cve"] = cves
                add(key, stable, ev)
            else:  # a Debian patch: that Debian version's kernels have it
                up = ".".join(str(x) for x in vtuple(deb_version.split("-")[0]))
                add(key, up, {"kind": "debian-patch", "source": f"{label}: entry linux ({deb_version})"})
    for commit, rec in CVE_RECORDS.items():
        for v in rec["fixed"]:
            add(commit, v, {"kind": "cve", "source": rec["source"]})
    for ob in OBSERVED:
        add(ob["feature"], ob["version"], {"kind": "observed", "source": ob["source"]})

    table: dict[str, dict] = {}
    for key in sorted(evidence, key=lambda k: (k.lstrip("-"), k)):
        commit = key.lstrip("-")
        title = REVERTS[commit] if key.startswith("-") else FEATURES[commit].title
        per = {}
        for series in sorted(evidence[key], key=vtuple):
            evs = sorted(evidence[key][series], key=lambda e: (vtuple(e["version"]), e["kind"]))
            # every piece is evidence of presence, so the first version is the smallest;
            # it is exact when a changelog or CVE names it, an upper bound when only observed
            best = min(evs, key=lambda e: (vtuple(e["version"]), e["kind"] == "observed"))
            per[series] = {"first": best["version"], "exact": best["kind"] != "observed", "evidence": evs}
        table[key] = {"title": title, "series": per}
    return table


def write_table(table: dict, sources: list[str], path: Path) -> None:
    doc = {
        "_about": "First stable version of each series that carries a model feature (\"-\" + commit: "
                  "that carries the feature's revert). Built by `python -m harness backports` from "
                  "Debian's linux changelogs, CVE records and real-kernel observations; read by "
                  "model/profiles.py. Do not edit by hand: change harness/backports.py and rebuild.",
        "changelogs": sources,
        "features": table,
    }
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")


def cmd_backports(args: argparse.Namespace) -> int:
    changelogs = []
    for suite in args.suites.split(","):
        try:
            changelogs.append(fetch_changelog(suite))
        except (RuntimeError, OSError) as e:
            print(f"warning: {suite}: {e}", file=sys.stderr)
        else:
            print(f"# {changelogs[-1][1]}", file=sys.stderr)
    if not changelogs:
        print("error: no changelog could be fetched", file=sys.stderr)
        return 3
    table = derive(changelogs)
    for key, row in table.items():
        firsts = ", ".join(f"{s}: {r['first']} ({'/'.join(sorted({e['kind'] for e in r['evidence']}))})"
                           for s, r in row["series"].items())
        print(f"{key:<14} {firsts}")
    out = Path(args.output)
    if args.check:
        old = json.loads(out.read_text()).get("features") if out.exists() else None
        if old != table:
            print(f"{out} is out of date: run python -m harness backports", file=sys.stderr)
            return 1
        return 0
    write_table(table, [label for _, label in changelogs], out)
    print(f"wrote {out}", file=sys.stderr)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("backports", help="derive the stable backport table (model/backports.json) "
                                         "from Debian's linux changelogs and CVE records")
    b.add_argument("--suites", default=",".join(SUITES), help="Debian suites whose linux changelog is read")
    b.add_argument("-o", "--output", default=str(TABLE))
    b.add_argument("--check", action="store_true", help="only say whether the table is up to date (exit 1 if not)")
    b.set_defaults(func=cmd_backports)
