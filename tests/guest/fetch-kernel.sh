#!/usr/bin/env bash
# fetch-kernel.sh OUTDIR: unpack Debian's stock amd64 kernel into OUTDIR for
# the test guest. The package is only downloaded and unpacked, never
# installed, so the host's /boot and module tree are left alone.
# Leaves OUTDIR/vmlinuz, OUTDIR/lib/modules/<release>/ and OUTDIR/package.
set -euo pipefail

die() { echo "fetch-kernel: $*" >&2; exit 1; }
trap 'echo "fetch-kernel: failed at line $LINENO; see the error above" >&2' ERR

[[ $# -eq 1 ]] || { echo "usage: fetch-kernel.sh OUTDIR" >&2; exit 2; }
out="$1"

# Idempotent: a finished unpack is marked by vmlinuz, which is written last.
[[ -s "$out/vmlinuz" ]] && exit 0

for cmd in apt-cache apt-get dpkg-deb busybox; do
    command -v "$cmd" >/dev/null || die "$cmd not found; this needs a Debian host"
done

# The metapackage only depends on the versioned image package; ask apt which
# one the candidate version pulls in. Prints nothing when apt does not know it.
resolve() {
    { apt-cache depends linux-image-amd64 2>/dev/null || true; } |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1
}
refreshed=0
refresh() {
    local err
    err="$(apt-get update -qq 2>&1 >/dev/null)" ||
        die "apt-get update failed (${err##*$'\n'}); check the Debian sources in /etc/apt"
    refreshed=1
}

pkg="$(resolve)"
if [[ -z "$pkg" ]]; then
    refresh
    pkg="$(resolve)"
fi
[[ -n "$pkg" ]] || die "apt-cache cannot resolve linux-image-amd64; is Debian's main archive in /etc/apt/sources?"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/lsm-kernel.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/root"
# apt-get download fetches as the _apt user into the current directory.
chmod 755 "$tmp"

# Keeps apt's stderr (for the error line) and drops its progress output.
# shellcheck disable=SC2069
download() { (cd "$tmp" && apt-get download -qq "$pkg" 2>&1 >/dev/null); }
if ! err="$(download)"; then
    # Stale lists name a version the mirror has since dropped: refresh once.
    ((refreshed)) && die "apt-get download $pkg failed (${err##*$'\n'})"
    refresh
    pkg="$(resolve)"
    err="$(download)" || die "apt-get download $pkg failed (${err##*$'\n'})"
fi
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
rm -rf "${out:?}/lib" "${out:?}/package"
mv "$tmp/root/lib" "$out/lib"
echo "$pkg $release" >"$out/package"
mv "${kernel[0]}" "$out/vmlinuz.tmp"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
