#!/usr/bin/env bash
# Builds a kernel the way a user would (x86_64_defconfig plus what the
# suites need), to check that a self-built bzImage works as a target:
#
#   harness/qemu/build-kernel.sh [SUITE [SOURCE_PACKAGE]]   # default: bookworm linux-source-6.1
#   pytest suites --target qemu --kernel "$(harness/qemu/build-kernel.sh)"
#
# The source is Debian's linux-source package, fetched like the kernel
# images (private apt state under build/kernels, nothing installed).  The
# build tools flex, bison and libelf-dev are installed only if missing, and
# never if that would upgrade an installed package.  Prints the bzImage path.
set -euo pipefail
suite=${1:-bookworm}
package=${2:-linux-source-6.1}
here=$(cd "$(dirname "$0")" && pwd)
work=$(cd "$here/../.." && pwd)/build/userkernel
image=$work/$package/arch/x86/boot/bzImage
if [ -e "$work/$package/.ok" ]; then echo "$image"; exit 0; fi

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
[ -d "$work/$package" ] || { mkdir -p "$work/$package.tmp" && tar xJf "$tarball" -C "$work/$package.tmp" --strip-components=1 && mv "$work/$package.tmp" "$work/$package"; }
cd "$work/$package"
make -s x86_64_defconfig >&2
# What the suites exercise, built in (no modules needed in the initramfs):
# binfmt_misc, ia32 ELF, a serial console, initramfs, tmpfs, namespaces.
scripts/config --enable BINFMT_MISC --enable IA32_EMULATION --enable BLK_DEV_INITRD \
    --enable SERIAL_8250 --enable SERIAL_8250_CONSOLE --enable TMPFS --enable NAMESPACES \
    --enable USER_NS --enable DEVTMPFS --disable DEBUG_INFO --disable DEBUG_INFO_DWARF5 \
    --disable DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT --enable DEBUG_INFO_NONE
make -s olddefconfig >&2
make -s -j"$(nproc)" bzImage >&2
touch .ok
echo "$image"
