#!/usr/bin/env bash
# Installs with apt everything lsm needs to build, test and run on Debian 12.
# Idempotent: does nothing when every package is present. Not root and
# something missing: says what and how, and fails.
set -euo pipefail

packages=(
    g++ make libcli11-dev rapidjson-dev libxen-dev libgtest-dev
    bats bats-support bats-assert
    qemu-system-x86 qemu-utils
    openssh-server openssh-client iproute2 util-linux
    busybox-static cpio
    # The nested Xen lab (tests/xenlab): build-dom0.sh debootstraps the dom0
    # and packs it with mkfs.ext4 -d; lab.bash talks to QEMU's sockets
    # (socat) and finds free ports with ss (iproute2).
    debootstrap e2fsprogs socat
    # make bench: each tool's peak RSS (GNU time's %M).
    time
    # The fault matrix: a destination filesystem that fills up (mount).
    mount
    # Tests that build or check JSON messages.
    jq
    # The man pages: pod2man and podchecker (perl); tests/man.bats renders
    # them with man -l (man-db) and col (bsdextrautils).
    perl man-db bsdextrautils
    # make deb (tests/deb.bats): Debian's package tooling and its checker.
    dpkg-dev debhelper lintian
    # Host evacuation (ansible/evacuate.yml, tests/ansible.bats): Debian's
    # Ansible engine, 2.14, without the community collections.
    ansible-core
)

missing=()
for p in "${packages[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
    [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing packages: ${missing[*]}; run as root: sudo $0" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
