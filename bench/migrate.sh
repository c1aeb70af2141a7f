#!/usr/bin/env bash
# make bench: what moving the disks costs. The same writing guest is
# migrated between the two namespaced hosts RUNS times with its disk on
# storage both hosts share (--shared-disk: RAM and devices only, what stock
# migration does) and RUNS times with the disk local to each host (lsm's
# mirror). Prints the medians and the ratios local/shared, the figures to
# compare with published ones (QEMU's old block migration: ~1.7x total time,
# ~6x downtime of shared storage). Needs root.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${RUNS:-3}"
disk_mib="${DISK_MIB:-64}"
# shellcheck source=../tests/helpers/standalone.bash
source "$root/tests/helpers/standalone.bash"
trap cleanup_run EXIT

hosts_setup
shared_dir="$LSM_T/shared"
mkdir -p "$shared_dir" "$LSM_DST_RUN/guest"
data="$LSM_T/data"
head -c "$((disk_mib << 20))" /dev/urandom >"$data"

# One migration; prints its --json summary line.
one_run() {
    local mode="$1" n="$2" name="b$1$2" disk extra=()
    if [[ "$mode" == shared ]]; then
        disk="$shared_dir/$name.raw"
        extra=(--shared-disk "$disk")
    else
        disk="$LSM_SRC_IMAGES/$name.raw"
    fi
    qemu-img create -q -f raw "$disk" 512M
    qemu-img dd -f raw -O raw if="$data" of="$disk" bs=1M seek=8 2>/dev/null
    guest_start "$name" "$LSM_SRC_RUN" 256 "$disk:raw"
    guest_wait_acks "$(guest_ack_log "$name" "$LSM_SRC_RUN")" disk0 3 90
    migrate --json "${extra[@]}" "$name" "$LSM_DST_ADDR" 2>/dev/null
    guest_stop "$name" "$LSM_DST_RUN" >/dev/null
    rm -f "$disk" "$LSM_DST_IMAGES/$name.raw"
}

field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

declare -A total downtime
for mode in shared local; do
    totals=() downs=()
    for ((i = 1; i <= runs; i++)); do
        line="$(one_run "$mode" "$i")"
        totals+=("$(field total_s <<<"$line")")
        downs+=("$(field downtime_ms <<<"$line")")
        echo "bench: $mode run $i: total $(field total_s <<<"$line") s, downtime $(field downtime_ms <<<"$line") ms" >&2
    done
    total[$mode]="$(printf '%s\n' "${totals[@]}" | median)"
    downtime[$mode]="$(printf '%s\n' "${downs[@]}" | median)"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
cat <<EOF2
migration of a writing 256 MiB guest, 512 MiB disk with $disk_mib MiB of data, median of $runs runs
  shared storage: total ${total[shared]} s, downtime ${downtime[shared]} ms
  local disks:    total ${total[local]} s, downtime ${downtime[local]} ms
  ratio local/shared: total $(ratio "${total[local]}" "${total[shared]}"), downtime $(ratio "${downtime[local]}" "${downtime[shared]}")
EOF2
