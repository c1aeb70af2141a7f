#!/usr/bin/env bats
# Reproducer, not part of make check: the guest crash after a slow live
# migration is QEMU's (7.2, TCG), not lsm's. A plain QEMU-to-QEMU migration
# of the lsm test guest, same TCG guest and shared disk, no lsm at all, with
# the RAM held to MIB MiB/s (default 2): with MEM=256M (the default) the
# guest panicked on the destination in 8 of 8 runs here (NULL dereference
# in blk_mq_complete_request_remote, a page fault in __run_timers). The
# cause is QEMU's, fixed in 9.0 by commit 03bfc2188f: the
# dirty bitmap sync of a RAM block that is a multiple of 256 KiB clears the
# bits without resetting the vCPUs' TLBs, so stores through older TLB
# entries are never sent again. With MEM=262152k (256 MiB and 8 KiB), which
# QEMU syncs page by page, it survived 2 of 2; test guests use such sizes
# (tests/helpers/guest.bash) and lsm warns of the bug
# (lib/qemu/tcg_dirty_hazard.hpp). Run: bats tests/repro/qemu-tcg-slow-migration.bats
setup() {
    load ../helpers/common
    load ../helpers/guest
    make_scratch T
}
teardown() { cleanup_run; }

@test "plain QEMU migration, max-bandwidth ${MIB:-2} MiB/s, guest survives" {
    export LSM_GUEST_BLOCKS=16
    qemu-img create -q -f raw "$T/d.raw" 32M
    guest_start g "$T/src" "${MEM:-256M}" "$T/d.raw:raw"
    guest_wait_acks "$(guest_ack_log g "$T/src")" disk0 3 90
    local pid args=()
    pid="$(cat "$(guest_pidfile g "$T/src")")"
    mapfile -d '' args < "/proc/$pid/cmdline"
    args=("${args[@]//$T\/src/$T/dst}")
    install -d -m 700 "$T/dst/qemu" "$T/dst/guest"
    "${args[@]}" -incoming defer </dev/null >/dev/null 2>"$T/dst.err"
    cleanup_push kill "$(cat "$T/dst/qemu/g.pid")"
    wait_until 10 test -S "$(guest_test_qmp_socket g "$T/dst")"
    guest_qmp g "$T/dst" '{"execute":"migrate-incoming","arguments":{"uri":"unix:'"$T"'/mig.sock"}}'
    guest_qmp g "$T/src" '{"execute":"migrate-set-parameters","arguments":{"max-bandwidth":'"$(( ${MIB:-2} << 20 ))"'}}' \
        '{"execute":"migrate","arguments":{"uri":"unix:'"$T"'/mig.sock"}}'
    _done() { guest_qmp g "$T/src" '{"execute":"query-migrate"}' | grep -q '"status": *"completed"'; }
    wait_until 600 _done
    local t0=$SECONDS
    local acked
    acked="$(guest_acked "$(guest_ack_log g "$T/src")" disk0)"
    guest_wait_acks "$(guest_ack_log g "$T/dst")" disk0 $((acked + 20)) 120 || { grep -m4 -E "BUG|Oops|RIP:" "$(guest_console_log g "$T/dst")" >&2; return 1; }
    echo "# migrated after $t0 s; dst acked $(guest_acked "$(guest_ack_log g "$T/dst")" disk0), src had $acked" >&3
    ! grep -q "Kernel panic\|BUG:" "$(guest_console_log g "$T/dst")"
}
