#!/usr/bin/env bats
# lsm-resume alone: the commit on the destination, quitting or rolling back the source.
bats_require_minimum_version 1.5.0

setup() {
    load helpers/common
    load helpers/blank_vm
    load helpers/local_pair
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
    ! kill -0 "$BLANK_VM_PID" 2>/dev/null || grep -q '^State:.*Z' "/proc/$BLANK_VM_PID/status"
    run -0 vm_running vm "$DST"
    # The destination is committed: a late rollback must not destroy it.
    run -0 lsm-resume receive vm --rollback --run-dir "$DST"
    run -0 vm_running vm "$DST"
}
