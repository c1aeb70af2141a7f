#!/usr/bin/env bats
# lsm-migrate.sh: usage, its refusals, and an installed copy finding its tools.
bats_require_minimum_version 1.5.0

setup() {
    load helpers/common
    load helpers/blank_vm
}

teardown() { cleanup_run; }

@test "lsm-migrate.sh --help lists the options" {
    run -0 lsm-migrate.sh --help
    for opt in -s -v --backend --map --bandwidth --downtime --write-blocking --dry-run --json; do
        [[ "$output" == *"$opt"* ]]
    done
}

@test "an unknown option is a usage error naming it" {
    run -2 lsm-migrate.sh --teleport vm host
    [[ "$output" == *"unknown option --teleport"* ]]
}

@test "missing DOMAIN or HOST is a usage error" {
    run -2 lsm-migrate.sh vm
    [[ "$output" == *"expected DOMAIN and HOST"* ]]
}

@test "bad values are usage errors naming the option" {
    run -2 lsm-migrate.sh --bandwidth fast vm host
    [[ "$output" == *"--bandwidth"* ]]
    run -2 lsm-migrate.sh --downtime -5 vm host
    [[ "$output" == *"--downtime"* ]]
    run -2 lsm-migrate.sh ../vm host
    [[ "$output" == *"invalid domain name"* ]]
}

@test "an unreachable host is one clear error and the VM keeps running" {
    make_scratch T
    qemu-img create -q -f raw "$T/a.raw" 8M
    blank_vm_start vm "$T" -drive "file=$T/a.raw,format=raw,if=none,id=d" -device virtio-blk-pci,drive=d
    run -1 lsm-migrate.sh -s "ssh -F /dev/null -o BatchMode=yes -o ConnectTimeout=5 -p 9" \
        --run-dir "$T" vm 127.0.0.1
    [[ "$output" == "lsm-migrate: cannot reach 127.0.0.1 with"*"Connection refused"* ]]
    (($(wc -l <<<"$output") == 1))
    run -0 vm_running vm "$T"
}

@test "the xen backend off a Xen dom0 is refused with one clear line" {
    make_scratch T
    run -1 lsm-migrate.sh -s '' --backend xen --run-dir "$T" vm true
    [[ "${lines[0]}" == *"not a Xen dom0"*"--backend qemu"* ]]
    (($(wc -l <<<"$output") == 1))
}

@test "make install puts tools and orchestrator together and they find each other" {
    make_scratch T
    make -s -C "$LSM_ROOT" install PREFIX="$T/usr" >/dev/null
    for tool in lsm-dmstate lsm-mirror lsm-ramstream lsm-resume; do
        run -0 "$T/usr/bin/$tool" --version
    done
    run -1 "$T/usr/bin/lsm-migrate.sh" -s '' --run-dir "$T" nosuchvm true
    [[ "$output" == *"unknown domain 'nosuchvm'"* ]]
}

@test "a run directory others can write is refused with one line, before anything starts" {
    make_scratch T
    install -d -m 777 "$T/run"
    chmod 777 "$T/run"
    run -1 --separate-stderr lsm-migrate.sh -s '' --run-dir "$T/run" vm true
    [[ "$stderr" == "lsm-migrate: run directory $T/run is writable by group or others"*"chmod go-w $T/run"* ]]
    (($(wc -l <<<"$stderr") == 1))
    [[ -z "$(ls -A "$T/run")" ]]
}

@test "lsm-migrate.sh runs for several domains started together all make their way past a new run directory" {
    make_scratch T
    local i pids=()
    for i in 1 2 3 4 5 6 7 8; do
        lsm-migrate.sh -s '' --run-dir "$T/run" "vm$i" true 2>"$T/err$i" &
        pids+=("$!")
    done
    for i in 1 2 3 4 5 6 7 8; do
        ! wait "${pids[i - 1]}"
        # Each fails on its unknown domain, past the run directory.
        grep -q "unknown domain 'vm$i'" "$T/err$i" || { cat "$T/err$i"; false; }
    done
    [[ "$(stat -c %a "$T/run/lsm")" == 700 ]]
}

@test "a symlinked run directory is refused, and nothing is made where it points" {
    make_scratch T
    mkdir -m 700 "$T/run" "$T/elsewhere"
    ln -s "$T/elsewhere" "$T/run/lsm"
    run -1 --separate-stderr lsm-migrate.sh -s '' --run-dir "$T/run" vm true
    [[ "$stderr" == "lsm-migrate: run directory $T/run/lsm is not a directory (a symbolic link?)"* ]]
    [[ -z "$(ls -A "$T/elsewhere")" ]]
}

@test "a host starting with '-' or holding control characters is a usage error" {
    run -2 --separate-stderr lsm-migrate.sh vm -oProxyCommand=touch
    [[ "$stderr" == *"invalid host -oProxyCommand=touch: a host name must not start with '-'"* ]]
    run -2 --separate-stderr lsm-migrate.sh vm $'dst\n{"ok":false}'
    [[ "$stderr" == *"invalid host"* ]]
}

@test "every ssh command line puts -- before HOST" {
    load helpers/fake_tools
    make_scratch T
    fake_tools_install "$T/bin"
    export FAKE_SSH_LOG="$T/ssh.log" FAKE_REPORT='{"lsm":1,"type":"result","phase":"ram","ok":true}'
    run -0 "$T/bin/lsm-migrate.sh" -s "$T/bin/fake-ssh" --run-dir "$T/run" vm dst1
    # master, mirror receive, forward, ..., resume, exit: each ends "-- dst1 [COMMAND]"
    (($(wc -l <"$T/ssh.log") >= 8))
    grep -q -- '-O forward ' "$T/ssh.log" && grep -q -- '-O exit ' "$T/ssh.log" && grep -q -- ' -N ' "$T/ssh.log"
    run -1 grep -v -- ' -- dst1 ' "$T/ssh.log"
}

@test "the --json summary escapes the host and turns missing numbers into null" {
    load helpers/fake_tools
    make_scratch T
    fake_tools_install "$T/bin"
    local host='d"st\1,"ok":false,"x":"'
    # The destination's answers lack disk_bytes and hold a malformed ram_bytes.
    export FAKE_SSH_LOG="$T/ssh.log" \
        FAKE_REPORT='{"lsm":1,"type":"result","phase":"ram","ok":true,"ram_bytes":"1.2.3","paused_at":"0.000000"}'
    run -0 --separate-stderr "$T/bin/lsm-migrate.sh" -s "$T/bin/fake-ssh" --json --run-dir "$T/run" vm "$host"
    jq -e --arg h "$host" '.type == "summary" and .host == $h and .ok == true and (has("x") | not)
        and .disk_bytes == null and .ram_bytes == null and .downtime_ms == -1
        and (.total_s | type) == "number"' <<<"$output"
}

@test "an unknown domain is said before ssh starts, even to an unreachable host" {
    make_scratch T
    printf '#!/bin/sh\necho "$*" >>"%s"\nexit 255\n' "$T/ssh.log" >"$T/ssh"
    chmod +x "$T/ssh"
    run -1 --separate-stderr lsm-migrate.sh -s "$T/ssh" --run-dir "$T/run" nosuchvm desthost
    [[ "$stderr" == *"unknown domain 'nosuchvm'"* && "$stderr" != *"cannot reach"* ]]
    (($(wc -l <<<"$stderr") == 1))
    [[ ! -e "$T/ssh.log" ]]
}

@test "a disk the source cannot migrate is said before ssh starts" {
    make_scratch T
    printf '#!/bin/sh\necho "$*" >>"%s"\nexit 255\n' "$T/ssh.log" >"$T/ssh"
    chmod +x "$T/ssh"
    blank_vm_start vm "$T"
    run -1 --separate-stderr lsm-migrate.sh -s "$T/ssh" --run-dir "$T" --shared-disk /nonexistent.raw vm desthost
    [[ "$stderr" == *"/nonexistent.raw"* && "$stderr" != *"cannot reach"* ]]
    [[ ! -e "$T/ssh.log" ]]
    run -0 vm_running vm "$T"
}
