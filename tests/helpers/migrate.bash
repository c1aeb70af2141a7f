# Migrating the test guest between the two hosts of helpers/hosts, and the
# checks every migration test makes. Load after common, hosts and guest.

# e2e_guest NAME MEM_MB SPEC...: creates each disk in $LSM_SRC_IMAGES from a
# SPEC of FORMAT:SIZE[:FILL_MIB] (FILL_MIB of random data past the guest's
# region, so a disk has more to copy), boots the guest on the source and
# waits until it has acked generation 3 on every disk. Sets E2E_SRC_PID.
e2e_guest() {
    local name="$1" mem="$2"
    shift 2
    local disks=() i=0 spec fmt size fill path
    for spec in "$@"; do
        IFS=: read -r fmt size fill <<<"$spec"
        path="$LSM_SRC_IMAGES/$name-$i.$fmt"
        qemu-img create -q -f "$fmt" "$path" "$size"
        if [[ -n "$fill" ]]; then
            head -c "$((fill << 20))" /dev/urandom >"$LSM_T/fill"
            qemu-img dd -f raw -O "$fmt" if="$LSM_T/fill" of="$path" bs=1M seek=8 2>/dev/null ||
                qemu-io -f "$fmt" -c "write -s $LSM_T/fill 8M $((fill))M" "$path" >/dev/null
            rm -f "$LSM_T/fill"
        fi
        disks+=("$path:$fmt")
        i=$((i + 1))
    done
    # The destination QEMU writes its serial logs to the same paths there.
    mkdir -p "$LSM_DST_RUN/guest"
    guest_start "$name" "$LSM_SRC_RUN" "$mem" "${disks[@]}"
    E2E_SRC_PID="$(cat "$(guest_pidfile "$name" "$LSM_SRC_RUN")")"
    for ((i = 0; i < $#; i++)); do
        guest_wait_acks "$(guest_ack_log "$name" "$LSM_SRC_RUN")" "disk$i" 3 90
    done
}

# migrate ARGS...: lsm-migrate.sh on the source host, over real ssh. As a
# terminal's Ctrl-C would find it: a command started in the background by a
# script has SIGINT ignored, and bash cannot trap a signal ignored on entry.
# Its temporary directory goes with the scratch dir, even when a test kills
# it before it can remove it.
migrate() {
    on_src env --default-signal=INT TMPDIR="$LSM_T" \
        lsm-migrate.sh -s "${E2E_SSH:-$LSM_SSH}" --run-dir "$LSM_SRC_RUN" "$@"
}

# e2e_hold_release: from now on the migrations' ssh holds back the command
# that lets the destination forget a commit (lsm-resume receive --release)
# until e2e_let_release, so that a fault lands between the commit and the
# release every time, not only when a poll catches that short window.
e2e_hold_release() {
    E2E_SSH="$LSM_T/ssh-hold-release"
    cat >"$E2E_SSH" <<EOF
#!/bin/bash
if [[ "\$*" == *--release* ]]; then
    while [[ -e "$LSM_T/hold-release" ]]; do sleep 0.1; done
fi
exec $LSM_SSH "\$@"
EOF
    chmod 700 "$E2E_SSH"
    touch "$LSM_T/hold-release"
}

# e2e_let_release: ends the hold. A held release whose lsm-migrate.sh was
# killed is dropped, as the kill would have dropped it.
e2e_let_release() {
    if ! kill -0 "$E2E_MIGRATE_PID" 2>/dev/null; then
        pkill -f -- "$LSM_T/ssh-hold-release" || true
    fi
    rm -f "$LSM_T/hold-release"
}

# migrate_on_terminal ARGS...: migrate with its stdout and stderr a
# terminal of 200 columns (script(1)'s pseudo-terminal), as an operator
# sees it; $output then holds what the terminal received.
migrate_on_terminal() {
    local cmd
    cmd="$(printf '%q ' ip netns exec "$LSM_SRC_NS" env --default-signal=INT TMPDIR="$LSM_T" \
        lsm-migrate.sh -s "$LSM_SSH" --run-dir "$LSM_SRC_RUN" "$@")"
    script -qec "stty cols 200 && $cmd" /dev/null
}

# terminal_lines TEXT: what a terminal showed, one line per state of a line
# rewritten in place (split at each carriage return), erase sequences gone.
terminal_lines() {
    tr '\r' '\n' <<<"$1" | sed 's/\x1b\[K//g'
}

_acked() {
    guest_acked "$(guest_ack_log "$1" "$LSM_SRC_RUN")" "$(guest_ack_log "$1" "$LSM_DST_RUN")" "$2"
}

# e2e_check_migrated NAME NDISKS: the guest runs on the destination and
# keeps writing, no QEMU is left on the source, every destination disk
# verifies at the last acknowledged generation and stayed sparse.
e2e_check_migrated() {
    local name="$1" n="$2" i acked src dst
    _guest_qemu_gone "$E2E_SRC_PID"
    for ((i = 0; i < n; i++)); do
        acked="$(_acked "$name" "disk$i")"
        guest_wait_acks "$(guest_ack_log "$name" "$LSM_DST_RUN")" "disk$i" "$((acked + 2))" 60
    done
    # Settled: neither host keeps a record of the migration.
    [[ ! -e "$LSM_SRC_RUN/lsm/$name.source.json" && ! -e "$LSM_DST_RUN/lsm/$name.committed" ]] ||
        { echo "a record of the migration is left: $(ls "$LSM_SRC_RUN/lsm" "$LSM_DST_RUN/lsm")" >&2; return 1; }
    guest_stop "$name" "$LSM_DST_RUN"
    for ((i = 0; i < n; i++)); do
        acked="$(_acked "$name" "disk$i")"
        src="$(echo "$LSM_SRC_IMAGES/$name-$i".*)"
        dst="$LSM_DST_IMAGES/${src##*/}"
        guest_verify "$dst" "disk$i" "$acked"
        # Sparse: no more allocated than the source plus 1 MiB of slack.
        (($(stat -c %b "$dst") <= $(stat -c %b "$src") + 2048)) ||
            { echo "$dst: $(stat -c %b "$dst") blocks allocated, source $(stat -c %b "$src")" >&2; return 1; }
    done
}

# e2e_check_rolled_back NAME NDISKS: the guest still runs on the source and
# keeps writing there, its disks verify, and the destination holds nothing
# of this migration.
e2e_check_rolled_back() {
    local name="$1" n="$2" i acked
    vm_running "$name" "$LSM_SRC_RUN"
    for ((i = 0; i < n; i++)); do
        acked="$(_acked "$name" "disk$i")"
        guest_wait_acks "$(guest_ack_log "$name" "$LSM_SRC_RUN")" "disk$i" "$((acked + 2))" 60
    done
    [[ -z "$(find "$LSM_DST_IMAGES" -name "$name-*")" ]] ||
        { echo "destination images left: $(ls "$LSM_DST_IMAGES")" >&2; return 1; }
    [[ ! -e "$LSM_DST_RUN/lsm/$name.state.json" && ! -e "$LSM_DST_RUN/lsm/$name.committed" ]]
    [[ ! -e "$LSM_SRC_RUN/lsm/$name.source.json" ]]
    if pgrep -f -- "-name $name .*-incoming defer" >/dev/null; then
        echo "an incoming QEMU of $name is left on the destination" >&2
        return 1
    fi
    guest_stop "$name" "$LSM_SRC_RUN"
    for ((i = 0; i < n; i++)); do
        guest_verify "$(echo "$LSM_SRC_IMAGES/$name-$i".*)" "disk$i" "$(_acked "$name" "disk$i")"
    done
}

# e2e_migrate_bg LOG ARGS...: lsm-migrate.sh in the background, all its
# output in LOG; sets E2E_MIGRATE_PID.
e2e_migrate_bg() {
    local log="$1"
    shift
    migrate "$@" >"$log" 2>&1 3>&- &
    E2E_MIGRATE_PID=$!
}

# e2e_migrate_wait LOG: waits for it (not under `run`, whose subshell cannot
# wait for our child), shows its log, returns its exit status.
e2e_migrate_wait() {
    local rc=0
    wait "$E2E_MIGRATE_PID" || rc=$?
    cat "$1"
    echo "lsm-migrate exit status $rc"
    return "$rc"
}

# e2e_slow_ram_migration NAME LOG: a guest whose migration is in phase 3,
# streaming RAM over a slow link, on return. The writer is lightened so the
# mirrors converge under that limit.
e2e_slow_ram_migration() {
    export LSM_GUEST_BLOCKS=16
    e2e_guest "$1" 256 raw:32M
    e2e_migrate_bg "$2" --bandwidth 2 "$1" "$LSM_DST_ADDR"
    e2e_wait_log "$2" "^ram:"
}

# Waits until the migration log shows PATTERN (a phase's progress line).
e2e_wait_log() {
    wait_until 120 grep -q -- "$2" "$1" ||
        { echo "no '$2' in the migration log after 120 s:" >&2; cat "$1" >&2; return 1; }
}

# e2e_migrate_pid NAME: the lsm-migrate.sh of NAME started by e2e_migrate_bg
# (the oldest: its jobs are subshells with the same command line).
e2e_migrate_pid() {
    pgrep -o -f -- "lsm-migrate.sh .* $1 $LSM_DST_ADDR\$"
}

# e2e_wait_committed NAME: waits until the destination has committed NAME.
e2e_wait_committed() {
    wait_until 120 test -e "$LSM_DST_RUN/lsm/$1.committed" ||
        { echo "$1 was not committed on the destination within 120 s" >&2; return 1; }
}

# e2e_wait_settled NAME: waits until no process of an interrupted
# lsm-migrate.sh of NAME holds its lock any more (its jobs run on alone).
e2e_wait_settled() {
    wait_until 180 flock -n "$LSM_SRC_RUN/lsm/$1.migrate.lock" true ||
        { echo "the lsm-migrate.sh lock of $1 is still held after 180 s" >&2; return 1; }
}
