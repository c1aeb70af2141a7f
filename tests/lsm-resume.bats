#!/usr/bin/env bats
# lsm-resume alone: the commit on the destination, quitting or rolling back the source.
bats_require_minimum_version 1.5.0

setup() {
    load helpers/common
    load helpers/blank_vm
    load helpers/local_pair
    load helpers/hostile
}

teardown() { cleanup_run; }

@test "lsm-resume send needs --quit or --rollback, not both" {
    run -2 lsm-resume send vm
    [[ "$output" == *"--quit or --rollback"* ]]
    run -2 lsm-resume send vm --quit --rollback
    run -0 lsm-resume --version
}

@test "receive --rollback with nothing to roll back succeeds" {
    make_scratch T
    run -0 lsm-resume receive vm --rollback --run-dir "$T"
}

@test "send --quit refuses while the source has not migrated" {
    local_pair_setup
    run -1 lsm-resume send vm --quit --run-dir "$SRC"
    [[ "$output" == *"refusing to quit the source QEMU"* ]]
    run -0 vm_running vm "$SRC"
}

@test "receive refuses to resume before the incoming migration completed" {
    local_pair_setup
    local_prepare
    run -1 lsm-resume receive vm --run-dir "$DST"
    [[ "$output" == *"is not complete"* ]]
}

@test "rollback after phase 2 keeps the source running and removes only what was created" {
    local_pair_setup
    echo keep >"$DST/img/unrelated"
    local_prepare
    local_mirror
    run -0 lsm-resume send vm --rollback --run-dir "$SRC"
    run -0 lsm-resume receive vm --rollback --run-dir "$DST"
    run -0 vm_running vm "$SRC"
    [[ "$(ls -A "$DST/img")" == unrelated ]]
    ! pgrep -f -- "unix:$DST/qemu/vm.qmp" >/dev/null
}

@test "the four phases piped by hand move the VM and release the source" {
    local_pair_setup
    local_prepare
    local_mirror
    lsm-ramstream send vm --run-dir "$SRC" | lsm-ramstream receive vm --run-dir "$DST" >/dev/null
    run -0 --separate-stderr lsm-resume receive vm --run-dir "$DST"
    [[ "$output" == *'"phase":"resume","ok":true'* ]]
    run -0 lsm-resume send vm --quit --run-dir "$SRC"
    # Gone, or a zombie its parent has not reaped yet.
    if kill -0 "$BLANK_VM_PID" 2>/dev/null; then grep -q '^State:.*Z' "/proc/$BLANK_VM_PID/status"; fi
    run -0 vm_running vm "$DST"
    # The destination is committed: a late rollback must not destroy it, and
    # says so with the undetermined-state status until the commit is released.
    run -3 lsm-resume receive vm --rollback --run-dir "$DST"
    [[ "$output" == *"was committed on this host"* ]]
    run -0 vm_running vm "$DST"
    run -0 lsm-resume receive vm --release --run-dir "$DST"
    [[ ! -e "$DST/lsm/vm.committed" ]]
    run -0 lsm-resume receive vm --rollback --run-dir "$DST"
    run -0 vm_running vm "$DST"
}

@test "phase 3 with --commit: the destination runs the guest only after the source's go" {
    local_pair_setup
    local_prepare
    local_mirror
    local_commit
    grep -q '"phase":"ram","ok":true' "$T/report"
    grep -q '"phase":"resume","ok":true' "$T/report"
    [[ -e "$DST/lsm/vm.committed" && ! -e "$DST/lsm/vm.state.json" ]]
    grep -q '"go":true' "$SRC/lsm/vm.source.json"
    run -0 vm_running vm "$DST"
    # The source copy may not resume on its own after go ...
    run -3 lsm-resume send vm --rollback --run-dir "$SRC"
    [[ "$output" == *"lsm-migrate.sh --recover vm"* ]]
    # ... and ends only now.
    run -0 lsm-resume send vm --quit --run-dir "$SRC"
    run -0 lsm-resume receive vm --release --run-dir "$DST"
    [[ ! -e "$SRC/lsm/vm.source.json" && ! -e "$DST/lsm/vm.committed" ]]
    run -0 vm_running vm "$DST"
}

@test "a source that stops before go leaves the destination uncommitted, and both roll back" {
    local_pair_setup
    local_prepare
    local_mirror
    # Without --commit the source never says go.
    lsm-ramstream send vm --run-dir "$SRC" | lsm-ramstream receive vm --run-dir "$DST" >/dev/null
    [[ ! -e "$DST/lsm/vm.committed" ]]
    run -0 lsm-resume send vm --rollback --run-dir "$SRC"
    run -0 lsm-resume receive vm --rollback --run-dir "$DST"
    run -0 vm_running vm "$SRC"
    [[ -z "$(ls -A "$DST/img")" ]]
}

@test "a second migration of the VM is refused while the first is unsettled" {
    local_pair_setup
    local_prepare
    run -1 lsm-dmstate send vm --run-dir "$SRC"
    [[ "$output" == *"a migration of 'vm' is in progress or was interrupted"*"--recover vm"* ]]
    run -0 vm_running vm "$SRC"
}

@test "phase 3 with --commit moves a paused VM, which stays paused" {
    local_pair_setup -S
    local_prepare
    local_mirror
    local_commit
    grep -q '"phase":"resume","ok":true,"resumed_at":"0.000000"' "$T/report"
    [[ -e "$DST/lsm/vm.committed" ]]
    run -0 lsm-resume send vm --quit --run-dir "$SRC"
    run -0 lsm-resume receive vm --release --run-dir "$DST"
    run -1 vm_running vm "$DST"
    lsm-dmstate send vm --run-dir "$DST" --dry-run | grep -q '"running":false'
}

@test "receive refuses a state file nested too deep and deletes nothing" {
    make_scratch T
    install -d -m 700 "$T/lsm"
    deep_json >"$T/lsm/vm.state.json"
    for flag in "" --rollback; do
        run -1 --separate-stderr lsm-resume receive vm --run-dir "$T" $flag
        only_line_is "$stderr" "lsm-resume: error: *$T/lsm/vm.state.json: JSON nested deeper than 128 levels*"
        [[ -z "$output" && -s "$T/lsm/vm.state.json" && ! -e "$T/lsm/vm.committed" ]]
    done
}

@test "receive --rollback refuses a state file that is a symlink and deletes nothing" {
    make_scratch T
    install -d -m 700 "$T/lsm"
    echo precious >"$T/image"
    printf '{"name":"vm","backend":"qemu","qmp":"","qemu_pid":0,"xen_config":"","nbd_pids":[],"was_running":true,"created":["%s"],"disks":[]}\n' \
        "$T/image" >"$T/planted.json"
    ln -s "$T/planted.json" "$T/lsm/vm.state.json"
    run -1 --separate-stderr lsm-resume receive vm --rollback --run-dir "$T"
    only_line_is "$stderr" "lsm-resume: error: *$T/lsm/vm.state.json is a symbolic link*"
    [[ "$(cat "$T/image")" == precious && -L "$T/lsm/vm.state.json" ]]
}

@test "receive --rollback leaves alone a pid from the state file that is not its QEMU" {
    make_scratch T
    install -d -m 700 "$T/lsm"
    sleep 300 &
    local pid=$!
    cleanup_push kill "$pid"
    printf '{"name":"vm","backend":"qemu","qmp":"%s","qemu_pid":%d,"xen_config":"","nbd_pids":[],"was_running":true,"created":[],"disks":[]}\n' \
        "$T/qemu/vm.qmp" "$pid" >"$T/lsm/vm.state.json"
    run -0 --separate-stderr lsm-resume receive vm --rollback --run-dir "$T"
    [[ "$stderr" == *"pid $pid is not the destination QEMU of vm any more"*"leaving it alone"* ]]
    kill -0 "$pid"
}

@test "receive --rollback refuses a state file whose pid is no pid, signalling nothing" {
    make_scratch T
    install -d -m 700 "$T/lsm"
    # 2^32-1 as a pid_t is -1: kill(-1) would signal every process.
    printf '{"name":"vm","backend":"qemu","qmp":"","qemu_pid":4294967295,"xen_config":"","nbd_pids":[],"was_running":true,"created":[],"disks":[]}\n' \
        >"$T/lsm/vm.state.json"
    run -1 --separate-stderr lsm-resume receive vm --rollback --run-dir "$T"
    only_line_is "$stderr" "lsm-resume: error: *$T/lsm/vm.state.json: qemu_pid holds a non-pid; not signalling anything*"
}
