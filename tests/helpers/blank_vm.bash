# A VM without a guest OS (firmware idling), for tool tests that need a real
# QEMU with disks and RAM to migrate but no guest activity. Load after
# helpers/common.

# blank_vm_start NAME RUNDIR [QEMU-ARGS...]
# Starts QEMU the way users do (-name, -qmp in RUNDIR/qemu), daemonized, and
# registers its kill. Sets BLANK_VM_PID (call it directly, not in $(...),
# or the cleanup registration is lost with the subshell).
blank_vm_start() {
    local name="$1" rundir="$2"
    shift 2
    install -d -m 700 "$rundir/qemu"
    local pidfile="$rundir/qemu/$name.pid"
    # 64 MiB and 8 KiB: a RAM size lsm does not warn of (guest_start says why).
    qemu-system-x86_64 -accel tcg -name "$name" -m 65544k -nodefaults -display none \
        -qmp "unix:$rundir/qemu/$name.qmp,server=on,wait=off" \
        -daemonize -pidfile "$pidfile" "$@" 3>&-
    local pid
    pid="$(cat "$pidfile")"
    cleanup_push kill -9 "$pid"
    BLANK_VM_PID="$pid"
}

# A -drive/-device pair for a disk image with the given id.
blank_vm_disk() {
    local path="$1" format="$2" id="$3"
    printf '%s\n' -drive "file=$path,format=$format,if=none,id=$id" \
        -device "virtio-blk-pci,drive=$id"
}

# Whether the VM NAME is running, asked of QEMU itself through lsm-dmstate.
vm_running() {
    lsm-dmstate send "$1" --run-dir "$2" --dry-run | grep -q '"running":true'
}
