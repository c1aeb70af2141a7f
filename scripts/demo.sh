#!/usr/bin/env bash
# make demo: two local hosts (network namespaces, a real sshd), the test
# guest writing verifiable blocks to a raw and a sparse 1 GiB qcow2 disk,
# migrated live with lsm-migrate.sh; then every disk is verified on the
# destination against the guest's last acknowledged write. Needs root.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../tests/helpers/standalone.bash
source "$root/tests/helpers/standalone.bash"
trap cleanup_run EXIT

echo "demo: setting up two hosts (network namespaces joined by veth, sshd on the destination)"
hosts_setup
echo "demo: booting the guest on the source: 128 MiB RAM, a 256 MiB raw disk with 16 MiB of data, a 1 GiB sparse qcow2 disk"
e2e_guest demo 128 raw:256M:16 qcow2:1G
echo "demo: guest acknowledged generation $(guest_acked "$(guest_ack_log demo "$LSM_SRC_RUN")" disk0) on disk0; migrating to $LSM_DST_ADDR while it writes"
migrate demo "$LSM_DST_ADDR"
echo "demo: checking the destination: guest running and writing, every disk verified, source gone"
e2e_check_migrated demo 2
echo "demo: success: the guest and both disks moved with every acknowledged write"
