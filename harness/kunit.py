"""The kernel's own KTAP reader, tools/testing/kunit/kunit_parser.py, taken
from Debian's linux-source package into the project's cache (never
installed, never committed), to check our KTAP the way kernel CI reads it.

    python -m harness.kunit FILE.ktap     # kunit_parser's verdict and counts
    python -m harness.kunit FILE.ktap --summary SUMMARY.json
        # and exit 1 unless they are the run's own (pytest's, from --summary)

The package is fetched with apt pointed at a private sources list and
state directory under build/kunit/ (the mirror is the one the machine's
own apt sources name); only tools/testing/kunit/ is kept from the tarball.
"""
from __future__ import annotations

import fcntl
import importlib
import io
import os
import re
import shutil
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("EXECSPEC_KUNIT_CACHE", ROOT / "build" / "kunit"))
SUITE = os.environ.get("EXECSPEC_KUNIT_SUITE", "trixie")
PACKAGE = os.environ.get("EXECSPEC_KUNIT_PACKAGE", "linux-source-6.12")
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


class Unavailable(RuntimeError):
    """The parser could not be fetched (no network, no apt): the message says why."""


def debian_mirror() -> str:
    """The Debian archive the machine's apt sources use (not -security)."""
    files = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for f in files:
        if not f.is_file() or not (f.suffix in (".list", ".sources") or f.name == "sources.list"):
            continue
        try:
            text = f.read_text(errors="replace")
        except OSError:
            continue
        uris = re.findall(r"^\s*URIs:\s*(\S+)", text, re.M)  # deb822
        uris += re.findall(r"^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)", text, re.M)  # one-line
        for u in uris:
            if re.search(r"/debian/?$", u):
                return u.rstrip("/")
    return "http://deb.debian.org/debian"


def _apt(apt_dir: Path) -> list[str]:
    return ["-o", f"Dir::State={apt_dir}/state", "-o", f"Dir::Cache={apt_dir}/cache",
            "-o", f"Dir::Etc::SourceList={apt_dir}/sources.list", "-o", "Dir::Etc::SourceParts=/nonexistent",
            "-o", "Dir::Etc::Preferences=/nonexistent", "-o", "Dir::Etc::PreferencesParts=/nonexistent",
            "-o", "APT::Get::List-Cleanup=0", "-o", "Debug::NoLocking=1", "-o", "Acquire::Retries=1",
            "-o", "Acquire::http::Timeout=20"]


def _run(argv: list[str], **kw) -> subprocess.CompletedProcess:
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    if r.returncode:
        err = (r.stderr.strip() or r.stdout.strip()).splitlines()
        raise Unavailable(f"{' '.join(argv[:1] + argv[-2:])} failed: {err[-1] if err else r.returncode}")
    return r


def tool_dir(progress=None) -> Path:
    """tools/testing/kunit of the package, fetched once into the cache."""
    out = CACHE / PACKAGE
    kunit = out / "tools" / "testing" / "kunit"
    if (out / ".ok").exists():
        return kunit
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise Unavailable("no apt-get/dpkg-deb to fetch the kernel's kunit_parser")
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # test workers: one fetches, the others wait
        if (out / ".ok").exists():
            return kunit
        apt_dir = CACHE / f"apt-{SUITE}"
        for d in ("state/lists/partial", "cache/archives/partial"):
            (apt_dir / d).mkdir(parents=True, exist_ok=True)
        (apt_dir / "sources.list").write_text(f"deb [signed-by={KEYRING}] {debian_mirror()} {SUITE} main\n")
        say = progress or (lambda m: None)
        say(f"fetching {PACKAGE} ({SUITE}) for tools/testing/kunit ...")
        r = subprocess.run(["apt-get", *_apt(apt_dir), "update", "-qq"], capture_output=True, text=True)
        if r.returncode or "Failed to fetch" in r.stderr or "Could not resolve" in r.stderr:
            err = [l for l in r.stderr.splitlines() if l.strip()]
            raise Unavailable(f"apt-get update for {SUITE} failed: {err[-1] if err else r.returncode}")
        archives = apt_dir / "cache" / "archives"
        for old in archives.glob("*.deb"):
            old.unlink()
        _run(["apt-get", *_apt(apt_dir), "download", PACKAGE], cwd=archives)
        debs = sorted(archives.glob(f"{PACKAGE}_*.deb"))
        if not debs:
            raise Unavailable(f"apt-get download {PACKAGE} left no .deb")
        tmp = out.with_name(out.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        say(f"extracting tools/testing/kunit from {debs[0].name} ...")
        # deb -> data tar -> /usr/src/linux-source-X.tar.xz -> tools/testing/kunit only
        sh = ("set -o pipefail; dpkg-deb --fsys-tarfile \"$1\" | tar -xO --wildcards './usr/src/linux-source-*.tar.xz' "
              "| tar -xJ -C \"$2\" --strip-components=1 --wildcards '*/tools/testing/kunit/*'")
        _run(["bash", "-c", sh, "sh", str(debs[0]), str(tmp)])
        (tmp / "VERSION").write_text(debs[0].name + "\n")
        debs[0].unlink()  # 150 MB: only the parser is kept
        shutil.rmtree(out, ignore_errors=True)
        tmp.rename(out)
        (out / ".ok").touch()
    return kunit


def parser(progress=None):
    """The kunit_parser module (imported from the fetched tree)."""
    d = str(tool_dir(progress))
    if d not in sys.path:
        sys.path.insert(0, d)
    return importlib.import_module("kunit_parser")


def parse(text: str, progress=None) -> dict:
    """kunit_parser's reading of a KTAP text: status, counts, suites and
    their test counts, and what it printed (its errors)."""
    kp = parser(progress)
    buf = io.StringIO()
    printer = kp.stdout  # kunit_printer's instance, bound to sys.stdout at import
    saved, printer._output = printer._output, buf
    try:
        with redirect_stdout(buf):
            test = kp.parse_run_tests(text.splitlines(keepends=True))
    finally:
        printer._output = saved
    c = test.counts
    suites = {}
    for s in test.subtests:
        sc = s.counts
        suites[s.name] = {"status": s.status.name, "passed": sc.passed, "failed": sc.failed,
                          "skipped": sc.skipped, "crashed": sc.crashed, "errors": sc.errors,
                          "tests": len(s.subtests)}
    return {"status": test.status.name, "passed": c.passed, "failed": c.failed, "skipped": c.skipped,
            "crashed": c.crashed, "errors": c.errors, "total": c.total(), "suites": suites,
            "printed": buf.getvalue()}


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json
    p = argparse.ArgumentParser(prog="python -m harness.kunit", description=__doc__.splitlines()[0])
    p.add_argument("ktap", help="a KTAP file")
    p.add_argument("--summary", help="the run's --summary JSON: its counts must be kunit_parser's")
    p.add_argument("-v", "--verbose", action="store_true", help="also show kunit_parser's own report")
    args = p.parse_args(argv)
    try:
        r = parse(Path(args.ktap).read_text(), progress=lambda m: print(f"execspec: {m}", file=sys.stderr))
    except Unavailable as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    printed = r.pop("printed")
    if args.verbose or r["crashed"] or r["errors"]:
        sys.stderr.write(printed)
    print(json.dumps(r, indent=1))
    if args.summary:
        c = json.loads(Path(args.summary).read_text())["counts"]
        ours = (c["passed"], c["failed"] + c["error"], c["skipped"])
        theirs = (r["passed"], r["failed"], r["skipped"])
        if ours != theirs or r["crashed"] or r["errors"]:
            print(f"error: kunit_parser read passed/failed/skipped {theirs} (crashed {r['crashed']}, "
                  f"errors {r['errors']}); the run counted {ours}", file=sys.stderr)
            return 1
        print(f"kunit_parser agrees with the run: passed {ours[0]}, failed {ours[1]}, skipped {ours[2]}",
              file=sys.stderr)
        return 0
    return 0 if r["status"] in ("SUCCESS", "SKIPPED") else 1


if __name__ == "__main__":
    sys.exit(main())
