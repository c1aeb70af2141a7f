#!/usr/bin/env bats
# lsm-progress alone: the tools' progress lines drawn as one line, every
# other line passed through, on a terminal (script(1)'s) and off one.
bats_require_minimum_version 1.5.0

setup() {
    load helpers/common
    make_scratch T
    # Phase 2 copying, a notice, phase 2 done, the destination's line (not
    # shown), an error, and a last line without its newline.
    {
        echo 'lsm-migrate: ssh to dst: cipher aes128-gcm@openssh.com'
        echo '{"lsm":1,"type":"progress","phase":"disks","done":8388608,"total":33554432,"rate":8388608.0,"eta":3.0,"elapsed":1.0,"final":false}'
        echo '{"lsm":1,"type":"progress","phase":"disks","done":33554432,"total":33554432,"rate":8388608.0,"eta":0.0,"elapsed":4.0,"final":true,"note":"all disks ready"}'
        echo '{"lsm":1,"type":"progress","phase":"ram received","done":4096,"total":0,"rate":0.0,"eta":0.0,"elapsed":0.5,"final":false}'
        echo 'lsm-ramstream: error: RAM migration failed'
        printf 'lsm-migrate: half a li'
    } >"$T/stderr"
}

teardown() { cleanup_run; }

@test "lsm-progress --help, --version and an unknown option" {
    run -0 lsm-progress view --help
    [[ "$output" == *"--ram"* && "$output" == *"--downtime"* ]]
    run -0 lsm-progress --version
    run -2 lsm-progress view --eta 3
    [[ "$output" == *"--eta"* ]]
}

@test "off a terminal each state of the view is a line and every other line passes as it came" {
    run -0 lsm-progress view --ram 16777216 --downtime 300 <"$T/stderr"
    [[ "$output" == "lsm-migrate: ssh to dst: cipher aes128-gcm@openssh.com
disks 8.0/32.0 MiB 8.0 MiB/s | RAM 0% | ETA 0:05 | pause <=300 ms
disks 32.0 MiB ready | RAM 0% | ETA 0:02 | pause <=300 ms
lsm-ramstream: error: RAM migration failed
lsm-migrate: half a li" ]]
}

@test "on a terminal the view is one line rewritten in place, erased before an error" {
    require_cmd script
    run -0 script -qec "lsm-progress view --downtime 300 <'$T/stderr'" /dev/null
    # The terminal adds a carriage return to each newline.
    [[ "$output" == *$'\rdisks 8.0/32.0 MiB 8.0 MiB/s | ETA 0:03 | pause <=300 ms\e[K\rdisks 32.0 MiB ready | ETA 0:00 | pause <=300 ms\e[K\r\e[Klsm-ramstream: error: RAM migration failed\r\n'* ]]
    [[ "$output" == *"lsm-migrate: half a li" ]]
}

@test "view outlives SIGINT and SIGTERM and ends with its input, losing nothing" {
    mkfifo "$T/in"
    lsm-progress view <"$T/in" >"$T/out" 2>&1 &
    local pid=$!
    exec {w}>"$T/in"
    # Once a line is through, it is reading (its signals set).
    echo "lsm-migrate: phase 3 failed" >&"$w"
    wait_until 10 grep -q "phase 3" "$T/out"
    kill -INT "$pid"
    kill -TERM "$pid"
    echo "lsm-migrate: interrupted migration; rolling back" >&"$w"
    exec {w}>&-
    wait "$pid"
    [[ "$(cat "$T/out")" == "lsm-migrate: phase 3 failed
lsm-migrate: interrupted migration; rolling back" ]]
}
