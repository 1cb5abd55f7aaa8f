#!/usr/bin/env bash
# Downloads Debian's shells and the libraries they need (dash, bash,
# busybox-static, libc6, libtinfo6) with apt pointed at a private sources
# list and state (as harness/qemu/fetch-kernel.sh does) and extracts them
# under build/shells/SUITE/: nothing is installed, the machine's apt state
# is untouched.  The fallback target copies them into each case's root.
#
#   harness/userspace/fetch-shells.sh [SUITE]     # default bookworm
# prints the directory holding the extracted packages.
set -euo pipefail
suite=${1:-bookworm}
root=$(cd "$(dirname "$0")/../.." && pwd)
cache=${EXECSPEC_CACHE:-$root/build/kernels}
apt_dir=$cache/apt-$suite
out=${EXECSPEC_SHELLS:-$root/build/shells}/$suite
pkgs=(dash bash busybox-static libc6 libtinfo6)
if [ -e "$out/.ok" ]; then echo "$out"; exit 0; fi
mkdir -p "$cache" "$out"
exec 9>"$cache/.lock-$suite"
flock 9
if [ -e "$out/.ok" ]; then echo "$out"; exit 0; fi
mkdir -p "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/etc"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
printf 'deb [signed-by=%s] http://deb.debian.org/debian %s main\n' "$keyring" "$suite" > "$apt_dir/etc/sources.list"
if [ "$suite" != trixie ] && [ "$suite" != sid ]; then
    printf 'deb [signed-by=%s] http://deb.debian.org/debian-security %s-security main\n' "$keyring" "$suite" >> "$apt_dir/etc/sources.list"
fi
apt_opts=(-o "Dir::State=$apt_dir/state" -o "Dir::Cache=$apt_dir/cache"
          -o "Dir::Etc::SourceList=$apt_dir/etc/sources.list" -o "Dir::Etc::SourceParts=/nonexistent"
          -o "Dir::Etc::Preferences=/nonexistent" -o "Dir::Etc::PreferencesParts=/nonexistent"
          -o "APT::Get::List-Cleanup=0" -o "Debug::NoLocking=1")
[ -e "$apt_dir/state/lists/deb.debian.org_debian_dists_${suite}_InRelease" ] || apt-get "${apt_opts[@]}" update -qq >&2
(cd "$apt_dir/cache/archives" && apt-get "${apt_opts[@]}" download "${pkgs[@]}" >&2)
for p in "${pkgs[@]}"; do
    deb=$(ls "$apt_dir"/cache/archives/"${p}"_*.deb | head -1)
    dpkg-deb -x "$deb" "$out"
    echo "$(basename "$deb")" >> "$out/.packages"
done
touch "$out/.ok"
echo "$out"
