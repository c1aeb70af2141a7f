#!/usr/bin/env bats
# lsm-mirror alone: exporting targets on the destination, mirroring from the source.
bats_require_minimum_version 1.5.0

setup() {
    load helpers/common
    load helpers/blank_vm
    load helpers/local_pair
    load helpers/hostile
}

teardown() { cleanup_run; }

@test "lsm-mirror --help, --version and an unknown option" {
    run -0 lsm-mirror send --help
    [[ "$output" == *"--bandwidth"* && "$output" == *"--write-blocking"* ]]
    run -0 lsm-mirror --version
    run -2 lsm-mirror send vm --socket /x --speed 3
    [[ "$output" == *"--speed"* ]]
}

@test "receive without a prepared migration says so" {
    make_scratch T
    run -1 lsm-mirror receive vm --run-dir "$T"
    [[ "$output" == *"no incoming migration here"* ]]
}

@test "receive exports every copied disk on a unix socket, not TCP" {
    local_pair_setup
    local_prepare
    run -0 --separate-stderr lsm-mirror receive vm --run-dir "$DST"
    [[ "$output" == *'"socket":"'"$DST"'/lsm/vm.nbd"'* ]]
    [[ "$output" == *'"key":"da"'*'"key":"db"'* ]]
    [[ -S "$DST/lsm/vm.nbd" ]]
    local pid
    pid="$(pgrep -f -- "unix:$DST/qemu/vm.qmp")"
    ! ss -Htlnp | grep -q "pid=$pid,"
}

@test "send mirrors every disk to READY, sparse, with progress on stderr only" {
    local_pair_setup
    local_prepare
    run -0 --separate-stderr local_mirror
    [[ -z "$output" ]]
    [[ "$stderr" == *"disks: 100%"*"all disks ready"* ]]
    # The copy is READY, not finished: the source must not have pivoted.
    run -0 lsm-resume send vm --rollback --run-dir "$SRC"
    qemu-img compare -U -f raw -F raw "$SRC/img/a.raw" "$DST/img/a.raw"
    qemu-img compare -U "$SRC/img/b.qcow2" "$DST/img/b.qcow2"
    (($(stat -c %b "$DST/img/a.raw") <= $(stat -c %b "$SRC/img/a.raw") + 2048))
}

@test "send --json reports progress as JSON lines" {
    local_pair_setup
    local_prepare
    run -0 --separate-stderr local_mirror --json
    [[ "$stderr" == *'{"lsm":1,"type":"progress","phase":"disks"'*'"final":true'* ]]
}

@test "send with garbage on stdin fails clearly and leaves no job behind" {
    local_pair_setup
    run -1 --separate-stderr lsm-mirror send vm --run-dir "$SRC" --socket /nonexistent <<<'garbage'
    [[ "$stderr" == *"not valid JSON"* ]]
    run -0 vm_running vm "$SRC"
}

@test "send to an unreachable NBD socket names the disk and cleans up" {
    local_pair_setup
    local_prepare
    lsm-mirror receive vm --run-dir "$DST" >"$T/exports.json"
    run -1 lsm-mirror send vm --run-dir "$SRC" --socket "$T/nothing.sock" <"$T/exports.json"
    [[ "$output" == *"disk da: connecting to the destination's NBD export"* ]]
    run -0 vm_running vm "$SRC"
}

@test "send refuses deeply nested JSON with one line and starts nothing" {
    make_scratch T
    run -1 --separate-stderr lsm-mirror send vm --run-dir "$T" --socket /nonexistent < <(deep_json)
    only_line_is "$stderr" "lsm-mirror: error: message: JSON nested deeper than 128 levels*"
    [[ ! -e "$T/lsm/vm.source.json" ]]
}

@test "receive refuses a state file nested too deep, naming it" {
    make_scratch T
    install -d -m 700 "$T/lsm"
    deep_json >"$T/lsm/vm.state.json"
    run -1 --separate-stderr lsm-mirror receive vm --run-dir "$T"
    only_line_is "$stderr" "lsm-mirror: error: $T/lsm/vm.state.json: JSON nested deeper than 128 levels*"
    [[ -z "$output" && ! -e "$T/lsm/vm.nbd" ]]
}

@test "send refuses more exports than lsm migrates and starts nothing" {
    make_scratch T
    jq -cn '{lsm: 1, type: "exports", socket: "/s",
             exports: [range(257) | {key: "d\(.)", export: "lsm-\(.)", socket: "/s"}]}' >"$T/exports.json"
    run -1 --separate-stderr lsm-mirror send vm --run-dir "$T" --socket /nonexistent <"$T/exports.json"
    only_line_is "$stderr" "lsm-mirror: error: *exports: 257 exports, more than the 256 disks lsm migrates*"
    [[ ! -e "$T/lsm/vm.source.json" ]]
}
