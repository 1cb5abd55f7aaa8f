#!/usr/bin/env bash
# Downloads a Debian kernel image package (and extracts vmlinuz + modules)
# into the project's cache, with apt pointed at a private sources list and
# state directory: the machine's own apt state and packages are untouched
# (no upgrade, nothing installed).
#
#   harness/qemu/fetch-kernel.sh SUITE   # bullseye (5.10), bookworm (6.1), trixie (6.12)
#   harness/qemu/fetch-kernel.sh SUITE PACKAGE   # another package, e.g. user-mode-linux
# prints the directory holding boot/vmlinuz-* and lib/modules/* (or the package's tree).
set -euo pipefail
suite=${1:?usage: fetch-kernel.sh bullseye|bookworm|trixie [PACKAGE]}
package=${2:-}
flavour=${package:-${EXECSPEC_KERNEL_FLAVOUR:-cloud-amd64}}
cache=${EXECSPEC_CACHE:-$(cd "$(dirname "$0")/../.." && pwd)/build/kernels}
apt_dir=$cache/apt-$suite
out=$cache/$suite-$flavour
if [ -e "$out/.ok" ]; then echo "$out"; exit 0; fi
# test workers start guests at once: one downloads, the others wait for it
mkdir -p "$cache"
exec 9>"$cache/.lock-$suite"
flock 9
if [ -e "$out/.ok" ]; then echo "$out"; exit 0; fi
mkdir -p "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/etc" "$out"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
printf 'deb [signed-by=%s] http://deb.debian.org/debian %s main\n' "$keyring" "$suite" > "$apt_dir/etc/sources.list"
if [ "$suite" != trixie ]; then
    printf 'deb [signed-by=%s] http://deb.debian.org/debian-security %s-security main\n' "$keyring" "$suite" >> "$apt_dir/etc/sources.list"
fi
apt_opts=(-o "Dir::State=$apt_dir/state" -o "Dir::Cache=$apt_dir/cache"
          -o "Dir::Etc::SourceList=$apt_dir/etc/sources.list" -o "Dir::Etc::SourceParts=/nonexistent"
          -o "Dir::Etc::Preferences=/nonexistent" -o "Dir::Etc::PreferencesParts=/nonexistent"
          -o "APT::Get::List-Cleanup=0" -o "Debug::NoLocking=1")
apt-get "${apt_opts[@]}" update -qq >&2
# the meta package depends on the current ABI's image package
if [ -n "$package" ]; then
    pkg=$package
else
    pkg=$(apt-cache "${apt_opts[@]}" depends "linux-image-$flavour" | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
fi
[ -n "$pkg" ] || { echo "no linux-image-$flavour in $suite" >&2; exit 1; }
(cd "$apt_dir/cache/archives" && apt-get "${apt_opts[@]}" download "$pkg" >&2)
deb=$(ls "$apt_dir"/cache/archives/"$pkg"_*.deb | head -1)
dpkg-deb -x "$deb" "$out"
touch "$out/.ok"
echo "$out"
