#!/usr/bin/env bash
# make deb: builds the Debian package of lsm with debhelper
# (dpkg-buildpackage -b) from a copy of the files git knows, under OUTDIR,
# so that nothing the build writes (debian/lsm/, ../*.deb) lands in the
# checkout; then checks it with lintian, which must find no error.
#   scripts/build-deb.sh OUTDIR      -> OUTDIR/lsm_VERSION_ARCH.deb
set -euo pipefail

prog=build-deb
(($# == 1)) || { echo "usage: $0 OUTDIR" >&2; exit 2; }
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$1"
out="$(cd "$1" && pwd)"
version="$(cat "$root/VERSION")"
arch="$(dpkg --print-architecture)"
src="$out/lsm-$version"

rm -rf "$src" "$out"/lsm_* "$out"/lsm-dbgsym_*
mkdir "$src"
trap 'rm -rf "$src"' EXIT

# The tracked files and the new ones git does not ignore, as they are now.
git -C "$root" ls-files -z --cached --others --exclude-standard |
    tar -C "$root" --null -T - --ignore-failed-read -cf - 2>/dev/null |
    tar -C "$src" -xf -

# The version is VERSION's; the date that of the last commit, so a rebuild
# of the same commit is the same package.
maintainer="$(sed -n 's/^Maintainer: //p' "$src/debian/control")"
date="$(git -C "$root" log -1 --format=%aD 2>/dev/null || date -R)"
cat >"$src/debian/changelog" <<CHANGELOG
lsm ($version) unstable; urgency=medium

  * lsm $version (the version is the file VERSION; built by make deb).

 -- $maintainer  $date
CHANGELOG

echo "$prog: building lsm $version for $arch in $src" >&2
(cd "$src" && DEB_BUILD_OPTIONS="parallel=$(nproc)" dpkg-buildpackage -b -us -uc)

echo "$prog: lintian" >&2
lintian --fail-on error "$out/lsm_${version}_${arch}.changes"
echo "$prog: $out/lsm_${version}_${arch}.deb" >&2
