#!/usr/bin/env bats
# The fault matrix: a writing guest migrating over real ssh between the two
# namespaced hosts, and a fault at each step. Every case ends with the VM
# running on exactly one host, writing there, every acknowledged write on
# that host's disks, and the other host holding nothing of it (after the
# recovery the tool named, where it exited 3). The matrix is printed at the
# end of the file's run.
bats_require_minimum_version 1.5.0

setup_file() {
    load ../helpers/common
    load ../helpers/hosts
    hosts_setup
    export FAULT_MATRIX="$BATS_FILE_TMPDIR/matrix"
    printf '%-64s %-8s %s\n' "fault" "exit" "the VM runs on" >"$FAULT_MATRIX"
}

teardown_file() {
    cat "$FAULT_MATRIX" >&3
    cleanup_run
}

setup() {
    load ../helpers/common
    load ../helpers/hosts
    load ../helpers/guest
    load ../helpers/blank_vm
    load ../helpers/migrate
    export LSM_GUEST_BLOCKS=64
    name="f$BATS_TEST_NUMBER"
    log="$LSM_T/$name.log"
}

teardown() { cleanup_run; }

# row EXIT WHERE: one line of the matrix for this test.
row() {
    printf '%-64s %-8s %s\n' "$BATS_TEST_DESCRIPTION" "$1" "$2" >>"$FAULT_MATRIX"
}

# In phase 2: a mirror held back by --bandwidth.
in_mirror() {
    e2e_guest "$name" 128 raw:64M:32
    e2e_migrate_bg "$log" --bandwidth 4 "$name" "$LSM_DST_ADDR"
    e2e_wait_log "$log" "disks:"
}

# migrate_rc: waits for the background migration (here: a subshell could
# not wait for it), its status in rc.
migrate_rc() {
    rc=0
    e2e_migrate_wait "$log" >&2 || rc=$?
}

# recover NAME: lsm-migrate.sh --recover once the interrupted run is gone;
# prints its status.
recover() {
    local rc=0
    e2e_wait_settled "$1"
    migrate --recover "$1" "$LSM_DST_ADDR" >"$log.recover" 2>&1 || rc=$?
    # Shown when the test fails.
    sed 's/^/recover: /' "$log.recover" >&2
    echo "$rc"
}

# killed_then_recovered: SIGKILLs the running lsm-migrate.sh; while the
# migration it left is unsettled, a new one of the VM is refused; then
# --recover settles it, its status in rc.
killed_then_recovered() {
    kill -KILL "$(e2e_migrate_pid "$name")" 2>/dev/null || true
    migrate_rc
    e2e_let_release
    if [[ -e "$LSM_SRC_RUN/lsm/$name.source.json" ]]; then
        run -1 migrate "$name" "$LSM_DST_ADDR"
        [[ "$output" == *"--recover"* || "$output" == *"another lsm-migrate.sh is working on $name"* ]] ||
            # Meanwhile the jobs it left ended the migration: the VM has
            # left this host, and so has the record.
            [[ "$output" == *"unknown domain '$name'"* && ! -e "$LSM_SRC_RUN/lsm/$name.source.json" ]]
    fi
    rc="$(recover "$name")"
}

@test "SIGINT in phase 2 (mirror)" {
    in_mirror
    kill -INT "$(e2e_migrate_pid "$name")"
    migrate_rc
    ((rc == 1))
    e2e_check_rolled_back "$name" 1
    row "$rc" source
}

@test "SIGTERM in phase 2 (mirror)" {
    in_mirror
    kill -TERM "$(e2e_migrate_pid "$name")"
    migrate_rc
    ((rc == 1))
    e2e_check_rolled_back "$name" 1
    row "$rc" source
}

@test "SIGKILL in phase 2, a retry refused, then --recover" {
    in_mirror
    killed_then_recovered
    ((rc == 1))
    e2e_check_rolled_back "$name" 1
    row "kill, $rc" source
}

@test "phase 3's receiver killed on the destination while the disks mirror" {
    # It starts with phase 2 and waits there for the stream.
    in_mirror
    wait_until 30 pgrep -f -- "lsm-ramstream receive $name " >/dev/null
    pkill -KILL -f -- "lsm-ramstream receive $name "
    migrate_rc
    ((rc == 1))
    grep -q "phase 3 (RAM, device state and the switchover) failed; rolling back" "$log"
    e2e_check_rolled_back "$name" 1
    row "$rc" source
}

@test "SIGINT in phase 3 (RAM stream)" {
    e2e_slow_ram_migration "$name" "$log"
    kill -INT "$(e2e_migrate_pid "$name")"
    migrate_rc
    ((rc == 1))
    e2e_check_rolled_back "$name" 1
    row "$rc" source
}

@test "SIGTERM in phase 3 (RAM stream)" {
    e2e_slow_ram_migration "$name" "$log"
    kill -TERM "$(e2e_migrate_pid "$name")"
    migrate_rc
    ((rc == 1))
    e2e_check_rolled_back "$name" 1
    row "$rc" source
}

@test "SIGKILL in phase 3, a retry refused, then --recover" {
    # At full speed: its jobs run on without it and may switch over, and a
    # RAM phase held back by --bandwidth ends with a guest that crashes on
    # this QEMU (TCG), migrated by lsm or not.
    e2e_guest "$name" 512 raw:32M
    e2e_migrate_bg "$log" "$name" "$LSM_DST_ADDR"
    e2e_wait_log "$log" "^ram:"
    killed_then_recovered
    # Its jobs ran on without it: the switchover may have happened.
    if ((rc == 0)); then
        e2e_check_migrated "$name" 1
        row "kill, $rc" destination
    else
        ((rc == 1))
        e2e_check_rolled_back "$name" 1
        row "kill, $rc" source
    fi
}

@test "SIGINT after the destination's commit" {
    e2e_guest "$name" 128 raw:32M
    e2e_hold_release
    e2e_migrate_bg "$log" "$name" "$LSM_DST_ADDR"
    e2e_wait_committed "$name"
    kill -INT "$(e2e_migrate_pid "$name")" 2>/dev/null || true
    e2e_let_release
    migrate_rc
    ((rc == 0))
    e2e_check_migrated "$name" 1
    row "$rc" destination
}

@test "SIGKILL after the destination's commit, a retry refused, then --recover" {
    e2e_guest "$name" 128 raw:32M
    e2e_hold_release
    e2e_migrate_bg "$log" "$name" "$LSM_DST_ADDR"
    e2e_wait_committed "$name"
    killed_then_recovered
    ((rc == 0))
    e2e_check_migrated "$name" 1
    row "kill, $rc" destination
}

@test "-p: SIGKILL after the destination's commit, then --recover: the guest waits there, paused" {
    e2e_guest "$name" 128 raw:32M
    e2e_hold_release
    e2e_migrate_bg "$log" -p "$name" "$LSM_DST_ADDR"
    e2e_wait_committed "$name"
    killed_then_recovered
    ((rc == 0))
    # The commit left it paused, and --recover (without -p) did not run it.
    on_dst lsm-dmstate send "$name" --run-dir "$LSM_SRC_RUN" --dry-run | grep -q '"running":false'
    guest_qmp "$name" "$LSM_DST_RUN" '{"execute":"cont"}'
    e2e_check_migrated "$name" 1
    row "kill, $rc" "destination (paused)"
}

@test "the ssh master killed after the destination's commit" {
    e2e_guest "$name" 128 raw:32M
    e2e_hold_release
    e2e_migrate_bg "$log" "$name" "$LSM_DST_ADDR"
    e2e_wait_committed "$name"
    pkill -KILL -f -- "ssh .*ControlMaster=yes.*$LSM_DST_ADDR" || true
    e2e_let_release
    migrate_rc
    if ((rc == 3)); then rc="3, $(recover "$name")"; fi
    [[ "$rc" == 0 || "$rc" == "3, 0" ]]
    e2e_check_migrated "$name" 1
    row "$rc" destination
}

@test "ssh sessions killed in phase 3" {
    e2e_slow_ram_migration "$name" "$log"
    hosts_kill_ssh_sessions
    migrate_rc
    if ((rc == 3)); then rc="3, $(recover "$name")"; fi
    [[ "$rc" == 1 || "$rc" == "3, 1" ]]
    e2e_check_rolled_back "$name" 1
    row "$rc" source
}

# failed_then_recovered_over_the_link: with the link down, the migration
# fails naming --recover (the destination could not be cleaned), which
# settles it once the link is back; both statuses in rc.
failed_then_recovered_over_the_link() {
    migrate_rc
    ((rc == 1))
    grep -q -- "--recover $name" "$log"
    hosts_link_up
    rc="$rc, $(recover "$name")"
    [[ "$rc" == "1, 1" ]]
}

@test "the link blackholed in phase 3, then --recover once it is back" {
    e2e_slow_ram_migration "$name" "$log"
    hosts_link_down
    cleanup_push hosts_link_up
    failed_then_recovered_over_the_link
    e2e_check_rolled_back "$name" 1
    row "$rc" source
}

@test "two migrations of one VM started together" {
    e2e_guest "$name" 128 raw:32M
    e2e_migrate_bg "$log" "$name" "$LSM_DST_ADDR"
    local first="$E2E_MIGRATE_PID" rc2=0
    migrate "$name" "$LSM_DST_ADDR" >"$log.2" 2>&1 || rc2=$?
    E2E_MIGRATE_PID="$first"
    migrate_rc
    cat "$log.2"
    # One of them went first; the other was refused without touching it.
    ((rc2 == 1)) || ((rc == 1))
    grep -qE "another lsm-migrate.sh is working on $name|in progress" "$log" "$log.2"
    if ((rc == 0 || rc2 == 0)); then
        e2e_check_migrated "$name" 1
        row "$rc/$rc2" destination
    else
        e2e_check_rolled_back "$name" 1
        row "$rc/$rc2" source
    fi
}

# small_destination_fs SIZE_MIB: the destination's image directory becomes
# a small filesystem of its own.
small_destination_fs() {
    on_dst mount -t tmpfs -o "size=$1m,mode=700" tmpfs "$LSM_SRC_IMAGES"
    cleanup_push on_dst umount -l "$LSM_SRC_IMAGES"
}

# fill_destination: takes what space is left there.
fill_destination() {
    on_dst dd if=/dev/zero of="$LSM_SRC_IMAGES/filler" bs=1M status=none 2>/dev/null || true
}

@test "the destination filesystem full during the mirror" {
    small_destination_fs 48
    in_mirror
    fill_destination
    migrate_rc
    ((rc == 1))
    on_dst rm -f "$LSM_SRC_IMAGES/filler"
    [[ -z "$(on_dst ls "$LSM_SRC_IMAGES")" ]]
    LSM_DST_IMAGES="$LSM_T/nothing" e2e_check_rolled_back "$name" 1
    row "$rc" source
}

# new_guest_data MIB: MIB of new data written into disk 0 on the source, at
# 16 MiB, past the writer's region (so its verification is unchanged) and
# where the destination's image is still a hole: the mirror has to give it
# space there. Through the guest's own drive, as a guest write would go.
new_guest_data() {
    local out
    out="$(guest_qmp "$name" "$LSM_SRC_RUN" \
        "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"qemu-io disk0 \\\"write -P 0x5a 16M ${1}M\\\"\"}}")"
    # HMP answers with what it printed: nothing, unless the write failed.
    grep -q '^{"return": ""}' <<<"$out" || { echo "qemu-io: $out" >&2; return 1; }
}

@test "the destination filesystem full during phase 3" {
    small_destination_fs 48
    e2e_slow_ram_migration "$name" "$log"
    fill_destination
    new_guest_data 4
    migrate_rc
    ((rc == 1))
    grep -q "No space left on device" "$log"
    on_dst rm -f "$LSM_SRC_IMAGES/filler"
    [[ -z "$(on_dst ls "$LSM_SRC_IMAGES")" ]]
    LSM_DST_IMAGES="$LSM_T/nothing" e2e_check_rolled_back "$name" 1
    row "$rc" source
}

# source_read_errors: from now on every read of disk 0 on the source fails
# with EIO (blkdebug put between its format and file nodes); the guest only
# writes, so only the mirror sees them.
source_read_errors() {
    guest_qmp "$name" "$LSM_SRC_RUN" \
        '{"execute":"blockdev-add","arguments":{"driver":"blkdebug","node-name":"dbg0","image":"file0","inject-error":[{"event":"read_aio","iotype":"read","errno":5}]}}' \
        '{"execute":"blockdev-reopen","arguments":{"options":[{"driver":"raw","node-name":"fmt0","file":"dbg0"}]}}'
}

# The disk's own chain back, as before the fault.
source_reads_restored() {
    guest_qmp "$name" "$LSM_SRC_RUN" \
        '{"execute":"blockdev-reopen","arguments":{"options":[{"driver":"raw","node-name":"fmt0","file":"file0"}]}}' \
        '{"execute":"blockdev-del","arguments":{"node-name":"dbg0"}}'
}

@test "a source read error during phase 3 (blkdebug)" {
    e2e_slow_ram_migration "$name" "$log"
    source_read_errors
    migrate_rc
    ((rc == 1))
    grep -q "disk disk0 (mirror job lsm-mirror-0) failed" "$log"
    source_reads_restored
    e2e_check_rolled_back "$name" 1
    row "$rc" source
}

@test "the link blackholed during the pause" {
    # A pause of a second or more: QEMU switches over once what is left of
    # the RAM would take --downtime at the --bandwidth it has seen, then
    # sends it unthrottled, as fast as the 16 Mbit/s link goes.
    # A guest that writes 10 times a second, so the mirror keeps up.
    export LSM_GUEST_BLOCKS=16 LSM_GUEST_APPEND="lsm.sleep=100"
    local events="$LSM_T/$name.events"
    e2e_guest "$name" 128 raw:32M
    guest_watch_events "$name" "$LSM_SRC_RUN" "$events"
    hosts_link_rate 16
    e2e_migrate_bg "$log" --bandwidth 1.5 --downtime 3000 --max-pause 8000 "$name" "$LSM_DST_ADDR"
    wait_until 180 grep -q '"STOP"' "$events" || { cat "$log"; return 1; }
    hosts_link_down
    cleanup_push hosts_link_up
    # Still paused when the link went down.
    run ! grep -q '"RESUME"' "$events"
    failed_then_recovered_over_the_link
    e2e_check_rolled_back "$name" 1
    row "$rc" source
}

@test "the destination QEMU killed once the guest runs there" {
    e2e_guest "$name" 128 raw:32M
    e2e_hold_release
    e2e_migrate_bg "$log" "$name" "$LSM_DST_ADDR"
    e2e_wait_committed "$name"
    wait_until 60 test ! -e "$LSM_DST_RUN/lsm/$name.state.json"
    local acked
    acked="$(_acked "$name" disk0)"
    if ! pkill -KILL -f -- "-name $name .*-incoming defer"; then
        echo "the destination QEMU of $name had ended by itself; its console:" >&2
        tail -n 20 "$(guest_console_log "$name" "$LSM_DST_RUN")" >&2 || true
        e2e_let_release
        migrate_rc
        return 1
    fi
    e2e_let_release
    migrate_rc
    ((rc == 0))
    # The source copy is stale now: it must never resume.
    _guest_qemu_gone "$E2E_SRC_PID"
    guest_verify "$LSM_DST_IMAGES/$name-0.raw" disk0 "$(_acked "$name" disk0)"
    ((acked <= $(_acked "$name" disk0)))
    row "$rc" "neither (killed there)"
}

@test "--recover after a migration that had finished settles nothing" {
    e2e_guest "$name" 128 raw:32M
    run -0 migrate "$name" "$LSM_DST_ADDR"
    rc="$(recover "$name")"
    if ((rc != 0)); then
        echo "the destination's console of $name:" >&2
        tail -n 20 "$(guest_console_log "$name" "$LSM_DST_RUN")" >&2 || true
        return 1
    fi
    grep -q "$name runs on $LSM_DST_ADDR; nothing is left to settle" "$log.recover"
    e2e_check_migrated "$name" 1
    row "0, $rc" destination
}

@test "--recover after a -p migration that had finished: the copy there stays paused" {
    e2e_guest "$name" 128 raw:32M
    run -0 migrate -p "$name" "$LSM_DST_ADDR"
    rc="$(recover "$name")"
    ((rc == 0))
    grep -q "$name is on $LSM_DST_ADDR, paused; nothing is left to settle" "$log.recover"
    on_dst lsm-dmstate send "$name" --run-dir "$LSM_SRC_RUN" --dry-run | grep -q '"running":false'
    guest_qmp "$name" "$LSM_DST_RUN" '{"execute":"cont"}'
    e2e_check_migrated "$name" 1
    row "0, $rc" "destination (paused)"
}
