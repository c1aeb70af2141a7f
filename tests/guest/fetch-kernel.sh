#!/usr/bin/env bash
# fetch-kernel.sh OUTDIR: unpack Debian's stock amd64 kernel into OUTDIR for
# the test guest. The package is only downloaded and unpacked, never
# installed, so the host's /boot and module tree are left alone.
# Leaves OUTDIR/vmlinuz, OUTDIR/lib/modules/<release>/ and OUTDIR/package.
set -euo pipefail

die() { echo "fetch-kernel: $*" >&2; exit 1; }

[[ $# -eq 1 ]] || { echo "usage: fetch-kernel.sh OUTDIR" >&2; exit 2; }
out="$1"

# Idempotent: a finished unpack is marked by vmlinuz, which is written last.
[[ -s "$out/vmlinuz" ]] && exit 0

for cmd in apt-cache apt-get dpkg-deb busybox; do
    command -v "$cmd" >/dev/null || die "$cmd not found; this needs a Debian host"
done

# The metapackage only depends on the versioned image package; ask apt which
# one the candidate version pulls in.
resolve() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1
}
pkg="$(resolve)"
if [[ -z "$pkg" ]]; then
    # Package lists are missing or stale; refreshing them is all it takes.
    apt-get update -qq >/dev/null 2>&1 || die "apt-get update failed; check the Debian mirror in /etc/apt/sources.list*"
    pkg="$(resolve)"
fi
[[ -n "$pkg" ]] || die "apt-cache cannot resolve linux-image-amd64; is the Debian main archive configured?"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/lsm-kernel.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/root"

# apt-get download writes into the current directory; _apt needs to write there.
chmod 755 "$tmp"
(cd "$tmp" && apt-get download -qq "$pkg" >/dev/null 2>&1) ||
    die "apt-get download $pkg failed; check network access to the Debian mirror"
deb=("$tmp"/*.deb)
[[ -f "${deb[0]}" ]] || die "apt-get download $pkg produced no .deb"
dpkg-deb -x "${deb[0]}" "$tmp/root" || die "dpkg-deb -x ${deb[0]} failed"

kernel=("$tmp"/root/boot/vmlinuz-*)
[[ -f "${kernel[0]}" ]] || die "$pkg contains no /boot/vmlinuz-*"
release="${kernel[0]##*/vmlinuz-}"
[[ -d "$tmp/root/lib/modules/$release" ]] || die "$pkg contains no /lib/modules/$release"

# The package leaves modules.dep to its postinst; build-initramfs.sh needs it
# to pull in dependencies. busybox's depmod suffices and needs no kmod.
busybox depmod -b "$tmp/root" "$release" ||
    die "depmod for $release failed; is busybox-static installed?"

# Swap the unpacked tree in; vmlinuz goes last so a crash leaves no marker.
mkdir -p "$out"
rm -rf "$out/lib" "$out/package"
mv "$tmp/root/lib" "$out/lib"
echo "$pkg $release" >"$out/package"
mv "${kernel[0]}" "$out/vmlinuz.tmp"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
