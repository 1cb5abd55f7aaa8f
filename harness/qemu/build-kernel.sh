#!/usr/bin/env bash
# Builds a kernel the way a user would (x86_64_defconfig plus what the
# suites need), to check that a self-built bzImage works as a target:
#
#   harness/qemu/build-kernel.sh [--without binfmt_misc,ia32] [SUITE [SOURCE_PACKAGE]]
#                                  # default: bookworm linux-source-6.1, everything the suites use
#   pytest suites --target qemu --kernel "$(harness/qemu/build-kernel.sh)"
#
# --without LIST builds a variant lacking those parts, to show that a kernel
# whose config lacks them is predicted from its .config:
#   binfmt_misc  CONFIG_BINFMT_MISC=n
#   ia32         CONFIG_IA32_EMULATION=n (so no COMPAT, no COMPAT_BINFMT_ELF)
# Each variant has its own tree, build/userkernel/PACKAGE[-without-A-B].
#
# The source is Debian's linux-source package, fetched like the kernel
# images (private apt state under build/kernels, nothing installed).  The
# build tools flex, bison and libelf-dev are installed only if missing, and
# never if that would upgrade an installed package.  Prints the bzImage path.
set -euo pipefail
without=()
if [ "${1:-}" = --without ]; then
    IFS=, read -r -a without <<<"${2:?--without needs a list: binfmt_misc,ia32}"
    shift 2
elif [[ ${1:-} == --without=* ]]; then
    IFS=, read -r -a without <<<"${1#--without=}"
    shift
fi
enable=(--enable BINFMT_MISC --enable IA32_EMULATION)
variant=
if [ ${#without[@]} -gt 0 ]; then
    mapfile -t without < <(printf '%s\n' "${without[@]}" | sort -u)
    enable=()
    for w in "${without[@]}"; do
        case $w in binfmt_misc|ia32) ;; *) echo "build-kernel.sh: --without: unknown part '$w' (binfmt_misc, ia32)" >&2; exit 2 ;; esac
    done
    [[ " ${without[*]} " == *" binfmt_misc "* ]] && enable+=(--disable BINFMT_MISC) || enable+=(--enable BINFMT_MISC)
    [[ " ${without[*]} " == *" ia32 "* ]] && enable+=(--disable IA32_EMULATION --disable X86_X32_ABI) || enable+=(--enable IA32_EMULATION)
    variant=-without-$(IFS=-; echo "${without[*]}")
fi
suite=${1:-bookworm}
package=${2:-linux-source-6.1}
here=$(cd "$(dirname "$0")" && pwd)
work=$(cd "$here/../.." && pwd)/build/userkernel
tree=$package$variant
image=$work/$tree/arch/x86/boot/bzImage
if [ -e "$work/$tree/.ok" ]; then echo "$image"; exit 0; fi

need=()
command -v flex >/dev/null 2>&1 || need+=(flex)
command -v bison >/dev/null 2>&1 || need+=(bison)
command -v bc >/dev/null 2>&1 || need+=(bc)
[ -e /usr/include/libelf.h ] || need+=(libelf-dev)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq >&2
    if apt-get -s install --no-install-recommends "${need[@]}" | grep -q '^Inst [^ ]* \['; then
        echo "build-kernel.sh: installing ${need[*]} would upgrade installed packages; refusing" >&2
        exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

src=$("$here/fetch-kernel.sh" "$suite" "$package")
mkdir -p "$work"
tarball=$(ls "$src"/usr/src/linux-source-*.tar.xz | head -1)
if [ ! -d "$work/$tree" ]; then
    rm -rf "$work/$tree.tmp" && mkdir -p "$work/$tree.tmp"
    tar xJf "$tarball" -C "$work/$tree.tmp" --strip-components=1 && mv "$work/$tree.tmp" "$work/$tree"
fi
cd "$work/$tree"
make -s x86_64_defconfig >&2
# What the suites exercise, built in (no modules needed in the initramfs):
# binfmt_misc, ia32 ELF (unless --without), a serial console, initramfs,
# tmpfs, namespaces.
scripts/config "${enable[@]}" --enable BLK_DEV_INITRD \
    --enable SERIAL_8250 --enable SERIAL_8250_CONSOLE --enable TMPFS --enable NAMESPACES \
    --enable USER_NS --enable DEVTMPFS --disable DEBUG_INFO --disable DEBUG_INFO_DWARF5 \
    --disable DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT --enable DEBUG_INFO_NONE
make -s olddefconfig >&2
for w in "${without[@]}"; do  # olddefconfig must not have brought them back
    case $w in binfmt_misc) opt=BINFMT_MISC ;; ia32) opt=IA32_EMULATION ;; esac
    if grep -q "^CONFIG_$opt=" .config; then echo "build-kernel.sh: CONFIG_$opt still set after olddefconfig" >&2; exit 1; fi
done
make -s -j"$(nproc)" bzImage >&2
touch .ok
echo "$image"
