# Two "hosts" as two run directories on this machine, for tests of the
# tools alone and of the phases piped by hand without ssh: the destination
# sees the source's paths under --map "$SRC=$DST". Load after
# helpers/common and helpers/blank_vm.

# local_pair_images: sets T, SRC, DST, creates a raw and a qcow2 disk
# holding some data, and sets DISK_ARGS to attach them as "da" and "db".
# The destination's host policy ($T/policy.conf) has $T as image root.
local_pair_images() {
    make_scratch T
    SRC="$T/src" DST="$T/dst"
    mkdir -p "$SRC/img" "$DST/img"
    test_policy "$T/policy.conf" "$T"
    qemu-img create -q -f raw "$SRC/img/a.raw" 64M
    qemu-img create -q -f qcow2 "$SRC/img/b.qcow2" 32M
    qemu-io -f raw -c 'write -P 0x5a 1M 4M' "$SRC/img/a.raw" >/dev/null
    qemu-io -f qcow2 -c 'write -P 0xa5 8M 2M' "$SRC/img/b.qcow2" >/dev/null
    mapfile -t DISK_ARGS < <(blank_vm_disk "$SRC/img/a.raw" raw da; blank_vm_disk "$SRC/img/b.qcow2" qcow2 db)
}

# local_pair_setup [QEMU-ARGS...]: local_pair_images, and the blank VM "vm"
# running on them (paused with -S).
local_pair_setup() {
    local_pair_images
    blank_vm_start vm "$SRC" "$@" "${DISK_ARGS[@]}"
    # A committed destination VM is no longer lsm's to roll back: kill it.
    cleanup_push pkill -KILL -f -- "unix:$DST/qemu/vm.qmp"
    cleanup_push lsm-resume receive vm --rollback --run-dir "$DST"
}

# Phase 1 by hand.
local_prepare() {
    lsm-dmstate send vm --run-dir "$SRC" | lsm-dmstate receive --run-dir "$DST" --map "$SRC=$DST" >"$T/prepared.json"
}

# Phase 2 by hand; the destination's socket is reachable directly.
local_mirror() {
    lsm-mirror receive vm --run-dir "$DST" | lsm-mirror send vm --run-dir "$SRC" --socket "$DST/lsm/vm.nbd" "$@"
}

# Phase 3 and the commit by hand, the destination's answers on a fifo back
# to the source; both results in $T/report.
local_commit() {
    mkfifo "$T/answers"
    lsm-ramstream send vm --run-dir "$SRC" --commit --report "$T/report" <"$T/answers" |
        lsm-ramstream receive vm --run-dir "$DST" >"$T/answers"
}
