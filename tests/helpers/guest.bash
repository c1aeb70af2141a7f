# Test guest helpers: boot the busybox guest whose lsm-guest-writer fills
# every disk with verifiable blocks, follow its acknowledgements, and verify
# its disk images afterwards. Load after helpers/common.
#
# Per guest NAME and host run directory RUNDIR (all mode 700):
#   RUNDIR/qemu/NAME.qmp          QMP socket
#   RUNDIR/qemu/NAME.pid          pidfile (QEMU removes it when it exits)
#   RUNDIR/guest/NAME-console.log guest console (ttyS0): kernel and writer
#   RUNDIR/guest/NAME-ack.log     ack channel (ttyS1): "lsm-ack DISKID GEN"
#   RUNDIR/guest/NAME-test.qmp    a second QMP monitor, the tests' own: lsm
#                                 holds the first one while it migrates
# Disk i's format node is fmtI and its file node fileI, so that a test can
# put a filter between them (blockdev-reopen), as fault injection does.
# Disks get ids disk0, disk1, ... in argument order; the id is the virtio
# serial, so it survives migration and shows up in the acks and the blocks.
#
# Only verify images of a stopped guest: a running one may have a block in
# flight, which reads back torn. QEMU stops cleanly on SIGTERM (guest_stop):
# it drains and flushes all block I/O first, so every acked generation is
# on disk afterwards.

LSM_GUEST_KERNEL="$LSM_BUILD/cache/kernel/vmlinuz"
LSM_GUEST_INITRD="$LSM_BUILD/guest/initramfs.cpio.gz"
LSM_GUEST_VERIFY="$LSM_BUILD/guest/lsm-guest-verify"
# Region each disk gets, in 4 KiB blocks (the guest's lsm.blocks=).
LSM_GUEST_BLOCKS="${LSM_GUEST_BLOCKS:-256}"
# More kernel command line for the guest (lsm.mem=, lsm.sleep=...).
LSM_GUEST_APPEND="${LSM_GUEST_APPEND:-}"

# Fails (not skips: a missing build is a bug) unless `make guest` has run.
guest_require_built() {
    local f
    for f in "$LSM_GUEST_KERNEL" "$LSM_GUEST_INITRD" "$LSM_GUEST_VERIFY"; do
        [[ -e "$f" ]] || { echo "test guest: $f missing; run 'make guest' first" >&2; return 1; }
    done
}

guest_console_log() { echo "$2/guest/$1-console.log"; }
guest_ack_log() { echo "$2/guest/$1-ack.log"; }
guest_qmp_socket() { echo "$2/qemu/$1.qmp"; }
guest_test_qmp_socket() { echo "$2/guest/$1-test.qmp"; }
guest_pidfile() { echo "$2/qemu/$1.pid"; }

# Prints the image format of PATH (raw, qcow2, ...).
_guest_format() {
    qemu-img info -U "$1" | sed -n 's/^file format: //p'
}

# True while PID is a live QEMU (an exited one may linger as a zombie).
_guest_qemu_alive() {
    local pid="$1" comm state
    comm="$(cat "/proc/$pid/comm" 2>/dev/null)" || return 1
    [[ "$comm" == qemu-system-* ]] || return 1
    state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)"
    [[ -n "$state" && "$state" != Z ]]
}

_guest_qemu_gone() { ! _guest_qemu_alive "$1"; }

# Sends SIGTERM and waits; SIGKILL if QEMU has not exited after TIMEOUT s.
_guest_kill_pid() {
    local pid="$1" timeout="${2:-30}"
    _guest_qemu_alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_until "$timeout" _guest_qemu_gone "$pid"; then
        echo "test guest: QEMU $pid ignored SIGTERM for ${timeout}s; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
        wait_until 10 _guest_qemu_gone "$pid"
        return 1
    fi
}

# guest_start NAME RUNDIR MEM DISK...
# MEM is in MiB (and 8 KiB more, see below), or a size with its unit (256M).
# DISK is PATH or PATH:FORMAT; without FORMAT, qemu-img detects it. Starts a
# daemonized TCG QEMU, registers its kill with cleanup_push, and returns once
# QMP is listening. The command line holds nothing a migration tool could not
# replay on another host (no inherited fds, only paths and plain options).
# Call it directly, not under `run`: the cleanup it registers would be lost
# with run's subshell, leaving QEMU behind.
guest_start() {
    (($# >= 4)) || { echo "usage: guest_start NAME RUNDIR MEM DISK..." >&2; return 2; }
    local name="$1" rundir mem="$3"
    rundir="$(realpath -s "$2")"
    shift 3
    guest_require_built || return 1

    local qemu_dir="$rundir/qemu" log_dir="$rundir/guest"
    install -d -m 700 "$qemu_dir" "$log_dir"
    local qmp pidfile
    qmp="$(guest_qmp_socket "$name" "$rundir")"
    pidfile="$(guest_pidfile "$name" "$rundir")"

    # MEM MiB and 8 KiB: QEMU before 9.0 loses a TCG guest's RAM writes in a
    # migration when the RAM is a multiple of 256 KiB (lsm warns of it; see
    # lib/qemu/tcg_dirty_hazard.hpp); a size off that grain takes QEMU's
    # page-by-page sync, which is right. A size with its unit goes as is.
    [[ "$mem" =~ ^[0-9]+$ ]] && mem="$((mem * 1024 + 8))k"
    local args=(
        qemu-system-x86_64 -accel tcg -name "$name" -m "$mem" -smp 1
        -nodefaults -display none -no-reboot
        -qmp "unix:$qmp,server=on,wait=off"
        -qmp "unix:$(guest_test_qmp_socket "$name" "$rundir"),server=on,wait=off"
        -kernel "$LSM_GUEST_KERNEL" -initrd "$LSM_GUEST_INITRD"
        -append "console=ttyS0 panic=-1 lsm.blocks=$LSM_GUEST_BLOCKS${LSM_GUEST_APPEND:+ $LSM_GUEST_APPEND}"
        -serial "file:$(guest_console_log "$name" "$rundir")"
        -serial "file:$(guest_ack_log "$name" "$rundir")"
        -daemonize -pidfile "$pidfile"
    )
    local disk path fmt i=0
    for disk in "$@"; do
        path="$disk" fmt=""
        if [[ "$disk" =~ ^(.+):(raw|qcow2|qed|vmdk|vdi|vpc|vhdx)$ ]]; then
            path="${BASH_REMATCH[1]}" fmt="${BASH_REMATCH[2]}"
        fi
        [[ -e "$path" ]] || { echo "guest_start: disk $path does not exist; create it with qemu-img create" >&2; return 1; }
        [[ -n "$fmt" ]] || fmt="$(_guest_format "$path")"
        # Absolute, so the command line means the same from any directory.
        path="$(realpath -s "$path")"
        # QEMU option values escape commas by doubling them.
        args+=(-drive "file=${path//,/,,},format=$fmt,if=none,id=disk$i,cache=none,node-name=fmt$i,file.node-name=file$i"
               -device "virtio-blk-pci,drive=disk$i,serial=disk$i")
        i=$((i + 1))
    done

    # The daemon keeps every fd it inherits but 0-2; holding bats' output
    # pipes would make bats wait for QEMU forever.
    local err="$log_dir/$name-qemu.err"
    if ! (
        for fd in /proc/self/fd/*; do
            fd="${fd##*/}"
            ((fd > 2)) && eval "exec $fd>&-"
        done
        exec "${args[@]}"
    ) 2>"$err" </dev/null >/dev/null; then
        echo "guest_start: QEMU for $name failed: $(tr '\n' ' ' <"$err")" >&2
        return 1
    fi
    local pid
    pid="$(cat "$pidfile")"
    cleanup_push _guest_kill_pid "$pid" 10
    wait_until 10 test -S "$qmp" || {
        echo "guest_start: $qmp did not appear within 10s" >&2
        return 1
    }
}

# guest_stop NAME RUNDIR [TIMEOUT]: clean QEMU shutdown (SIGTERM), waits for it.
guest_stop() {
    local pidfile pid
    pidfile="$(guest_pidfile "$1" "$2")"
    [[ -f "$pidfile" ]] || return 0
    pid="$(cat "$pidfile")"
    _guest_kill_pid "$pid" "${3:-30}"
}

# guest_qmp NAME RUNDIR COMMAND-JSON...: runs the commands on the guest's
# test monitor; prints QEMU's replies, fails if one of them is an error.
guest_qmp() {
    local sock out
    sock="$(guest_test_qmp_socket "$1" "$2")"
    shift 2
    out="$({ echo '{"execute":"qmp_capabilities"}'; printf '%s\n' "$@"; sleep 0.5; } |
        socat -t 5 - "UNIX-CONNECT:$sock")" || return
    echo "$out"
    (($(grep -c '^{"return"' <<<"$out") == $# + 1)) && ! grep -q '^{"error"' <<<"$out"
}

# guest_watch_events NAME RUNDIR LOG: QMP events of the guest, as QEMU sends
# them, appended to LOG until the test's cleanup.
guest_watch_events() {
    local sock fifo="$3.fifo"
    sock="$(guest_test_qmp_socket "$1" "$2")"
    mkfifo "$fifo"
    socat - "UNIX-CONNECT:$sock" <"$fifo" >>"$3" 2>&1 3>&- &
    cleanup_push kill "$!"
    { echo '{"execute":"qmp_capabilities"}'; exec sleep infinity; } >"$fifo" 3>&- &
    cleanup_push kill "$!"
}

# guest_acked ACKLOG... DISKID: prints the highest generation DISKID acked in
# any of the logs (0 if none). Missing logs count as empty, so a migration
# destination's log can be passed before it exists. A log may also be a
# console log that carries kernel messages too (a Xen guest acking on its
# console, logged by xenconsoled with --timestamp): only lines that are
# exactly an ack, after the optional timestamp, count.
guest_acked() {
    (($# >= 2)) || { echo "usage: guest_acked ACKLOG... DISKID" >&2; return 2; }
    local id="${!#}" log logs=()
    for log in "${@:1:$#-1}"; do
        [[ -f "$log" ]] && logs+=("$log")
    done
    ((${#logs[@]} > 0)) || { echo 0; return 0; }
    # A line still being written, or split between the source's and the
    # destination's log by a migration, shows at most a prefix of its number,
    # never a larger one: live logs only ever understate the acked generation.
    # A kernel message that cuts into an ack line spoils that line only:
    # NF != 3 or a non-number, never a larger number.
    awk -v id="$id" '
        { sub(/\r$/, ""); sub(/^\[[0-9][0-9-]* [0-9][0-9:.]*\] /, "") }
        NF == 3 && $1 == "lsm-ack" && $2 == id && $3 ~ /^[0-9]+$/ && $3 + 0 > max { max = $3 + 0 }
        END { printf "%d\n", max }' "${logs[@]}"
}

_guest_acked_at_least() { (($(guest_acked "$1" "$2") >= $3)); }

# guest_wait_acks ACKLOG DISKID MINGEN TIMEOUT: waits until DISKID acked
# MINGEN or later; on timeout says how far it got and shows the console tail.
guest_wait_acks() {
    local log="$1" id="$2" min="$3" timeout="$4"
    wait_until "$timeout" _guest_acked_at_least "$log" "$id" "$min" && return 0
    echo "guest_wait_acks: $id acked up to generation $(guest_acked "$log" "$id"), wanted $min within ${timeout}s ($log); console tail follows" >&2
    tail -n 15 "${log%-ack.log}-console.log" >&2 2>/dev/null || true
    return 1
}

# guest_verify IMAGE DISKID ACKED [BLOCKS]: runs lsm-guest-verify on IMAGE
# (non-raw images are converted to a temporary raw copy first). Its status
# and one-line output pass through: 0 good, 1 bad image, 2 usage.
guest_verify() {
    local image="$1" id="$2" acked="$3" blocks="${4:-$LSM_GUEST_BLOCKS}"
    local fmt raw="$image" tmp="" rc=0
    fmt="$(_guest_format "$image")"
    [[ -n "$fmt" ]] || { echo "guest_verify: qemu-img cannot read $image" >&2; return 2; }
    if [[ "$fmt" != raw ]]; then
        tmp="$(mktemp -d /tmp/lsm-verify.XXXXXX)"
        raw="$tmp/image.raw"
        qemu-img convert -U -O raw "$image" "$raw" || { rm -rf "$tmp"; return 2; }
    fi
    "$LSM_GUEST_VERIFY" --blocks "$blocks" --acked "$acked" --id "$id" "$raw" || rc=$?
    [[ -z "$tmp" ]] || rm -rf "$tmp"
    return "$rc"
}
