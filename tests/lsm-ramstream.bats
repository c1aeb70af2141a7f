#!/usr/bin/env bats
# lsm-ramstream alone: the live RAM and device-state stream.
bats_require_minimum_version 1.5.0

setup() {
    load helpers/common
    load helpers/blank_vm
    load helpers/local_pair
    load helpers/hostile
}

teardown() { cleanup_run; }

@test "lsm-ramstream --help, --version and an unknown option" {
    run -0 lsm-ramstream send --help
    [[ "$output" == *"--downtime"* ]]
    run -0 lsm-ramstream --version
    run -2 lsm-ramstream receive vm --turbo
    [[ "$output" == *"--turbo"* ]]
}

@test "send refuses to switch over before phase 2 mirrored the disks" {
    local_pair_setup
    run -1 --separate-stderr lsm-ramstream send vm --run-dir "$SRC"
    [[ "$stderr" == *"run phase 2 (lsm-mirror send) first"* ]]
    [[ -z "$output" ]]
    run -0 vm_running vm "$SRC"
}

@test "receive with garbage on stdin fails clearly; the incoming QEMU is untouched" {
    local_pair_setup
    local_prepare
    # Random bytes, but starting with a control byte: a newline first would
    # make the garbage an empty line, a different error.
    run -1 --separate-stderr lsm-ramstream receive vm --run-dir "$DST" \
        < <(printf '\x01'; head -c 65536 /dev/urandom)
    [[ "$stderr" == "lsm-ramstream: error: "*"binary data where a message was expected"* ]]
    run -0 lsm-resume receive vm --rollback --run-dir "$DST"
    [[ -z "$(ls -A "$DST/img")" ]]
}

@test "receive waits for the stream holding nothing; a source that sends nothing ends it cleanly" {
    local_pair_setup
    local_prepare
    mkfifo "$T/stream"
    lsm-ramstream -v receive vm --run-dir "$DST" --idle-timeout 100 <"$T/stream" >"$T/answers" 2>"$T/err" &
    local rx=$!
    exec {w}>"$T/stream"
    # Longer than --idle-timeout, which counts once the stream has begun,
    # and the domain's lock free all along: the rollback takes it.
    sleep 0.5
    kill -0 "$rx"
    run -0 lsm-resume receive vm --rollback --run-dir "$DST"
    exec {w}>&-
    # Not under run: its subshell cannot wait for this shell's child.
    local rc=0
    wait "$rx" || rc=$?
    ((rc == 0))
    [[ "$(cat "$T/err")" == "lsm-ramstream: the source sent no RAM stream for vm; nothing received" ]]
    [[ ! -s "$T/answers" ]]
}

@test "receive detects a stream for another domain" {
    local_pair_setup
    local_prepare
    run -1 lsm-ramstream receive vm --run-dir "$DST" <<<'{"lsm":1,"type":"ram-stream","name":"other","backend":"qemu"}'
    [[ "$output" == *"stream is for domain 'other', not 'vm'"* ]]
}

@test "receive detects a truncated stream" {
    local_pair_setup
    local_prepare
    local_mirror
    lsm-ramstream send vm --run-dir "$SRC" >"$T/stream" 2>/dev/null
    lsm-resume send vm --rollback --run-dir "$SRC"
    run -1 lsm-ramstream receive vm --run-dir "$DST" < <(head -c 100000 "$T/stream")
    [[ "$output" == *"RAM stream: stream truncated"* ]]
}

@test "send then receive moves the VM, with the disks' final point taken at switchover" {
    local_pair_setup
    local_prepare
    local_mirror
    run -0 --separate-stderr bash -c "lsm-ramstream send vm --run-dir '$SRC' | tee '$T/stream' | lsm-ramstream receive vm --run-dir '$DST'"
    [[ "$output" == *'"type":"result","phase":"ram","ok":true'* ]]
    [[ "$stderr" == *"switched over"* ]]
    # Frames as long as what QEMU had queued: a 16-byte header per byte
    # (what a source that misreads its socket sends) would show here.
    local bytes
    bytes="$(sed -n 's/.*"ram_bytes":\([0-9]*\).*/\1/p' <<<"$output")"
    (($(stat -c %s "$T/stream") < 2 * bytes))
    qemu-img compare -U -f raw -F raw "$SRC/img/a.raw" "$DST/img/a.raw"
    qemu-img compare -U "$SRC/img/b.qcow2" "$DST/img/b.qcow2"
}

@test "send --stream-socket to receive --listen: QEMU's bytes go on the socket, the pipe carries messages" {
    local_pair_setup
    local_prepare
    local_mirror
    mkfifo "$T/answers"
    lsm-ramstream send vm --run-dir "$SRC" --commit --report "$T/report" \
        --stream-socket "$DST/lsm/vm.ram" <"$T/answers" | tee "$T/pipe" |
        lsm-ramstream receive vm --run-dir "$DST" --listen >"$T/answers"
    grep -q '"type":"ram-stream","name":"vm","backend":"qemu","channel":"socket"' "$T/pipe"
    grep -q '"type":"go","name":"vm"' "$T/pipe"
    # No frame: every line of the pipe is a message.
    ! grep -qv '^{"lsm":1,"type":"' "$T/pipe"
    grep -q '"phase":"resume","ok":true' "$T/report"
    [[ ! -e "$DST/lsm/vm.ram" ]]
    qemu-img compare -U -f raw -F raw "$SRC/img/a.raw" "$DST/img/a.raw"
    qemu-img compare -U "$SRC/img/b.qcow2" "$DST/img/b.qcow2"
}

# receive_listening: lsm-ramstream receive --listen for vm in the
# background ($rx), its stdin the fifo $T/stream held open on fd $w.
receive_listening() {
    mkfifo "$T/stream"
    lsm-ramstream receive vm --run-dir "$DST" --listen "$@" <"$T/stream" >"$T/answers" 2>"$T/err" &
    rx=$!
    cleanup_push kill "$rx"
    exec {w}>"$T/stream"
    wait_until 10 grep -q '"type":"ram-listening"' "$T/answers"
    [[ -S "$DST/lsm/vm.ram" && -z "$(find "$DST/lsm/vm.ram" -perm /077)" ]]
}

# receive_ends: closes the background receiver's stdin and waits for it,
# its exit status in rx_rc.
receive_ends() {
    exec {w}>&-
    rx_rc=0
    wait "$rx" || rx_rc=$?
    # Shown when the test fails.
    sed 's/^/receiver: /' "$T/err"
}

@test "receive --listen: garbage on its socket is refused by the destination QEMU, whose words it gives" {
    local_pair_setup
    local_prepare
    receive_listening
    echo '{"lsm":1,"type":"ram-stream","name":"vm","backend":"qemu","channel":"socket"}' >&"$w"
    # What one write puts in the socket's buffer before QEMU reads it: QEMU
    # closes the connection at its first bad bytes.
    head -c 4096 /dev/urandom | socat -u - "UNIX-CONNECT:$DST/lsm/vm.ram"
    # QEMU 7.2 exits when an incoming migration fails.
    wait_until 10 grep -q "load of migration failed" "$DST/lsm/vm.qemu.log"
    receive_ends
    ((rx_rc == 1))
    grep -q "the destination QEMU is gone .*load of migration failed" "$T/err"
    [[ ! -e "$DST/lsm/vm.ram" ]]
    run -0 lsm-resume receive vm --rollback --run-dir "$DST"
    [[ -z "$(ls -A "$DST/img")" ]]
}

@test "receive --listen: a source that never connects is given up after --idle-timeout" {
    local_pair_setup
    local_prepare
    receive_listening --idle-timeout 300
    echo '{"lsm":1,"type":"ram-stream","name":"vm","backend":"qemu","channel":"socket"}' >&"$w"
    wait_until 10 grep -q "nothing connected to RAM stream socket $DST/lsm/vm.ram in time" "$T/err"
    receive_ends
    ((rx_rc == 1))
    [[ ! -e "$DST/lsm/vm.ram" ]]
}

@test "receive --listen: the source's ram-sent lines stop; the idle timeout ends it" {
    local_pair_setup
    local_prepare
    receive_listening --idle-timeout 500
    echo '{"lsm":1,"type":"ram-stream","name":"vm","backend":"qemu","channel":"socket"}' >&"$w"
    # A connection that stays open with nothing on it, as from a source
    # that stopped.
    socat -u EXEC:"sleep 30" "UNIX-CONNECT:$DST/lsm/vm.ram" &
    cleanup_push kill "$!"
    echo '{"lsm":1,"type":"ram-sent","bytes":0}' >&"$w"
    wait_until 10 grep -q "nothing from the stream from the source for 500 ms" "$T/err"
    receive_ends
    ((rx_rc == 1))
}

@test "check refuses what is not a libxl migration stream, saying so" {
    run -1 --separate-stderr lsm-ramstream check < <(head -c 4096 /dev/urandom)
    [[ "$stderr" == "lsm-ramstream: error: libxl stream on stdin: not a libxl stream"* ]]
    run -1 --separate-stderr lsm-ramstream check < <(printf 'LibxlFmt\0\0\0\2\0\0\0\0')
    [[ "$stderr" == *"libxl stream ended inside a record header"* ]]
}

@test "receive refuses deeply nested JSON with one line" {
    make_scratch T
    run -1 --separate-stderr lsm-ramstream receive vm --run-dir "$T" < <(deep_json)
    only_line_is "$stderr" "lsm-ramstream: error: message: JSON nested deeper than 128 levels*"
    [[ -z "$output" && ! -e "$T/qemu" ]]
}
