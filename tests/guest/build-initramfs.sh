#!/usr/bin/env bash
# build-initramfs.sh OUT.cpio.gz KERNELDIR [WRITER]
# Packs the test guest's whole userland: busybox-static, lsm-guest-writer
# (default: next to OUT), /init, and the kernel modules for its disks taken
# from KERNELDIR (as unpacked by fetch-kernel.sh), dependencies included.
set -euo pipefail

# The disks the guest may get: virtio under QEMU, xen_blkfront as a Xen
# PV/PVH domU, and the emulated IDE disk (ata_piix, sd_mod) of a Xen HVM
# guest without PV drivers (xen_platform_pci=0); and a Xen vif
# (xen_netfront), which /init gives lsm.ip's address. /init loads them all; the
# ones without their hardware fail harmlessly. Everything else the guest
# needs (PCI, 8250 serial, the Xen console hvc0, devtmpfs) is built into
# Debian's kernel; see KERNELDIR/lib/modules/*/modules.builtin.
MODULES=(virtio_pci virtio_blk xen_blkfront xen_netfront scsi_mod libata ata_piix sd_mod)

die() { echo "build-initramfs: $*" >&2; exit 1; }
trap 'echo "build-initramfs: failed at line $LINENO; see the error above" >&2' ERR

[[ $# -eq 2 || $# -eq 3 ]] || { echo "usage: build-initramfs.sh OUT.cpio.gz KERNELDIR [WRITER]" >&2; exit 2; }
out="$1"
kdir="$2"
writer="${3:-$(dirname "$out")/lsm-guest-writer}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
busybox=/bin/busybox

for cmd in cpio gzip readelf; do
    command -v "$cmd" >/dev/null || die "$cmd not found; apt-get install $cmd"
done
[[ -x "$writer" ]] || die "$writer missing; build it first (make guest)"
# A dynamic busybox (one with a program interpreter) would need a libc in
# the guest. readelf comes with gcc's binutils.
if [[ ! -x "$busybox" ]] || readelf -l "$busybox" | grep -q INTERP; then
    die "$busybox is missing or not static; apt-get install busybox-static"
fi

moddirs=("$kdir"/lib/modules/*/)
[[ -d "${moddirs[0]}" && ${#moddirs[@]} -eq 1 ]] ||
    die "$kdir/lib/modules/ should hold exactly one kernel; rerun fetch-kernel.sh"
moddir="${moddirs[0]%/}"
[[ -f "$moddir/modules.dep" ]] || die "$moddir/modules.dep missing; rerun fetch-kernel.sh"

stage="$(mktemp -d "${TMPDIR:-/tmp}/lsm-initramfs.XXXXXX")"
trap 'rm -rf "$stage" "$out.tmp"' EXIT
mkdir -p "$stage"/{bin,dev,etc,proc,sys,lib/modules}

cp "$busybox" "$stage/bin/busybox"
for applet in $("$busybox" --list); do
    [[ -e "$stage/bin/$applet" ]] || ln -s busybox "$stage/bin/$applet"
done
cp "$writer" "$stage/bin/lsm-guest-writer"
install -m 755 "$here/init" "$stage/init"

# modules.dep maps "kernel/.../x.ko[.xz]: dep.ko ...". Resolve each wanted
# module to its path, then emit dependencies before dependents.
declare -A deps=() seen=()
while IFS= read -r line; do
    deps["${line%%:*}"]="${line#*:}"
done <"$moddir/modules.dep"

module_path() {
    local name="$1" path base
    for path in "${!deps[@]}"; do
        base="${path##*/}"
        base="${base%%.ko*}"
        [[ "${base//-/_}" == "${name//-/_}" ]] && { echo "$path"; return 0; }
    done
    # Built in: nothing to load.
    grep -q "/$name\.ko" "$moddir/modules.builtin" && return 0
    die "module $name not found in $moddir; check MODULES in $0"
}

order=()
visit() {
    local path="$1" dep
    [[ -n "${seen[$path]:-}" ]] && return 0
    seen[$path]=1
    for dep in ${deps[$path]}; do
        visit "$dep"
    done
    order+=("$path")
}
for name in "${MODULES[@]}"; do
    path="$(module_path "$name")"
    [[ -n "$path" ]] && visit "$path"
done

# busybox insmod may lack xz/zstd support; ship plain .ko files.
: >"$stage/etc/lsm-modules"
for path in "${order[@]}"; do
    base="${path##*/}"
    plain="${base%%.ko*}.ko"
    case "$base" in
        *.ko) cp "$moddir/$path" "$stage/lib/modules/$plain" ;;
        *.ko.xz) xz -dc "$moddir/$path" >"$stage/lib/modules/$plain" ;;
        *.ko.zst) zstd -qdc "$moddir/$path" >"$stage/lib/modules/$plain" ;;
        *.ko.gz) gzip -dc "$moddir/$path" >"$stage/lib/modules/$plain" ;;
        *) die "$path: unknown module compression" ;;
    esac
    echo "$plain" >>"$stage/etc/lsm-modules"
done

# Write next to OUT and rename, so an interrupted build never leaves a
# truncated archive that make would take as up to date.
mkdir -p "$(dirname "$out")"
# Fixed timestamps make the archive depend on its contents only.
find "$stage" -exec touch -h -d @0 {} +
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
    cpio --quiet -o -H newc -R 0:0 --reproducible) | gzip -9n >"$out.tmp"
mv "$out.tmp" "$out"
