#!/usr/bin/env bash
# Downloads a Debian kernel image package (and extracts vmlinuz + modules)
# into the project's cache, with apt pointed at a private sources list and
# state directory: the machine's own apt state and packages are untouched
# (no upgrade, nothing installed; `apt-get download` only).
#
#   harness/qemu/fetch-kernel.sh SUITE   # bullseye (5.10), bookworm (6.1), trixie (6.12),
#                                        # sid (7.2), trixie-backports (7.3), experimental, ...
#   harness/qemu/fetch-kernel.sh SUITE PACKAGE   # another package, e.g. user-mode-linux
# prints the directory holding the package trees: the image as boot/vmlinuz-*
# (Debian <= 7.1) or usr/lib/modules/VER/vmlinuz (7.x's linux-binary-*), the
# modules under lib/modules or usr/lib/modules.
#
# The mirror is the machine's own: the first Debian archive URI in
# /etc/apt/sources.list, /etc/apt/sources.list.d/*.list and *.sources
# (deb822), so a local mirror or proxy works; EXECSPEC_DEBIAN_MIRROR (and
# EXECSPEC_DEBIAN_SECURITY_MIRROR) override it; deb.debian.org when none.
set -euo pipefail
suite=${1:?usage: fetch-kernel.sh SUITE [PACKAGE]   (SUITE: bullseye, bookworm, trixie, sid, trixie-backports, ...)}
package=${2:-}
flavour=${package:-${EXECSPEC_KERNEL_FLAVOUR:-cloud-amd64}}
cache=${EXECSPEC_CACHE:-$(cd "$(dirname "$0")/../.." && pwd)/build/kernels}
apt_dir=$cache/apt-$suite
out=$cache/$suite-$flavour
has_kernel() {  # a tree counts as complete only with a kernel image in it
    [ -n "$package" ] && return 0
    compgen -G "$1/boot/vmlinuz-*" >/dev/null || compgen -G "$1/usr/lib/modules/*/vmlinuz" >/dev/null \
        || compgen -G "$1/lib/modules/*/vmlinuz" >/dev/null
}
# 7.x's split packaging puts the kernel's config (usr/lib/modules/VER/config,
# with System.map and modules.builtin) in linux-base-VER, which the image
# package depends on; a tree fetched before that was downloaded lacks it.
# .no-config marks a tree whose suite no longer offers its linux-base.
needs_config() {
    [ -z "$package" ] || return 1
    compgen -G "$1/usr/lib/modules/*/vmlinuz" >/dev/null || return 1
    ! compgen -G "$1/usr/lib/modules/*/config" >/dev/null && [ ! -e "$1/.no-config" ]
}
complete() { [ -e "$1/.ok" ] && has_kernel "$1" && ! needs_config "$1"; }

# Debian archive URIs from the machine's apt sources: "MAIN SECURITY" (either may be empty).
apt_mirrors() {
    local files=() f etc=${EXECSPEC_APT_ETC:-/etc/apt}
    [ -f "$etc/sources.list" ] && files+=("$etc/sources.list")
    for f in "$etc"/sources.list.d/*.list "$etc"/sources.list.d/*.sources; do
        [ -f "$f" ] && files+=("$f")
    done
    [ ${#files[@]} -gt 0 ] || { echo " "; return; }
    awk '
    # a Debian suite: a release codename or alias, with an optional -updates/-security/-backports tail
    function debian_suite(s) {
        sub(/\/.*/, "", s); sub(/-(updates|security|backports|backports-sloppy|proposed-updates)$/, "", s)
        return s ~ /^(buzz|rex|bo|hamm|slink|potato|woody|sarge|etch|lenny|squeeze|wheezy|jessie|stretch|buster|bullseye|bookworm|trixie|forky|duke|sid|experimental|stable|oldstable|oldoldstable|testing|unstable)$/
    }
    function take(uri, s) {
        if (uri !~ /^(https?|ftp|file|mirror\+[a-z]+):/ || !debian_suite(s)) return
        sub(/\/+$/, "", uri)
        if (s ~ /-security$/ || uri ~ /debian-security$/) { if (sec == "") sec = uri }
        else if (main == "") main = uri
    }
    function flush(   n, u, s, i, j) {
        if (types ~ /(^|[ \t])deb([ \t]|$)/ && enabled !~ /^[ \t]*no/) {
            n = split(uris, u, /[ \t]+/); m = split(suites, s, /[ \t]+/)
            for (i = 1; i <= n; i++) for (j = 1; j <= m; j++) if (u[i] != "" && s[j] != "") take(u[i], s[j])
        }
        types = uris = suites = enabled = ""
    }
    FNR == 1 { flush(); deb822 = FILENAME ~ /\.sources$/ }
    /^[ \t]*#/ { next }
    deb822 {
        if ($0 ~ /^[ \t]*$/) { flush(); next }
        line = $0; key = tolower(line); sub(/:.*/, "", key); sub(/^[^:]*:[ \t]*/, "", line)
        if (key == "types") types = line; else if (key == "uris") uris = line
        else if (key == "suites") suites = line; else if (key == "enabled") enabled = line
        next
    }
    $1 == "deb" {
        i = 2
        if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        take($i, $(i + 1))
    }
    END { flush(); print main " " sec }
    ' "${files[@]}"
}
if [ "$suite" = --mirrors ]; then apt_mirrors; exit 0; fi  # what the machine's apt sources say
if complete "$out"; then echo "$out"; exit 0; fi

# test workers start guests at once: one downloads, the others wait for it
mkdir -p "$cache"
exec 9>"$cache/.lock-$suite"
flock 9
if complete "$out"; then echo "$out"; exit 0; fi
# a complete tree that only lacks the config gets its linux-base added in
# place (other runs may be booting its image: nothing is removed)
add_config=
if [ -e "$out/.ok" ] && has_kernel "$out"; then add_config=1; else
    rm -rf "$out"  # an incomplete tree (interrupted, or an image-less meta package) is fetched again
fi
mkdir -p "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/etc" "$out"
read -r found_main found_sec <<<"$(apt_mirrors) "
mirror=${EXECSPEC_DEBIAN_MIRROR:-${found_main:-http://deb.debian.org/debian}}
if [ -n "${EXECSPEC_DEBIAN_SECURITY_MIRROR:-}" ]; then security=$EXECSPEC_DEBIAN_SECURITY_MIRROR
elif [ -n "$found_sec" ]; then security=$found_sec
elif [[ $mirror == */debian ]]; then security=${mirror}-security
else security=http://deb.debian.org/debian-security
fi
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
case $suite in  # a -security suite alone (e.g. for a package's newest changelog)
    *-security) printf 'deb [signed-by=%s] %s %s main\n' "$keyring" "$security" "$suite" ;;
    *) printf 'deb [signed-by=%s] %s %s main\n' "$keyring" "$mirror" "$suite" ;;
esac > "$apt_dir/etc/sources.list"
# Security updates exist for the released codenames only: not for sid,
# experimental or a backports suite (which `apt-get download` needs alone:
# nothing is installed, so no dependency is resolved against the base suite).
# trixie keeps its point-release kernel (the 6.12 the project was built on).
case $suite in
    *-*|sid|unstable|experimental|testing|trixie) ;;
    *) printf 'deb [signed-by=%s] %s %s-security main\n' "$keyring" "$security" "$suite" >> "$apt_dir/etc/sources.list" ;;
esac
echo "fetch-kernel: $suite from $(tr '\n' ' ' < "$apt_dir/etc/sources.list")" >&2
# an empty dpkg status of our own: the machine's installed packages must not
# become the candidates (an installed linux-libc-dev would win over the suite's)
touch "$apt_dir/state/status"
apt_opts=(-o "Dir::State=$apt_dir/state" -o "Dir::State::status=$apt_dir/state/status" -o "Dir::Cache=$apt_dir/cache"
          -o "Dir::Etc::SourceList=$apt_dir/etc/sources.list" -o "Dir::Etc::SourceParts=/nonexistent"
          -o "Dir::Etc::Preferences=/nonexistent" -o "Dir::Etc::PreferencesParts=/nonexistent"
          -o "APT::Get::List-Cleanup=0" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
apt-get "${apt_opts[@]}" update -qq 2> >(grep -v 'nonexistent' >&2) >&2
# the meta package depends on the current ABI's image package; from 7.x on
# that one is empty too and depends on linux-binary-ABI (the image, under
# usr/lib/modules/VER/), linux-modules-ABI and linux-base-ABI (its config)
if [ -n "$package" ]; then
    pkgs=("$package")
elif [ -n "$add_config" ]; then
    for d in "$out"/usr/lib/modules/*/vmlinuz; do
        abi=$(basename "$(dirname "$d")")
        base=linux-base-$abi
        deb=$(ls -t "$apt_dir"/cache/archives/"$base"_*.deb 2>/dev/null | head -1 || true)
        if [ -z "$deb" ] && apt-cache "${apt_opts[@]}" show "$base" >/dev/null 2>&1; then
            (cd "$apt_dir/cache/archives" && apt-get "${apt_opts[@]}" download "$base" 2> >(grep -v 'nonexistent' >&2) >&2)
            deb=$(ls -t "$apt_dir"/cache/archives/"$base"_*.deb | head -1)
        fi
        if [ -z "$deb" ]; then
            echo "fetch-kernel: $suite no longer has $base; the config of $abi stays unknown" >&2
            touch "$out/.no-config"; continue
        fi
        # unpacked aside, then renamed in: a reader never sees half a file
        tmp=$(mktemp -d "$cache/.base-XXXXXX")
        dpkg-deb -x "$deb" "$tmp"
        for f in "$tmp"/usr/lib/modules/"$abi"/*; do
            [ -e "$out/usr/lib/modules/$abi/$(basename "$f")" ] || mv "$f" "$out/usr/lib/modules/$abi/"
        done
        rm -rf "$tmp"
        echo "fetch-kernel: added $base (config) to $out" >&2
    done
    needs_config "$out" && touch "$out/.no-config"
    echo "$out"; exit 0
else
    pkg=$(apt-cache "${apt_opts[@]}" depends "linux-image-$flavour" 2>/dev/null \
          | awk '/Depends: linux-image-[0-9]/ && !p {p = $2} END {print p}')
    [ -n "$pkg" ] || { echo "no linux-image-$flavour in $suite" >&2; exit 1; }
    pkgs=("$pkg")
    while read -r dep; do pkgs+=("$dep"); done < <(apt-cache "${apt_opts[@]}" depends "$pkg" 2>/dev/null \
        | awk '$1 == "Depends:" && $2 ~ /^linux-(binary|modules|base)-[0-9]/ {print $2}' | sort -u)
fi
for p in "${pkgs[@]}"; do
    (cd "$apt_dir/cache/archives" && apt-get "${apt_opts[@]}" download "$p" 2> >(grep -v 'nonexistent' >&2) >&2)
    # awk reads to the end: exiting early would SIGPIPE apt-cache, and pipefail
    # turn a long `show` (linux-source: several versions) into exit 141
    ver=$(apt-cache "${apt_opts[@]}" show "$p" 2>/dev/null | awk '/^Version:/ && !v {v = $2} END {print v}')
    deb=$(ls "$apt_dir"/cache/archives/"$p"_"${ver//:/%3a}"_*.deb 2>/dev/null | head -1)
    [ -n "$deb" ] || deb=$(ls -t "$apt_dir"/cache/archives/"$p"_*.deb | head -1)
    dpkg-deb -x "$deb" "$out"
done
if ! has_kernel "$out"; then
    echo "fetch-kernel: ${pkgs[*]} from $suite hold no kernel image (boot/vmlinuz-* or usr/lib/modules/*/vmlinuz)" >&2
    exit 1
fi
if needs_config "$out"; then
    echo "fetch-kernel: no usr/lib/modules/*/config in ${pkgs[*]}; the model will assume a config" >&2
    touch "$out/.no-config"
fi
touch "$out/.ok"
echo "$out"
