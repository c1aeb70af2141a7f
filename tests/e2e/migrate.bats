#!/usr/bin/env bats
# Full migrations of the writing test guest between two hosts over real ssh.
bats_require_minimum_version 1.5.0

setup_file() {
    load ../helpers/common
    load ../helpers/hosts
    hosts_setup
}

teardown_file() { cleanup_run; }

setup() {
    load ../helpers/common
    load ../helpers/hosts
    load ../helpers/guest
    load ../helpers/blank_vm
    load ../helpers/migrate
    export LSM_GUEST_BLOCKS=64
    name="g$BATS_TEST_NUMBER"
}

teardown() { cleanup_run; }

@test "a writing guest with a raw and a qcow2 disk moves with every acknowledged write" {
    e2e_guest "$name" 128 raw:64M:16 qcow2:256M
    run -0 --separate-stderr migrate "$name" "$LSM_DST_ADDR"
    [[ "$output" == *"$name migrated to $LSM_DST_ADDR"*"downtime:"* ]]
    e2e_check_migrated "$name" 2
}

@test "a guest with 512 MB of RAM migrates" {
    e2e_guest "$name" 512 raw:32M
    run -0 migrate "$name" "$LSM_DST_ADDR"
    e2e_check_migrated "$name" 1
}

@test "a guest with 3 disks migrates, with --write-blocking and --json progress and summary" {
    e2e_guest "$name" 128 raw:32M qcow2:32M raw:48M:4
    run -0 --separate-stderr migrate --json --write-blocking "$name" "$LSM_DST_ADDR"
    [[ "$output" == '{"lsm":1,"type":"summary"'*'"ok":true'* ]]
    [[ "$stderr" == *'"type":"progress","phase":"disks"'* ]]
    e2e_check_migrated "$name" 3
}

@test "-p leaves the guest paused on the destination, committed and settled; cont runs it there" {
    e2e_guest "$name" 128 raw:32M
    run -0 --separate-stderr migrate -p --json "$name" "$LSM_DST_ADDR"
    [[ "$output" == '{"lsm":1,"type":"summary"'*'"paused":true'*'"downtime_ms":-1}' ]]
    on_dst lsm-dmstate send "$name" --run-dir "$LSM_SRC_RUN" --dry-run | grep -q '"running":false'
    local acked
    acked="$(_acked "$name" disk0)"
    sleep 2
    (($(_acked "$name" disk0) == acked))
    guest_qmp "$name" "$LSM_DST_RUN" '{"execute":"cont"}'
    e2e_check_migrated "$name" 1
}

@test "--debug keeps both hosts' debug output, the messages and the destination QEMU's log" {
    e2e_guest "$name" 128 raw:32M
    run -0 --separate-stderr migrate --debug "$name" "$LSM_DST_ADDR"
    local dir
    dir="$(echo "$LSM_T/lsm-debug-$name".*)"
    [[ -d "$dir" && "$(stat -c %a "$dir")" == 700 ]]
    [[ "$stderr" == *"debug: the logs of this run are in $dir"* ]]
    # Debug lines, and what only the destination's tools say.
    grep -q ': debug: ' "$dir/migrate.log"
    grep -q "guest $name runs on this host" "$dir/migrate.log"
    # QEMU's stream went on the destination's socket, forwarded by ssh.
    grep -q "the RAM stream goes on .*/ram.sock, straight from QEMU" "$dir/migrate.log"
    grep -q "taking the RAM stream of $name on .*/lsm/$name.ram" "$dir/migrate.log"
    [[ -s "$dir/vm.json" && -s "$dir/ram.json" ]]
    grep -qx "==> $LSM_SRC_RUN/lsm/$name.qemu.log <==" "$dir/destination.logs"
    e2e_check_migrated "$name" 1
}

@test "on a terminal the progress is one line: disks, RAM, the ETA and the pause" {
    require_cmd script
    # RAM to move at the half of --bandwidth it gets: a few seconds of it.
    LSM_GUEST_APPEND="lsm.mem=16" e2e_guest "$name" 128 raw:32M:16
    run -0 migrate_on_terminal --bandwidth 16 "$name" "$LSM_DST_ADDR"
    local shown
    shown="$(terminal_lines "$output")"
    # While the disks copy (what the guest writes meanwhile adds to them),
    # then while RAM streams.
    grep -qE '^disks [0-9.]+/[0-9.]+ MiB.* [|] RAM 0% [|] ETA ([0-9]+:[0-9]{2}|-:--) [|] pause <=300 ms$' <<<"$shown"
    grep -qE '^disks [0-9.]+ MiB ready [|] RAM [0-9]+% [0-9.]+ [KMG]iB/s[^|]* [|] ETA [0-9]+:[0-9]{2} [|] pause (~|<=)[0-9]+ ms$' <<<"$shown"
    # The view stands for the tools' own progress, and the summary follows it.
    if grep -E '^(disks|ram): |"type":"progress"' <<<"$shown"; then return 1; fi
    [[ "$output" == *"| pause "*" ms"*"$name migrated to $LSM_DST_ADDR"*"downtime:"* ]]
    e2e_check_migrated "$name" 1
}

@test "on a terminal a migration that fails shows its errors, each on a line of its own" {
    require_cmd script
    LSM_GUEST_APPEND="lsm.mem=16" e2e_guest "$name" 128 raw:32M
    # No switchover fits a 1 ms pause: phase 3 fails once RAM has streamed.
    run -1 migrate_on_terminal --bandwidth 16 --max-pause 1 "$name" "$LSM_DST_ADDR"
    local shown
    shown="$(terminal_lines "$output")"
    grep -qE '[|] RAM [0-9]+%' <<<"$shown"
    grep -q '^lsm-ramstream: error: ' <<<"$shown"
    grep -qx 'lsm-migrate: phase 3 (RAM, device state and the switchover) failed; rolling back' <<<"$shown"
    grep -qx "lsm-migrate: migration of $name failed; it keeps running on the source" <<<"$shown"
    # No message shares a line with the view.
    if grep -E ' ms.+lsm-' <<<"$shown"; then return 1; fi
    e2e_check_rolled_back "$name" 1
}

@test "--dry-run prints the plan and changes nothing on either host" {
    e2e_guest "$name" 128 raw:32M qcow2:64M
    local before
    before="$(find "$LSM_T/src" "$LSM_T/dst" ! -name '*.log' -printf '%p %s %m\n' | sort)"
    run -0 migrate --dry-run "$name" "$LSM_DST_ADDR"
    [[ "$output" == *"disk disk0: raw, 32.0 MiB virtual"*"(will be created)"* ]]
    [[ "$(find "$LSM_T/src" "$LSM_T/dst" ! -name '*.log' -printf '%p %s %m\n' | sort)" == "$before" ]]
    ! pgrep -f -- "-name $name .*-incoming defer" >/dev/null
}

@test "ssh prefers AES-GCM on an AES CPU unless -s chooses the ciphers; -v says which" {
    grep -qw aes /proc/cpuinfo || skip "this CPU has no AES instructions"
    e2e_guest "$name" 128 raw:32M
    run -0 migrate -v --dry-run "$name" "$LSM_DST_ADDR"
    [[ "$output" == *"ssh to $LSM_DST_ADDR: cipher aes128-gcm@openssh.com"* ]]
    run -0 migrate -v --dry-run -s "$LSM_SSH -c chacha20-poly1305@openssh.com" "$name" "$LSM_DST_ADDR"
    [[ "$output" == *"ssh to $LSM_DST_ADDR: cipher chacha20-poly1305@openssh.com"* ]]
}

@test "an unknown domain is one clear error and touches nothing" {
    run -1 migrate nosuchguest "$LSM_DST_ADDR"
    [[ "$output" == *"unknown domain 'nosuchguest'"* ]]
    [[ -z "$(find "$LSM_DST_DIR" -name 'nosuchguest*')" ]]
}

@test "an existing target file stops the migration; the guest stays on the source" {
    e2e_guest "$name" 128 raw:32M qcow2:32M
    echo precious >"$LSM_DST_IMAGES/$name-1.qcow2"
    run -1 migrate "$name" "$LSM_DST_ADDR"
    [[ "$output" == *"target file $LSM_SRC_IMAGES/$name-1.qcow2 already exists"* ]]
    [[ "$(cat "$LSM_DST_IMAGES/$name-1.qcow2")" == precious ]]
    rm "$LSM_DST_IMAGES/$name-1.qcow2"
    e2e_check_rolled_back "$name" 2
}

@test "ssh killed during the disk mirror: the guest stays on the source, the destination is clean" {
    local log="$LSM_T/$name.log" rc=0
    e2e_guest "$name" 128 raw:128M:64 qcow2:32M
    e2e_migrate_bg "$log" --bandwidth 4 "$name" "$LSM_DST_ADDR"
    e2e_wait_log "$log" "disks:"
    hosts_kill_ssh_sessions
    e2e_migrate_wait "$log" || rc=$?
    ((rc == 1))
    grep -q "phase 2 (mirror) failed; rolling back" "$log"
    e2e_check_rolled_back "$name" 2
}

@test "ssh killed during the RAM stream: the guest stays on the source, the destination is clean" {
    local log="$LSM_T/$name.log" rc=0
    e2e_slow_ram_migration "$name" "$log"
    hosts_kill_ssh_sessions
    e2e_migrate_wait "$log" || rc=$?
    ((rc == 1))
    grep -q "phase 3 (RAM, device state and the switchover) failed; rolling back" "$log"
    e2e_check_rolled_back "$name" 1
}

@test "the destination QEMU killed during the RAM stream: the guest stays on the source" {
    local log="$LSM_T/$name.log" rc=0
    e2e_slow_ram_migration "$name" "$log"
    pkill -KILL -f -- "-name $name .*-incoming defer"
    e2e_migrate_wait "$log" || rc=$?
    ((rc == 1))
    grep -q "phase 3 (RAM, device state and the switchover) failed; rolling back" "$log"
    e2e_check_rolled_back "$name" 1
}

# interrupted_then_rolled_back LOG: SIGINT to the migration of $name that
# logs to LOG; it ends 1, with the guest on the source and the destination
# clean.
interrupted_then_rolled_back() {
    kill -INT "$(e2e_migrate_pid "$name")"
    local rc=0
    e2e_migrate_wait "$1" || rc=$?
    ((rc == 1))
    e2e_check_rolled_back "$name" 1
}

@test "a link too slow for --downtime is said while RAM streams; SIGINT then leaves the guest on the source" {
    # 32 Mbit/s: what waits in the pipe and ssh's window alone takes most
    # of a second, more than --downtime 300. A guest that writes 10 times a
    # second, so that its mirror keeps up.
    export LSM_GUEST_BLOCKS=16 LSM_GUEST_APPEND="lsm.sleep=100"
    local log="$LSM_T/$name.log"
    e2e_guest "$name" 128 raw:32M
    hosts_link_rate 32
    e2e_migrate_bg "$log" "$name" "$LSM_DST_ADDR"
    e2e_wait_log "$log" "the pause will exceed --downtime 300: at the [0-9.]* MiB/s that reach the destination, the [0-9.]* MiB in flight and the [0-9.]* MiB the disk mirrors are behind alone take [0-9]* ms; more --bandwidth (or a faster link), --write-blocking or a longer --downtime would keep it"
    interrupted_then_rolled_back "$log"
}

@test "QEMU's downtime limit starts at a tenth of --downtime and doubles at each look towards it" {
    # RAM that never converges at 4 MiB/s (half of --bandwidth 8), and a
    # disk writer light enough that its mirror keeps up, so the budget
    # stays near --downtime and the steps show.
    export LSM_GUEST_BLOCKS=16
    local log="$LSM_T/$name.log" limits qemu_limit
    LSM_GUEST_APPEND="lsm.sleep=100 lsm.mem=16 lsm.memdirty=1" e2e_guest "$name" 128 raw:32M
    wait_until 60 grep -q "filled 16 MiB of memory, rewriting it" "$(guest_console_log "$name" "$LSM_SRC_RUN")"
    e2e_migrate_bg "$log" -vv --bandwidth 8 --downtime 400 "$name" "$LSM_DST_ADDR"
    e2e_wait_log "$log" "QEMU may take [23][0-9][0-9] ms now"
    # Each limit within its budget, and at most twice the one before,
    # from the 40 ms it starts at.
    limits="$(sed -n 's/.*QEMU may take \([0-9]*\) ms now, of its \([0-9]*\) ms of --downtime 400.*/\1 \2/p' "$log")"
    awk 'BEGIN { prev = 40 } { if ($1 > $2 || $1 > 2 * prev) exit 1; prev = $1 }' <<<"$limits" ||
        { echo "limits and budgets: $limits" >&2; false; }
    # QEMU holds one of the limits lsm logged.
    qemu_limit="$(guest_qmp "$name" "$LSM_SRC_RUN" '{"execute":"query-migrate-parameters"}' |
        sed -n 's/.*"downtime-limit": \([0-9]*\).*/\1/p')"
    grep -q "QEMU may take $qemu_limit ms now" "$log"
    interrupted_then_rolled_back "$log"
}

@test "RAM that cannot converge is said while it streams; SIGINT then leaves the guest on the source" {
    local log="$LSM_T/$name.log"
    LSM_GUEST_APPEND="lsm.mem=16 lsm.memdirty=1" e2e_guest "$name" 128 raw:32M
    wait_until 60 grep -q "filled 16 MiB of memory, rewriting it" "$(guest_console_log "$name" "$LSM_SRC_RUN")"
    e2e_migrate_bg "$log" --bandwidth 8 "$name" "$LSM_DST_ADDR"
    e2e_wait_log "$log" "RAM is not converging after [0-9]* rounds: .* against .*--downtime 300.*; more --bandwidth"
    interrupted_then_rolled_back "$log"
}
