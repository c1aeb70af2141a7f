#!/usr/bin/env bash
# build-dom0.sh OUTDIR: builds the nested Xen lab's dom0 into OUTDIR:
#   dom0.img     ext4 root file system (label dom0root), made by mkfs.ext4 -d
#   xen.elf      the hypervisor (multiboot ELF, unzipped) for QEMU's -kernel
#   vmlinuz      the dom0 kernel      initrd.img   its initramfs
#   versions     what went in (xen, kernel)      stamp   the cache key
# Debian bookworm minbase with Xen 4.17 at exactly the version of the build
# machine's libxen-dev (LAB_XEN_VERSION overrides), so tools built here run
# against the same libxen in the dom0. Nothing is installed on the build
# machine and nothing is loop-mounted; the chroot's /proc, /sys and /dev live
# in a private mount namespace that dies with the build.
# Idempotent: does nothing when OUTDIR holds every output and a stamp that
# matches this script, the dom0 files and the Xen version.
set -euo pipefail

die() { echo "build-dom0: $*" >&2; exit 1; }
say() { echo "build-dom0: $*" >&2; }
trap 'echo "build-dom0: failed at line $LINENO; see the error above" >&2' ERR

[[ $# -eq 1 ]] || { echo "usage: build-dom0.sh OUTDIR" >&2; exit 2; }
out="$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
suite=bookworm
outputs=(dom0.img xen.elf vmlinuz initrd.img versions)

[[ $(id -u) -eq 0 ]] || die "needs root (debootstrap, chroot)"
for cmd in debootstrap mkfs.ext4 dpkg-deb unshare chroot apt-get sha256sum; do
    command -v "$cmd" >/dev/null || die "$cmd not found; apt-get install debootstrap e2fsprogs"
done

xen_version="${LAB_XEN_VERSION:-$(dpkg-query -W -f '${Version}' libxen-dev 2>/dev/null || true)}"
[[ -n "$xen_version" ]] ||
    die "libxen-dev is not installed (scripts/install-deps.sh) and LAB_XEN_VERSION is unset"

# The hypervisor comes from the suite's own release (bookworm main, 4.17.5),
# not from bookworm-security where the tools come from: Debian's 4.17.7
# hypervisor is built without shadow paging, so a PV guest cannot
# live-migrate on it ("Failed to enable logdirty: 95"). The hypercall
# interface is stable within 4.17, and 4.17.7 tools on the 4.17.5
# hypervisor migrate PV, PVH and HVM guests. LAB_XEN_HV_VERSION overrides.
# shellcheck disable=SC2016 # awk's fields
suite_version() {
    apt-cache madison "$1" 2>/dev/null |
        awk -F' *[|] *' -v s=" $suite/main " 'index($3, s) { print $2; exit }'
}
hv_version="${LAB_XEN_HV_VERSION:-}"
if [[ -z "$hv_version" ]]; then
    hv_version="$(suite_version xen-hypervisor-4.17-amd64)"
    if [[ -z "$hv_version" ]]; then
        apt-get update -qq || die "apt-get update failed; check the Debian sources in /etc/apt"
        hv_version="$(suite_version xen-hypervisor-4.17-amd64)"
    fi
    [[ -n "$hv_version" ]] ||
        die "no xen-hypervisor-4.17-amd64 in $suite/main of this machine's apt sources; set LAB_XEN_HV_VERSION"
fi

stamp="$(cat "${BASH_SOURCE[0]}" "$here"/dom0/* | sha256sum | cut -d' ' -f1) xen=$xen_version hv=$hv_version"
up_to_date() {
    local f
    for f in "${outputs[@]}"; do [[ -s "$out/$f" ]] || return 1; done
    [[ "$(cat "$out/stamp" 2>/dev/null)" == "$stamp" ]]
}
if up_to_date; then
    exit 0
fi

# The machine's own Debian mirrors, as apt has them configured.
# shellcheck disable=SC2016 # apt's own $(FIELD) syntax
repo_uri() {
    apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Identifier: Packages' 2>/dev/null |
        awk -v s="$1" '$2 == s { print $1; exit }'
}
main_uri="$(repo_uri "$suite")"
if [[ -z "$main_uri" ]]; then
    apt-get update -qq || die "apt-get update failed; check the Debian sources in /etc/apt"
    main_uri="$(repo_uri "$suite")"
fi
security_uri="$(repo_uri "$suite-security")"
[[ -n "$main_uri" ]] || die "no '$suite' suite in the apt sources of this machine"

mkdir -p "$out"
out="$(cd "$out" && pwd)"
work="$(mktemp -d "$out/.build.XXXXXX")"
# Nothing is ever mounted outside the private namespaces, so rm is safe.
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
t0=$SECONDS

# in_ns CMD...: CMD in a private mount namespace and pid namespace: mounts
# and stray daemons vanish with it, whatever happens.
in_ns() {
    unshare --mount --propagation private --pid --fork --kill-child -- "$@"
}

# in_root CMD...: CMD chrooted into the rootfs with /proc, /sys and /dev.
in_root() {
    # shellcheck disable=SC2016 # expanded by that sh
    in_ns sh -c 'r="$1"; shift
        mount -t proc proc "$r/proc" && mount -t sysfs sysfs "$r/sys" &&
        mount --rbind /dev "$r/dev" &&
        exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
            LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive HOME=/root "$@"' \
        in_root "$root" "$@"
}

say "debootstrap $suite from $main_uri"
in_ns debootstrap --variant=minbase --components=main "$suite" "$root" "$main_uri" \
    >"$work/debootstrap.log" 2>&1 || {
    tail -n 20 "$work/debootstrap.log" >&2
    die "debootstrap failed"
}

{
    echo "deb $main_uri $suite main"
    echo "deb $main_uri $suite-updates main"
    [[ -z "$security_uri" ]] || echo "deb $security_uri $suite-security main"
} >"$root/etc/apt/sources.list"
# Every binary package of the xen source at the build machine's version.
cat >"$root/etc/apt/preferences.d/lab-xen" <<EOF
Package: src:xen
Pin: version $xen_version
Pin-Priority: 1001
EOF
# No service may start inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

packages=(
    linux-image-amd64 initramfs-tools
    xen-utils-4.17 xen-utils-common xenstore-utils qemu-system-xen qemu-utils
    openssh-server openssh-client busybox iproute2 procps kmod bridge-utils socat lvm2
)
say "installing ${packages[*]}"
in_root sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@"' \
    apt "${packages[@]}" >"$work/apt.log" 2>&1 || {
    tail -n 30 "$work/apt.log" >&2
    die "apt-get install in the dom0 rootfs failed (is xen $xen_version still on the mirror?)"
}
# shellcheck disable=SC2016 # dpkg-query's ${Field} syntax
got="$(in_root dpkg-query -W -f '${Version}\n' libxenmisc4.17 xen-utils-4.17 | sort -u)"
[[ "$got" == "$xen_version" ]] ||
    die "dom0 got xen ${got//$'\n'/, }, wanted $xen_version (LAB_XEN_VERSION overrides)"

say "fetching xen-hypervisor-4.17-amd64 $hv_version"
mkdir -p "$root/var/cache/lab-dl"
# shellcheck disable=SC2016 # expanded by that sh
in_root sh -c 'chown _apt /var/cache/lab-dl && cd /var/cache/lab-dl &&
    apt-get download -qq "xen-hypervisor-4.17-amd64=$1"' dl "$hv_version" >"$work/dl.log" 2>&1 || {
    cat "$work/dl.log" >&2
    die "apt-get download xen-hypervisor-4.17-amd64=$hv_version failed"
}
dpkg-deb -x "$root"/var/cache/lab-dl/xen-hypervisor-*.deb "$work/hv"
rm -rf "$root/var/cache/lab-dl"
gzip -dc "$work"/hv/boot/xen-4.17-amd64.gz >"$work/xen.elf"

kernels=("$root"/boot/vmlinuz-*)
[[ ${#kernels[@]} -eq 1 && -f "${kernels[0]}" ]] || die "expected one kernel in /boot"
release="${kernels[0]##*/vmlinuz-}"
[[ -f "$root/boot/initrd.img-$release" ]] || die "no initrd for $release (update-initramfs failed?)"
mv "${kernels[0]}" "$work/vmlinuz"
mv "$root/boot/initrd.img-$release" "$work/initrd.img"
rm -f "$root"/boot/*

say "configuring"
install -m 755 "$here/dom0/lab-init" "$root/lab-init"
install -m 755 "$here/dom0/lab-known-hosts" "$root/usr/local/sbin/lab-known-hosts"
mkdir -p "$root/lab" "$root/var/lib/xenlab"
echo lab >"$root/etc/hostname"
printf '127.0.0.1 localhost\n' >"$root/etc/hosts"
: >"$root/etc/fstab"
# Per-run keys are made at boot by lab-init.
rm -f "$root"/etc/ssh/ssh_host_*
cat >"$root/etc/ssh/sshd_config.d/lab.conf" <<'EOF'
# Nested Xen lab dom0 (tests/xenlab): key-only root logins from the lab.
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
HostKey /etc/ssh/ssh_host_ed25519_key
# sshd resets PATH: ~/.ssh/environment puts /lab/bin (the lsm tools) first.
PermitUserEnvironment PATH
UseDNS no
PrintMotd no
ClientAliveInterval 5
ClientAliveCountMax 6
MaxSessions 64
MaxStartups 64
EOF
cat >"$root/etc/ssh/ssh_config.d/lab.conf" <<'EOF'
# Between lab dom0s: host keys are published on the share at boot.
Host *
    IdentityFile /root/.ssh/id_ed25519
    KnownHostsCommand /usr/local/sbin/lab-known-hosts
    StrictHostKeyChecking yes
    UpdateHostKeys no
    BatchMode yes
    ConnectTimeout 10
    ServerAliveInterval 5
    ServerAliveCountMax 6
    LogLevel ERROR
EOF
install -d -m 700 "$root/root/.ssh"
echo "PATH=/lab/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    >"$root/root/.ssh/environment"
chmod 600 "$root/root/.ssh/environment"

say "trimming"
rm -f "$root/usr/sbin/policy-rc.d"
in_root apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
    "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
    "$root"/usr/share/locale/* "$root"/var/cache/debconf/*-old "$root"/var/log/*.log \
    "$root"/tmp/* "$root"/var/tmp/*
moddir="$root/lib/modules/$release/kernel"
rm -rf "$moddir"/drivers/{gpu,media,infiniband,staging,iio,isdn,bluetooth,input/touchscreen} \
    "$moddir"/drivers/net/{wireless,ethernet/mellanox,ethernet/intel/ice} \
    "$moddir"/sound "$moddir"/net/{bluetooth,wireless,mac80211}
in_root depmod -a "$release"

say "making dom0.img"
size_mb=$(($(du -sm "$root" | cut -f1) * 5 / 4 + 1024))
mkfs.ext4 -q -F -L dom0root -d "$root" "$work/dom0.img" "${size_mb}M"

{
    echo "xen-tools $xen_version"
    echo "xen-hypervisor $hv_version"
    echo "kernel $release"
    echo "mirror $main_uri"
} >"$work/versions"
rm -f "$out/stamp"
for f in "${outputs[@]}"; do mv "$work/$f" "$out/$f"; done
echo "$stamp" >"$out/stamp"
say "done in $((SECONDS - t0)) s: $(du -sh --apparent-size "$out/dom0.img" | cut -f1) image" \
    "($(du -sh "$out/dom0.img" | cut -f1) allocated), xen $xen_version (hypervisor $hv_version), kernel $release"
